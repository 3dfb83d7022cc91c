package contracttest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/taskd/taskd/modules/notifications/app/command"
	n "github.com/taskd/taskd/modules/notifications/domain/notification"
)

// The e-mail stand-ins of deploy/local (bash deploy/local/standins.sh
// start; eval "$(bash deploy/local/standins.sh env)"): aws-ses-v2-local and
// an SMTP sink, each with an HTTP API to read what they received. Tests
// that need one skip under -short or when it does not answer, unless
// TASKD_TEST_REQUIRE_SERVICES=1, where that fails.

// Mail is a message as a stand-in received it.
type Mail struct {
	From      string
	To        []string
	Subject   string
	Text      string
	MessageID string
	Headers   map[string]string
}

// Mailbox reads what a stand-in received.
type Mailbox interface {
	// To returns the messages received for address, oldest first.
	To(ctx context.Context, address string) ([]Mail, error)
}

func requireStandIn(t testing.TB, what, healthURL string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("%s test skipped in -short mode", what)
	}
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(healthURL)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("GET %s: %s", healthURL, resp.Status)
		}
	}
	if err != nil {
		if os.Getenv("TASKD_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatalf("%s is required (TASKD_TEST_REQUIRE_SERVICES=1) but unreachable: %v", what, err)
		}
		t.Skipf("%s unreachable, skipping (bash deploy/local/standins.sh start): %v", what, err)
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// SESStandIn is aws-ses-v2-local.
type SESStandIn struct {
	// Endpoint is the SES API (AWS_ENDPOINT_URL_SESV2), StoreURL its mail
	// view (TASKD_TEST_SES_URL); the same server.
	Endpoint string
	StoreURL string
}

// RequireSES returns the SES stand-in, skipping t when it is not there.
func RequireSES(t testing.TB) SESStandIn {
	t.Helper()
	s := SESStandIn{
		Endpoint: envOr("AWS_ENDPOINT_URL_SESV2", "http://127.0.0.1:18005"),
		StoreURL: strings.TrimRight(envOr("TASKD_TEST_SES_URL", "http://127.0.0.1:18005"), "/"),
	}
	requireStandIn(t, "the SES stand-in", s.StoreURL+"/health-check")
	return s
}

type sesStore struct {
	Emails []struct {
		MessageID   string `json:"messageId"`
		From        string `json:"from"`
		Destination struct {
			To []string `json:"to"`
		} `json:"destination"`
		Subject string `json:"subject"`
		Body    struct {
			Text string `json:"text"`
		} `json:"body"`
		Headers []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"headers"`
	} `json:"emails"`
}

// To implements Mailbox: GET /store, filtered by recipient.
func (s SESStandIn) To(ctx context.Context, address string) ([]Mail, error) {
	var st sesStore
	if err := getJSON(ctx, s.StoreURL+"/store", &st); err != nil {
		return nil, err
	}
	var out []Mail
	for _, e := range st.Emails {
		if !containsFold(e.Destination.To, address) {
			continue
		}
		m := Mail{From: e.From, To: e.Destination.To, Subject: e.Subject, Text: e.Body.Text, MessageID: e.MessageID, Headers: map[string]string{}}
		for _, h := range e.Headers {
			m.Headers[strings.ToLower(h.Name)] = h.Value
		}
		out = append(out, m)
	}
	return out, nil
}

// SMTPStandIn is the SMTP sink.
type SMTPStandIn struct {
	Host string
	Port int
	API  string // TASKD_TEST_SMTP_API
}

// RequireSMTP returns the SMTP sink, skipping t when it is not there.
func RequireSMTP(t testing.TB) SMTPStandIn {
	t.Helper()
	addr := envOr("TASKD_TEST_SMTP_ADDR", "127.0.0.1:11025")
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("TASKD_TEST_SMTP_ADDR %q: %v", addr, err)
	}
	s := SMTPStandIn{Host: host, API: strings.TrimRight(envOr("TASKD_TEST_SMTP_API", "http://127.0.0.1:11080"), "/")}
	fmt.Sscan(port, &s.Port)
	requireStandIn(t, "the SMTP sink", s.API+"/health")
	return s
}

type sinkMessage struct {
	MessageID string         `json:"messageId"`
	From      string         `json:"from"`
	Subject   string         `json:"subject"`
	Text      string         `json:"text"`
	Headers   map[string]any `json:"headers"`
	Envelope  struct {
		To []string `json:"to"`
	} `json:"envelope"`
}

// To implements Mailbox: GET /messages?to=ADDR.
func (s SMTPStandIn) To(ctx context.Context, address string) ([]Mail, error) {
	var raw []json.RawMessage
	if err := getJSON(ctx, s.API+"/messages?to="+url.QueryEscape(address), &raw); err != nil {
		return nil, err
	}
	var out []Mail
	for _, r := range raw {
		var m sinkMessage
		if err := json.Unmarshal(r, &m); err != nil {
			return nil, fmt.Errorf("SMTP sink message %s: %w", r, err)
		}
		// The envelope's recipients: whom the server delivers to.
		mail := Mail{From: m.From, To: m.Envelope.To, Subject: m.Subject, Text: m.Text, MessageID: m.MessageID, Headers: map[string]string{}}
		for k, v := range m.Headers {
			if s, ok := v.(string); ok {
				mail.Headers[strings.ToLower(k)] = s
			}
		}
		out = append(out, mail)
	}
	return out, nil
}

func getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s %s", u, resp.Status, b)
	}
	return json.Unmarshal(b, v)
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(strings.TrimSpace(x), s) || strings.Contains(strings.ToLower(x), "<"+strings.ToLower(s)+">") {
			return true
		}
	}
	return false
}

// WaitForMail polls box until address has want messages (then waits a
// little longer to see that no more come) and returns them.
func WaitForMail(t testing.TB, box Mailbox, address string, want int, timeout time.Duration) []Mail {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got, err := box.To(context.Background(), address)
		if err != nil {
			t.Fatalf("reading mail of %s: %v", address, err)
		}
		if len(got) >= want {
			if len(got) > want {
				t.Fatalf("%s received %d messages, want %d: %+v", address, len(got), want, got)
			}
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s received %d messages within %s, want %d", address, len(got), timeout, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// EmailCase configures the EmailSender contract for one adapter.
type EmailCase struct {
	Sender command.EmailSender
	Box    Mailbox
	From   string
	// Rejected is an address the server refuses ("" when it refuses none).
	Rejected string
	// Down is a sender of the same kind pointed at nothing listening.
	Down command.EmailSender
}

// EmailSender is the contract of the e-mail channel's adapters (SMTP, SES),
// against their real stand-ins: one message arrives once, to exactly its
// recipient, with its Korean subject and text; a refused recipient is a
// permanent failure, a server that is down a transient one.
func EmailSender(t *testing.T, c EmailCase) {
	ctx := context.Background()
	t.Run("one message arrives once, to its recipient", func(t *testing.T) {
		t.Parallel()
		to := "u-" + newID() + "@example.com"
		e := n.Email{ID: NewEventID(), To: to, Subject: "[상태 변경] 주간 보고서 ✓", Text: "김철수님이 작업 “주간 보고서”의 상태를 바꾸었습니다.\n상태: 대기 → 진행 중\nhttps://taskd.example/tasks/1"}
		id, err := c.Sender.SendEmail(ctx, e)
		must(t, err)
		if id == "" {
			t.Error("no provider id")
		}
		got := WaitForMail(t, c.Box, to, 1, 10*time.Second)[0]
		if got.Subject != e.Subject {
			t.Errorf("subject %q, want %q", got.Subject, e.Subject)
		}
		if strings.TrimSpace(strings.ReplaceAll(got.Text, "\r\n", "\n")) != e.Text {
			t.Errorf("text %q, want %q", got.Text, e.Text)
		}
		if !strings.Contains(got.From, c.From) {
			t.Errorf("from %q, want %q", got.From, c.From)
		}
		if len(got.To) != 1 || !containsFold(got.To, to) {
			t.Errorf("to %v", got.To)
		}
	})
	t.Run("a malformed recipient is a permanent failure", func(t *testing.T) {
		t.Parallel()
		_, err := c.Sender.SendEmail(ctx, n.Email{ID: NewEventID(), To: "not an address", Subject: "s", Text: "t"})
		if err == nil || !n.IsPermanent(err) {
			t.Fatalf("err = %v, want a permanent error", err)
		}
	})
	if c.Rejected != "" {
		t.Run("a refused recipient is a permanent failure", func(t *testing.T) {
			t.Parallel()
			_, err := c.Sender.SendEmail(ctx, n.Email{ID: NewEventID(), To: c.Rejected, Subject: "s", Text: "t"})
			if err == nil || !n.IsPermanent(err) {
				t.Fatalf("err = %v, want a permanent error", err)
			}
		})
	}
	if c.Down != nil {
		t.Run("a server that is down is a transient failure", func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			_, err := c.Down.SendEmail(ctx, n.Email{ID: NewEventID(), To: "x@example.com", Subject: "s", Text: "t"})
			if err == nil || n.IsPermanent(err) {
				t.Fatalf("err = %v, want a transient error", err)
			}
		})
	}
}

// ClosedPort returns a loopback address where nothing listens.
func ClosedPort(t testing.TB) (string, int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		t.Fatal(err)
	}
	return "127.0.0.1", addr.Port
}
