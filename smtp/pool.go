package smtp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/wneessen/go-mail"
	gosmtp "github.com/wneessen/go-mail/smtp"
)

// Mail is one message of a campaign: plain text, with extra headers
// (List-Unsubscribe and its kin) written as they are given.
type Mail struct {
	To      string
	Subject string
	Text    string
	// HTML, when set, is an alternative HTML part.
	HTML string
	// Headers are added as they are; the DKIM signature covers them.
	Headers map[string]string
}

// DKIM is a signing key for DomainKeys Identified Mail (RFC 6376).
type DKIM struct {
	Domain   string // d=
	Selector string // s=
	Key      []byte // PEM: an RSA key (PKCS #1 or #8) or an Ed25519 key (PKCS #8)
}

// LoadDKIM reads the DKIM key from the file named by keyFile. The key never
// reaches a log, a flag or a URL: only the file's name is configured.
func LoadDKIM(keyFile, domain, selector string) (*DKIM, error) {
	if domain == "" || selector == "" {
		return nil, errors.New("smtp: DKIM needs a domain and a selector (CANDOR_DKIM_DOMAIN, CANDOR_DKIM_SELECTOR)")
	}
	key, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, errors.New("smtp: the DKIM key file cannot be read")
	}
	return &DKIM{Domain: domain, Selector: selector, Key: key}, nil
}

// SignedHeaders are the headers the DKIM signature covers: RFC 6376's
// recommended set and RFC 8058's List-Unsubscribe and List-Unsubscribe-Post,
// which a receiver honours only when they are signed.
var SignedHeaders = []string{"From", "To", "Subject", "Date", "Message-ID", "Content-Type", "MIME-Version",
	"List-Unsubscribe", "List-Unsubscribe-Post"}

// Pool sends campaign mail over a few SMTP connections kept open and
// reused, one message at a time on each, so that several workers send at
// once without a new connection (and TLS handshake) per message. go-mail
// composes each message and speaks SMTP; go-msgauth signs it (DKIM).
type Pool struct {
	from   string
	opts   []mail.Option
	host   string
	dkim   *dkim.SignOptions
	client *mail.Client        // dials; holds no connection of its own
	conns  chan *gosmtp.Client // idle connections; nil entries are slots not yet dialed
}

// NewPool configures a pool of size connections (at least 1) to the SMTP
// server of rawURL (as for [New]), sending from from, signing with key
// when it is not nil. Connections are dialed when first needed.
func NewPool(rawURL, from string, size int, key *DKIM) (*Pool, error) {
	opts, host, err := options(rawURL)
	if err != nil {
		return nil, err
	}
	if from == "" {
		return nil, errors.New("smtp: a From address is required")
	}
	p := &Pool{from: from, opts: opts, host: host}
	if key != nil {
		signer, err := mail.PrivKeyFromPEM(key.Key)
		if err != nil {
			return nil, errors.New("smtp: the DKIM key is not a PEM RSA or Ed25519 private key")
		}
		p.dkim = &dkim.SignOptions{Domain: key.Domain, Selector: key.Selector, Signer: signer, HeaderKeys: SignedHeaders,
			HeaderCanonicalization: dkim.CanonicalizationRelaxed, BodyCanonicalization: dkim.CanonicalizationRelaxed}
	}
	if p.client, err = mail.NewClient(host, opts...); err != nil {
		return nil, fmt.Errorf("smtp: client: %w", err)
	}
	size = max(size, 1)
	p.conns = make(chan *gosmtp.Client, size)
	for i := 0; i < size; i++ {
		p.conns <- nil
	}
	return p, nil
}

// Send sends m on an idle connection, dialing one if none is open. A
// connection that fails is closed and dialed again by the next message.
// The error names no address.
func (p *Pool) Send(ctx context.Context, m Mail) error {
	msg, err := p.message(m)
	if err != nil {
		return err
	}
	var raw bytes.Buffer
	if _, err := msg.WriteTo(&raw); err != nil {
		return errors.New("smtp: the message could not be written")
	}
	data := raw.Bytes()
	if p.dkim != nil {
		var signed bytes.Buffer
		if err := dkim.Sign(&signed, bytes.NewReader(data), p.dkim); err != nil {
			return errors.New("smtp: the message could not be signed")
		}
		data = signed.Bytes()
	}
	var c *gosmtp.Client
	select {
	case c = <-p.conns:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { p.conns <- c }()
	if c != nil {
		// go-mail gives a connection a deadline when it dials it; a
		// connection kept open is given a new one for each message, or
		// it would fail the first message sent after that deadline.
		if err := c.UpdateDeadline(connTimeout); err != nil || c.Reset() != nil {
			c.Close()
			c = nil
		}
	}
	if c == nil {
		if c, err = p.client.DialToSMTPClientWithContext(ctx); err != nil {
			c = nil
			return errors.New("smtp: the server could not be reached")
		}
	}
	if err := transmit(c, p.from, m.To, data); err != nil {
		c.Close()
		c = nil
		return errors.New("smtp: the message could not be sent")
	}
	return nil
}

func transmit(c *gosmtp.Client, from, to string, data []byte) error {
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

// message builds m as a go-mail message.
func (p *Pool) message(m Mail) (*mail.Msg, error) {
	msg := mail.NewMsg()
	if err := msg.From(p.from); err != nil {
		return nil, errors.New("smtp: the From address is not valid")
	}
	if err := msg.To(m.To); err != nil {
		return nil, errors.New("smtp: the recipient address is not valid")
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageID()
	for k, v := range m.Headers {
		if strings.ContainsAny(k+v, "\r\n") {
			return nil, errors.New("smtp: a header holds a line break")
		}
		msg.SetGenHeaderPreformatted(mail.Header(k), v)
	}
	msg.SetBodyString(mail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

// Close closes the open connections.
func (p *Pool) Close() error {
	for i := 0; i < cap(p.conns); i++ {
		select {
		case c := <-p.conns:
			if c != nil {
				c.Quit()
			}
		case <-time.After(10 * time.Second):
			return errors.New("smtp: a message is still being sent")
		}
	}
	return nil
}
