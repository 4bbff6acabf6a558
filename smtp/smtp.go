// Package smtp sends Candor's e-mail (verification codes) over SMTP with
// github.com/wneessen/go-mail.
package smtp

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/wneessen/go-mail"
)

// Sender sends plain-text e-mail through one SMTP server.
type Sender struct {
	from string
	opts []mail.Option
	host string
}

// New configures a sender from a URL, smtp://[user:password@]host[:port]
// with ?tls=starttls (the default: STARTTLS required), tls (implicit TLS,
// port 465) or none (loopback and tests only), and the From address.
// Errors never quote the URL (it may hold a password).
func New(rawURL, from string) (*Sender, error) {
	opts, host, err := options(rawURL)
	if err != nil {
		return nil, err
	}
	if from == "" {
		return nil, errors.New("smtp: a From address is required")
	}
	return &Sender{from: from, opts: opts, host: host}, nil
}

// connTimeout bounds each exchange with the server: the dial, and each
// message on a connection a [Pool] keeps open.
const connTimeout = 10 * time.Second

// options reads an smtp:// URL into go-mail's options and the host.
func options(rawURL string) ([]mail.Option, string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
		return nil, "", errors.New("smtp: the URL is not valid: want smtp://user:password@host:port?tls=starttls|tls|none")
	}
	opts := []mail.Option{mail.WithTimeout(connTimeout)}
	tlsMode := u.Query().Get("tls")
	if u.Scheme == "smtps" {
		tlsMode = "tls"
	}
	port := 587
	switch tlsMode {
	case "", "starttls":
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	case "tls":
		opts = append(opts, mail.WithSSL())
		port = 465
	case "none":
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
		port = 25
	default:
		return nil, "", errors.New("smtp: tls must be starttls, tls or none")
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			return nil, "", errors.New("smtp: the port is not a number")
		}
	}
	opts = append(opts, mail.WithPort(port))
	if u.User != nil {
		pw, _ := u.User.Password()
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthPlain), mail.WithUsername(u.User.Username()), mail.WithPassword(pw))
	}
	return opts, u.Hostname(), nil
}

// Send sends one plain-text message. The error names no address.
func (s *Sender) Send(ctx context.Context, to, subject, body string) error {
	m := mail.NewMsg()
	if err := m.From(s.from); err != nil {
		return errors.New("smtp: the From address is not valid")
	}
	if err := m.To(to); err != nil {
		return errors.New("smtp: the recipient address is not valid")
	}
	m.Subject(subject)
	m.SetBodyString(mail.TypeTextPlain, body)
	c, err := mail.NewClient(s.host, s.opts...)
	if err != nil {
		return fmt.Errorf("smtp: client: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, m); err != nil {
		return errors.New("smtp: the message could not be sent")
	}
	return nil
}
