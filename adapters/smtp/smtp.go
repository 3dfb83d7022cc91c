// Package smtp sends the notifications module's e-mail through an SMTP
// server (TASKD_EMAIL=smtp, TASKD_SMTP_*), with the standard library's
// net/smtp: a few sessions kept open between messages, STARTTLS required
// unless turned off, implicit TLS on port 465, AUTH PLAIN when a user name
// is set.
//
// Delivery guarantee: at least once. The Message-ID is derived from the
// delivery id, so a message sent again after a crash between the server's
// 250 and the delivery being recorded sent is the same message to the
// recipient's mail client, which shows it once.
package smtp

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	netsmtp "net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"time"

	n "github.com/taskd/taskd/modules/notifications/domain/notification"
)

// Config is the SMTP server and the sender.
type Config struct {
	Host     string
	Port     int // default 587; 465 means implicit TLS
	Username string
	Password string
	// StartTLS requires STARTTLS (refusing a server that does not offer
	// it). Turn it off only for a server on a trusted network.
	StartTLS bool
	// From is the sender address (TASKD_EMAIL_FROM), optionally with a name.
	From string
	// Timeout bounds a whole send when the context has no deadline (default 30s).
	Timeout time.Duration
	// MaxIdle sessions are kept open between messages (default 8, the
	// dispatcher's parallelism; a new session costs a TCP and TLS handshake
	// and AUTH), each for at most IdleTimeout (default 30s).
	MaxIdle     int
	IdleTimeout time.Duration
	// TLSConfig overrides the TLS settings (tests); nil: verify Host.
	TLSConfig *tls.Config
}

// Sender implements the notifications module's EmailSender.
type Sender struct {
	cfg  Config
	from *mail.Address

	mu   sync.Mutex
	idle []*conn
}

// New checks cfg and returns the sender.
func New(cfg Config) (*Sender, error) {
	if cfg.Host == "" {
		return nil, errors.New("smtp: a host is required")
	}
	if cfg.Port == 0 {
		cfg.Port = 587
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.MaxIdle == 0 {
		cfg.MaxIdle = 8
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 30 * time.Second
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("smtp: sender address %q: %w", cfg.From, err)
	}
	return &Sender{cfg: cfg, from: from}, nil
}

// Guarantee implements EmailSender: at least once (see the package comment).
func (s *Sender) Guarantee() n.Guarantee { return n.AtLeastOnce }

// MessageID is the Message-ID of delivery id.
func (s *Sender) MessageID(id string) string {
	domain := "taskd.invalid"
	if at := strings.LastIndexByte(s.from.Address, '@'); at >= 0 {
		domain = s.from.Address[at+1:]
	}
	return "<" + id + "@" + domain + ">"
}

// SendEmail implements EmailSender. A 5xx answer (an unknown recipient, a
// refused message) is permanent; 4xx answers and network errors are not.
func (s *Sender) SendEmail(ctx context.Context, e n.Email) (string, error) {
	to, err := mail.ParseAddress(e.To)
	if err != nil {
		return "", n.Permanent(fmt.Errorf("smtp: recipient %q: %w", e.To, err))
	}
	id := s.MessageID(e.ID)
	msg, err := s.compose(e, to, id)
	if err != nil {
		return "", n.Permanent(err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.cfg.Timeout)
		defer cancel()
	}
	if err := s.send(ctx, to.Address, msg); err != nil {
		return "", classify(err)
	}
	return id, nil
}

// conn is one SMTP session, ready for MAIL FROM.
type conn struct {
	c     *netsmtp.Client
	raw   net.Conn
	since time.Time
}

func (c *conn) close() { c.c.Close() }

// take returns an idle session, or nil.
func (s *Sender) take() *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.idle) > 0 {
		c := s.idle[len(s.idle)-1]
		s.idle = s.idle[:len(s.idle)-1]
		if time.Since(c.since) < s.cfg.IdleTimeout {
			return c
		}
		c.close()
	}
	return nil
}

// put keeps a session for the next message, or ends it.
func (s *Sender) put(c *conn) {
	c.since = time.Now()
	s.mu.Lock()
	if len(s.idle) < s.cfg.MaxIdle {
		s.idle = append(s.idle, c)
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	_ = c.c.Quit()
}

// Close ends the idle sessions.
func (s *Sender) Close() error {
	s.mu.Lock()
	idle := s.idle
	s.idle = nil
	s.mu.Unlock()
	for _, c := range idle {
		_ = c.c.Quit()
	}
	return nil
}

// dial opens a session: greeting, EHLO, STARTTLS, AUTH.
func (s *Sender) dial(ctx context.Context) (_ *conn, err error) {
	addr := net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port))
	tlsConfig := s.cfg.TLSConfig
	if tlsConfig == nil {
		tlsConfig = &tls.Config{ServerName: s.cfg.Host, MinVersion: tls.VersionTLS12}
	}
	var raw net.Conn
	if s.cfg.Port == 465 {
		raw, err = (&tls.Dialer{Config: tlsConfig}).DialContext(ctx, "tcp", addr)
	} else {
		raw, err = (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, fmt.Errorf("smtp: connecting to %s: %w", addr, err)
	}
	if d, ok := ctx.Deadline(); ok {
		_ = raw.SetDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	defer stop()
	c, err := netsmtp.NewClient(raw, s.cfg.Host)
	if err != nil {
		raw.Close()
		return nil, fmt.Errorf("smtp: greeting: %w", err)
	}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	if err := c.Hello("localhost"); err != nil {
		return nil, fmt.Errorf("smtp: EHLO: %w", err)
	}
	if s.cfg.Port != 465 {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(tlsConfig); err != nil {
				return nil, fmt.Errorf("smtp: STARTTLS: %w", err)
			}
		} else if s.cfg.StartTLS {
			return nil, fmt.Errorf("smtp: %s does not offer STARTTLS (set TASKD_SMTP_STARTTLS=false only on a trusted network)", addr)
		}
	}
	if s.cfg.Username != "" {
		if err := c.Auth(netsmtp.PlainAuth("", s.cfg.Username, s.cfg.Password, s.cfg.Host)); err != nil {
			return nil, fmt.Errorf("smtp: AUTH: %w", err)
		}
	}
	return &conn{c: c, raw: raw}, nil
}

// send delivers msg to one recipient on an idle session (checked with
// RSET) or a new one. A session is kept for the next message only after a
// clean delivery.
func (s *Sender) send(ctx context.Context, to string, msg []byte) error {
	c := s.take()
	if c != nil {
		if d, ok := ctx.Deadline(); ok {
			_ = c.raw.SetDeadline(d)
		}
		if err := c.c.Reset(); err != nil {
			c.close() // the server ended it meanwhile
			c = nil
		}
	}
	if c == nil {
		var err error
		if c, err = s.dial(ctx); err != nil {
			return err
		}
	}
	if d, ok := ctx.Deadline(); ok {
		_ = c.raw.SetDeadline(d)
	}
	// net/smtp has no context: the deadline bounds every read and write,
	// and a cancelled context closes the connection.
	stop := context.AfterFunc(ctx, func() { c.raw.Close() })
	err := s.transact(c.c, to, msg)
	if !stop() || err != nil {
		c.close()
		return err
	}
	_ = c.raw.SetDeadline(time.Time{})
	s.put(c)
	return nil
}

func (s *Sender) transact(c *netsmtp.Client, to string, msg []byte) error {
	if err := c.Mail(s.from.Address); err != nil {
		return fmt.Errorf("smtp: MAIL FROM: %w", err)
	}
	if err := c.Rcpt(to); err != nil {
		return fmt.Errorf("smtp: RCPT TO: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp: DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		w.Close()
		return fmt.Errorf("smtp: writing the message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp: end of DATA: %w", err)
	}
	return nil
}

// compose writes the message: UTF-8 text, quoted-printable, headers
// encoded per RFC 2047.
func (s *Sender) compose(e n.Email, to *mail.Address, messageID string) ([]byte, error) {
	if strings.ContainsAny(e.Subject, "\r\n") {
		e.Subject = strings.NewReplacer("\r", " ", "\n", " ").Replace(e.Subject)
	}
	var b bytes.Buffer
	h := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	h("From", s.from.String())
	h("To", to.String())
	h("Subject", mime.BEncoding.Encode("UTF-8", e.Subject))
	h("Date", time.Now().UTC().Format(time.RFC1123Z))
	h("Message-ID", messageID)
	h("MIME-Version", "1.0")
	h("Content-Type", `text/plain; charset="UTF-8"`)
	h("Content-Transfer-Encoding", "quoted-printable")
	h("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	text := strings.ReplaceAll(strings.ReplaceAll(e.Text, "\r\n", "\n"), "\n", "\r\n")
	if _, err := qp.Write([]byte(text)); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// classify marks the SMTP answers no retry can change permanent: 5xx,
// except authentication (530, 535: the operator can fix the credentials
// while the retries run).
func classify(err error) error {
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 && te.Code != 530 && te.Code != 535 {
		return n.Permanent(err)
	}
	return err
}
