// Package smtp sends the notifications module's e-mail through an SMTP
// server (TASKD_EMAIL=smtp, TASKD_SMTP_*), with the standard library's
// net/smtp: one connection per message, STARTTLS required unless turned
// off, implicit TLS on port 465, AUTH PLAIN when a user name is set.
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
	// TLSConfig overrides the TLS settings (tests); nil: verify Host.
	TLSConfig *tls.Config
}

// Sender implements the notifications module's EmailSender.
type Sender struct {
	cfg  Config
	from *mail.Address
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

func (s *Sender) send(ctx context.Context, to string, msg []byte) (err error) {
	addr := net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port))
	tlsConfig := s.cfg.TLSConfig
	if tlsConfig == nil {
		tlsConfig = &tls.Config{ServerName: s.cfg.Host, MinVersion: tls.VersionTLS12}
	}
	var conn net.Conn
	if s.cfg.Port == 465 {
		conn, err = (&tls.Dialer{Config: tlsConfig}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return fmt.Errorf("smtp: connecting to %s: %w", addr, err)
	}
	// net/smtp has no context: the deadline bounds every read and write,
	// and a cancelled context closes the connection.
	if d, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	c, err := netsmtp.NewClient(conn, s.cfg.Host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp: greeting: %w", err)
	}
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		return fmt.Errorf("smtp: EHLO: %w", err)
	}
	if s.cfg.Port != 465 {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(tlsConfig); err != nil {
				return fmt.Errorf("smtp: STARTTLS: %w", err)
			}
		} else if s.cfg.StartTLS {
			return fmt.Errorf("smtp: %s does not offer STARTTLS (set TASKD_SMTP_STARTTLS=false only on a trusted network)", addr)
		}
	}
	if s.cfg.Username != "" {
		if err := c.Auth(netsmtp.PlainAuth("", s.cfg.Username, s.cfg.Password, s.cfg.Host)); err != nil {
			return fmt.Errorf("smtp: AUTH: %w", err)
		}
	}
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
	// The message is accepted: a failing QUIT does not undo that.
	_ = c.Quit()
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
