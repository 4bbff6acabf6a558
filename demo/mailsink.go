package demo

import (
	"errors"
	"io"
	"net"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"
)

// MailSink is an SMTP server on loopback that accepts every message and
// delivers none: where `candor serve -demo` has no mail server of its own,
// the demo's campaign is sent to it through the real path (the campaign
// service, its checks for each person, the send log, the SMTP pool), so
// the console shows what was really sent. It keeps no message, only how
// many it accepted.
type MailSink struct {
	// URL is the sink's address, as CANDOR_SMTP_URL takes it.
	URL string
	n   atomic.Int64
	srv *smtp.Server
}

// NewMailSink starts a sink on 127.0.0.1 (a free port). Close stops it.
func NewMailSink() (*MailSink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	ms := &MailSink{URL: "smtp://" + ln.Addr().String() + "?tls=none"}
	ms.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &sinkSession{ms: ms}, nil }))
	ms.srv.Domain = "localhost"
	ms.srv.ReadTimeout, ms.srv.WriteTimeout = 30*time.Second, 30*time.Second
	ms.srv.MaxMessageBytes = 1 << 20
	go ms.srv.Serve(ln)
	return ms, nil
}

// Received returns how many messages the sink accepted.
func (ms *MailSink) Received() int { return int(ms.n.Load()) }

// Close stops the sink.
func (ms *MailSink) Close() error {
	if err := ms.srv.Close(); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
		return err
	}
	return nil
}

type sinkSession struct {
	ms    *MailSink
	rcpts int
}

func (s *sinkSession) Reset()                               { s.rcpts = 0 }
func (s *sinkSession) Logout() error                        { return nil }
func (s *sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *sinkSession) Rcpt(string, *smtp.RcptOptions) error { s.rcpts++; return nil }
func (s *sinkSession) Data(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	if s.rcpts > 0 {
		s.ms.n.Add(1)
	}
	return nil
}
