// Package webhook posts the notifications module's alerts to the team chat
// through an incoming webhook (TASKD_ALERT_WEBHOOK_URL): Discord's
// ({"content": …}) or a Slack-compatible one ({"text": …}: Slack,
// Mattermost, Rocket.Chat, Discord's /slack endpoint), chosen from the URL.
//
// A 429 or a 5xx answer, or a network error, is retried with exponential
// backoff; a Retry-After header (seconds or an HTTP date) or Discord's
// retry_after field sets the wait instead. Other 4xx answers are not retried.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	n "github.com/taskd/taskd/modules/notifications/domain/notification"
)

// Format is the payload shape.
type Format string

const (
	FormatAuto    Format = ""
	FormatDiscord Format = "discord"
	FormatSlack   Format = "slack"
)

// Config is the webhook and how hard to try.
type Config struct {
	URL    string
	Format Format // FormatAuto: Discord for discord.com / discordapp.com URLs not ending in /slack, else Slack
	// Prefix starts every message (e.g. the TASKD_ENV name), optional.
	Prefix string
	// MaxAttempts (default 5), FirstBackoff (default 1s, doubling) and
	// MaxWait (the longest single wait, also for Retry-After; default 60s).
	MaxAttempts  int
	FirstBackoff time.Duration
	MaxWait      time.Duration
	// Client is the HTTP client (default: 10s timeout).
	Client *http.Client
	// Sleep waits (tests); default honours ctx.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Poster implements the notifications module's TeamChat.
type Poster struct {
	cfg    Config
	format Format
}

// New checks cfg and returns the poster.
func New(cfg Config) (*Poster, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("webhook: the URL must be an absolute http(s) URL")
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 5
	}
	if cfg.FirstBackoff <= 0 {
		cfg.FirstBackoff = time.Second
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = time.Minute
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	f := cfg.Format
	if f == FormatAuto {
		host := strings.ToLower(u.Hostname())
		f = FormatSlack
		if (host == "discord.com" || host == "discordapp.com" || strings.HasSuffix(host, ".discord.com")) && !strings.HasSuffix(u.Path, "/slack") {
			f = FormatDiscord
		}
	}
	return &Poster{cfg: cfg, format: f}, nil
}

// Format returns the payload shape in use.
func (p *Poster) Format() Format { return p.format }

// discordLimit is Discord's limit on content; Slack's is larger.
const discordLimit = 2000

// Payload returns the JSON body for text.
func (p *Poster) Payload(text string) ([]byte, error) {
	if p.cfg.Prefix != "" {
		text = "[" + p.cfg.Prefix + "] " + text
	}
	if p.format == FormatDiscord {
		if r := []rune(text); len(r) > discordLimit {
			text = string(r[:discordLimit-1]) + "…"
		}
		// No pings from error text that happens to hold @everyone.
		return json.Marshal(map[string]any{"content": text, "username": "taskd", "allowed_mentions": map[string]any{"parse": []string{}}})
	}
	return json.Marshal(map[string]string{"text": text})
}

// PostAlert implements TeamChat.
func (p *Poster) PostAlert(ctx context.Context, a n.Alert) error {
	return p.Post(ctx, a.Text())
}

// Post sends text, retrying as the package comment says.
func (p *Poster) Post(ctx context.Context, text string) error {
	body, err := p.Payload(text)
	if err != nil {
		return err
	}
	var last error
	for attempt := 1; ; attempt++ {
		wait, retry, err := p.try(ctx, body)
		if err == nil {
			return nil
		}
		last = err
		if !retry || attempt >= p.cfg.MaxAttempts {
			return fmt.Errorf("webhook: %w (after %d attempts)", last, attempt)
		}
		if wait <= 0 {
			wait = p.cfg.FirstBackoff * time.Duration(math.Pow(2, float64(attempt-1)))
		}
		if err := p.cfg.Sleep(ctx, min(wait, p.cfg.MaxWait)); err != nil {
			return fmt.Errorf("webhook: %w (gave up waiting: %v)", last, err)
		}
	}
}

// try posts once: it returns the wait the server asked for, whether to
// retry, and the error.
func (p *Poster) try(ctx context.Context, body []byte) (time.Duration, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return 0, false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "taskd-alerts")
	resp, err := p.cfg.Client.Do(req)
	if err != nil {
		// The URL holds the webhook's secret token: say where, not what.
		return 0, ctx.Err() == nil, fmt.Errorf("posting to %s: %w", redact(p.cfg.URL), unwrapURLError(err))
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return 0, false, nil
	}
	err = fmt.Errorf("%s answered %s: %s", redact(p.cfg.URL), resp.Status, strings.TrimSpace(string(b)))
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		return retryAfter(resp.Header.Get("Retry-After"), b, time.Now()), true, err
	}
	return 0, false, err
}

// retryAfter reads Retry-After (seconds, possibly fractional, or an HTTP
// date) or Discord's JSON retry_after (seconds).
func retryAfter(h string, body []byte, now time.Time) time.Duration {
	if h = strings.TrimSpace(h); h != "" {
		if s, err := strconv.ParseFloat(h, 64); err == nil && s >= 0 {
			return time.Duration(s * float64(time.Second))
		}
		if t, err := http.ParseTime(h); err == nil {
			return max(t.Sub(now), 0)
		}
	}
	var d struct {
		RetryAfter float64 `json:"retry_after"`
	}
	if json.Unmarshal(body, &d) == nil && d.RetryAfter > 0 {
		return time.Duration(d.RetryAfter * float64(time.Second))
	}
	return 0
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "the webhook"
	}
	return u.Scheme + "://" + u.Host + "/…"
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
