package webhook_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/taskd/taskd/adapters/webhook"
	n "github.com/taskd/taskd/modules/notifications/domain/notification"
)

// receiver is a local webhook endpoint that answers with a script of
// statuses (then 204) and records bodies and arrival times.
type receiver struct {
	mu      sync.Mutex
	bodies  []map[string]any
	times   []time.Time
	script  []func(w http.ResponseWriter)
	started time.Time
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	r.mu.Lock()
	r.bodies = append(r.bodies, m)
	r.times = append(r.times, time.Now())
	i := len(r.bodies) - 1
	r.mu.Unlock()
	if req.Header.Get("Content-Type") != "application/json" {
		w.WriteHeader(http.StatusUnsupportedMediaType)
		return
	}
	if i < len(r.script) {
		r.script[i](w)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func status(code int, header ...string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(code)
	}
}

func serve(t *testing.T, r *receiver, path string) string {
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv.URL + path
}

// recordSleep replaces the backoff with a recorder that waits a little.
type recordSleep struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *recordSleep) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return ctx.Err()
}

var alert = n.Alert{Kind: n.AlertDeadLetter, Queue: "notifications", EventName: "TaskCreated", EventID: "e-1", Attempts: 5, Error: "boom @everyone"}

func TestSlackCompatiblePayloadAndRetriesHonouringRetryAfter(t *testing.T) {
	t.Parallel()
	r := &receiver{script: []func(http.ResponseWriter){
		status(http.StatusTooManyRequests, "Retry-After", "3"),
		status(http.StatusServiceUnavailable),
		status(http.StatusTooManyRequests, "Retry-After", time.Now().Add(10*time.Second).UTC().Format(http.TimeFormat)),
	}}
	s := &recordSleep{}
	p, err := webhook.New(webhook.Config{URL: serve(t, r, "/hooks/T000/B000/XXXX"), Sleep: s.sleep, Prefix: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Format() != webhook.FormatSlack {
		t.Fatalf("format %s", p.Format())
	}
	if err := p.PostAlert(context.Background(), alert); err != nil {
		t.Fatal(err)
	}
	if len(r.bodies) != 4 {
		t.Fatalf("%d posts, want 4 (three refused, one accepted)", len(r.bodies))
	}
	text, _ := r.bodies[3]["text"].(string)
	if !strings.HasPrefix(text, "[prod] taskd: an event landed in a dead-letter queue") || !strings.Contains(text, "event id: e-1") {
		t.Fatalf("payload %v", r.bodies[3])
	}
	if len(s.waits) != 3 || s.waits[0] != 3*time.Second || s.waits[1] != 2*time.Second ||
		s.waits[2] < 8*time.Second || s.waits[2] > 10*time.Second {
		t.Fatalf("waits %v: want Retry-After 3s, backoff 2s, the HTTP date's ~10s", s.waits)
	}
}

func TestDiscordPayloadAndRetryAfterInTheBody(t *testing.T) {
	t.Parallel()
	r := &receiver{script: []func(http.ResponseWriter){
		func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `{"message":"You are being rate limited.","retry_after":0.25,"global":false}`)
		},
	}}
	s := &recordSleep{}
	p, err := webhook.New(webhook.Config{URL: serve(t, r, "/api/webhooks/1/token"), Format: webhook.FormatDiscord, Sleep: s.sleep})
	if err != nil {
		t.Fatal(err)
	}
	long := alert
	long.Error = strings.Repeat("x", 5000)
	if err := p.PostAlert(context.Background(), long); err != nil {
		t.Fatal(err)
	}
	if len(s.waits) != 1 || s.waits[0] != 250*time.Millisecond {
		t.Fatalf("waits %v", s.waits)
	}
	content, _ := r.bodies[1]["content"].(string)
	if len([]rune(content)) > 2000 || !strings.HasPrefix(content, "taskd: an event landed") {
		t.Fatalf("content of %d characters: %.80s", len([]rune(content)), content)
	}
	if am, _ := r.bodies[1]["allowed_mentions"].(map[string]any); am == nil {
		t.Error("mentions are not disabled")
	}
}

func TestAutoFormatFollowsTheURL(t *testing.T) {
	t.Parallel()
	for u, want := range map[string]webhook.Format{
		"https://discord.com/api/webhooks/1/x":       webhook.FormatDiscord,
		"https://discordapp.com/api/webhooks/1/x":    webhook.FormatDiscord,
		"https://discord.com/api/webhooks/1/x/slack": webhook.FormatSlack,
		"https://hooks.slack.com/services/T/B/X":     webhook.FormatSlack,
		"https://chat.example/hooks/abc":             webhook.FormatSlack,
	} {
		p, err := webhook.New(webhook.Config{URL: u})
		if err != nil || p.Format() != want {
			t.Errorf("%s: %v %v", u, p.Format(), err)
		}
	}
	for _, bad := range []string{"", "ftp://x/y", "not a url", "/relative"} {
		if _, err := webhook.New(webhook.Config{URL: bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestClientErrorsAreNotRetriedAndTheTokenIsNotLeaked(t *testing.T) {
	t.Parallel()
	r := &receiver{script: []func(http.ResponseWriter){status(http.StatusNotFound)}}
	s := &recordSleep{}
	p, _ := webhook.New(webhook.Config{URL: serve(t, r, "/hooks/secret-token"), Sleep: s.sleep})
	err := p.PostAlert(context.Background(), alert)
	if err == nil || len(r.bodies) != 1 || len(s.waits) != 0 {
		t.Fatalf("err %v after %d posts", err, len(r.bodies))
	}
	if strings.Contains(err.Error(), "secret-token") {
		t.Fatalf("error leaks the token: %v", err)
	}
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	var script []func(http.ResponseWriter)
	for range 10 {
		script = append(script, status(http.StatusBadGateway))
	}
	r := &receiver{script: script}
	s := &recordSleep{}
	p, _ := webhook.New(webhook.Config{URL: serve(t, r, "/x"), Sleep: s.sleep, MaxAttempts: 3, MaxWait: 1500 * time.Millisecond})
	if err := p.PostAlert(context.Background(), alert); err == nil || !strings.Contains(err.Error(), "after 3 attempts") {
		t.Fatalf("err %v", err)
	}
	if len(r.bodies) != 3 || len(s.waits) != 2 || s.waits[1] != 1500*time.Millisecond {
		t.Fatalf("%d posts, waits %v (capped at MaxWait)", len(r.bodies), s.waits)
	}
}

func TestRealBackoffWaits(t *testing.T) {
	t.Parallel()
	r := &receiver{script: []func(http.ResponseWriter){status(http.StatusTooManyRequests, "Retry-After", "0.2")}}
	p, _ := webhook.New(webhook.Config{URL: serve(t, r, "/x")})
	start := time.Now()
	if err := p.PostAlert(context.Background(), alert); err != nil {
		t.Fatal(err)
	}
	if d := r.times[1].Sub(r.times[0]); d < 200*time.Millisecond || time.Since(start) > 5*time.Second {
		t.Fatalf("second post %s after the 429 asking for 0.2s", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r2 := &receiver{script: []func(http.ResponseWriter){status(http.StatusServiceUnavailable)}}
	p2, _ := webhook.New(webhook.Config{URL: serve(t, r2, "/x")})
	if err := p2.PostAlert(ctx, alert); err == nil {
		t.Fatal("a cancelled context posted")
	}
}
