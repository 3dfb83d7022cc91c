package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is everything taskd reads from its environment, parsed once here
// and injected; no other package calls os.Getenv.
type Config struct {
	Addr           string
	DataDir        string
	MySQLDSN       string
	Events         string // embedded | aws
	AnalyticsStore string // embedded | dynamodb
	Email          string // none | smtp | ses
	SMS            string // none | sns
	AlertWebhook   string
	Env            string // prefix of AWS resource names
	Mode           string // "" | cloud
	EmailFrom      string
	PublicURL      string
	JWTSecret      string
	JWTIssuer      string
	JWTAudience    string
	AccessTTL      time.Duration
	RefreshTTL     time.Duration
	AutoMigrate    bool
	// ShutdownTimeout bounds a graceful stop: in-flight requests and event
	// handlers finish and the relay flushes within it.
	ShutdownTimeout time.Duration
	CreateResources bool
	LogLevel        slog.Level
	LogFormat       string // json | text
	SMTP            SMTPConfig
	// Sign-in attempts allowed per minute, per e-mail and per client address.
	SignInPerMinute int
	// EventsTuning is the event backbone's TASKD_EVENTS_* tuning (events_backbone.go).
	EventsTuning EventsConfig
	// Notifications is the notifications module's tuning (notifications.go).
	Notifications NotificationsConfig
	// Analytics is the analytics module's configuration (analytics.go).
	Analytics AnalyticsConfig
	// PprofAddr, when set, serves net/http/pprof on this loopback address
	// (TASKD_PPROF_ADDR, pprof.go); unset by default.
	PprofAddr string
}

// SMTPConfig is read from TASKD_SMTP_*.
type SMTPConfig struct {
	Host     string
	Port     int
	Username string
	Password string
	StartTLS bool
}

// Embedded tells whether taskd stores its data in SQLite.
func (c Config) Embedded() bool { return c.MySQLDSN == "" }

// envSource is how configuration is looked up (os.LookupEnv in production,
// a map in tests).
type envSource func(string) (string, bool)

// LoadConfig parses the environment. Every problem is collected and reported
// together, each naming its variable.
func LoadConfig(lookup envSource) (Config, error) {
	p := parser{lookup: lookup}
	c := Config{
		Addr:            p.str("TASKD_ADDR", "127.0.0.1:8080"),
		DataDir:         p.str("TASKD_DATA_DIR", "./data"),
		MySQLDSN:        p.str("TASKD_MYSQL_DSN", ""),
		Mode:            p.oneOf("TASKD_MODE", "", "", "cloud"),
		AlertWebhook:    p.str("TASKD_ALERT_WEBHOOK_URL", ""),
		Env:             p.str("TASKD_ENV", "taskd"),
		EmailFrom:       p.str("TASKD_EMAIL_FROM", "taskd@localhost"),
		JWTSecret:       p.str("TASKD_JWT_SECRET", ""),
		JWTIssuer:       p.str("TASKD_JWT_ISSUER", "taskd"),
		JWTAudience:     p.str("TASKD_JWT_AUDIENCE", "taskd-api"),
		AccessTTL:       p.duration("TASKD_ACCESS_TOKEN_TTL", 15*time.Minute),
		RefreshTTL:      p.duration("TASKD_REFRESH_TOKEN_TTL", 30*24*time.Hour),
		LogFormat:       p.oneOf("TASKD_LOG_FORMAT", "json", "json", "text"),
		SignInPerMinute: p.integer("TASKD_SIGNIN_PER_MINUTE", 10),
		PprofAddr:       p.str("TASKD_PPROF_ADDR", ""),
	}
	cloud := c.Mode == "cloud"
	c.Events = p.oneOf("TASKD_EVENTS", pick(cloud, "aws", "embedded"), "embedded", "aws")
	c.AnalyticsStore = p.oneOf("TASKD_ANALYTICS_STORE", pick(cloud, "dynamodb", "embedded"), "embedded", "dynamodb")
	c.Email = p.oneOf("TASKD_EMAIL", pick(cloud, "ses", "none"), "none", "smtp", "ses")
	c.SMS = p.oneOf("TASKD_SMS", pick(cloud, "sns", "none"), "none", "sns")
	c.AutoMigrate = p.boolean("TASKD_AUTO_MIGRATE", c.MySQLDSN == "")
	c.ShutdownTimeout = p.duration("TASKD_SHUTDOWN_TIMEOUT", 30*time.Second)
	c.CreateResources = p.boolean("TASKD_CREATE_RESOURCES", true)
	c.EventsTuning = parseEventsConfig(&p)
	c.Notifications = parseNotificationsConfig(&p)
	c.Analytics = parseAnalyticsConfig(&p)
	c.PublicURL = p.str("TASKD_PUBLIC_URL", "http://"+c.Addr)
	c.LogLevel = p.level("TASKD_LOG_LEVEL", slog.LevelInfo)
	c.SMTP = SMTPConfig{
		Host:     p.str("TASKD_SMTP_HOST", ""),
		Port:     p.integer("TASKD_SMTP_PORT", 587),
		Username: p.str("TASKD_SMTP_USERNAME", ""),
		Password: p.str("TASKD_SMTP_PASSWORD", ""),
		StartTLS: p.boolean("TASKD_SMTP_STARTTLS", true),
	}

	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		p.fail("TASKD_ADDR", "must be host:port, e.g. 127.0.0.1:8080")
	}
	if c.MySQLDSN != "" && !strings.Contains(c.MySQLDSN, "/") {
		p.fail("TASKD_MYSQL_DSN", "must be a go-sql-driver DSN such as user:pass@tcp(host:3306)/taskd")
	}
	if !c.Embedded() && c.JWTSecret == "" {
		p.fail("TASKD_JWT_SECRET", "is required with TASKD_MYSQL_DSN (several instances must share it)")
	}
	if c.JWTSecret != "" && len(c.JWTSecret) < 32 {
		p.fail("TASKD_JWT_SECRET", "must be at least 32 characters")
	}
	if c.Email == "smtp" && c.SMTP.Host == "" {
		p.fail("TASKD_SMTP_HOST", "is required when TASKD_EMAIL=smtp")
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.fail("TASKD_PUBLIC_URL", "must be an absolute http(s) URL")
	}
	if c.AlertWebhook != "" {
		if u, err := url.Parse(c.AlertWebhook); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			p.fail("TASKD_ALERT_WEBHOOK_URL", "must be an http(s) URL")
		}
	}
	if c.AccessTTL < time.Minute || c.AccessTTL > 24*time.Hour {
		p.fail("TASKD_ACCESS_TOKEN_TTL", "must be between 1m and 24h")
	}
	if c.RefreshTTL < c.AccessTTL {
		p.fail("TASKD_REFRESH_TOKEN_TTL", "must be at least the access token lifetime")
	}
	if c.PprofAddr != "" && !isLoopback(c.PprofAddr) {
		p.fail("TASKD_PPROF_ADDR", "must be a loopback host:port such as 127.0.0.1:6060 (profiles expose memory)")
	}
	if c.ShutdownTimeout < time.Second || c.ShutdownTimeout > 10*time.Minute {
		p.fail("TASKD_SHUTDOWN_TIMEOUT", "must be between 1s and 10m")
	}
	if c.SignInPerMinute < 1 {
		p.fail("TASKD_SIGNIN_PER_MINUTE", "must be at least 1")
	}
	if c.Env == "" || strings.Trim(c.Env, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" || len(c.Env) > 40 {
		p.fail("TASKD_ENV", "must be 1–40 letters, digits, - or _ (it prefixes AWS resource names)")
	}
	return c, p.err()
}

func pick(cond bool, a, b string) string {
	if cond {
		return a
	}
	return b
}

type parser struct {
	lookup envSource
	errs   []error
}

func (p *parser) fail(name, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s %s", name, fmt.Sprintf(format, args...)))
}

func (p *parser) err() error {
	if len(p.errs) == 0 {
		return nil
	}
	msgs := make([]string, len(p.errs))
	for i, e := range p.errs {
		msgs[i] = e.Error()
	}
	return fmt.Errorf("invalid configuration:\n  %s", strings.Join(msgs, "\n  "))
}

func (p *parser) str(name, def string) string {
	if v, ok := p.lookup(name); ok && strings.TrimSpace(v) != "" {
		return strings.TrimSpace(v)
	}
	return def
}

func (p *parser) oneOf(name, def string, allowed ...string) string {
	v := p.str(name, def)
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	p.fail(name, "must be one of %s (got %q)", strings.Join(nonEmpty(allowed), ", "), v)
	return def
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (p *parser) boolean(name string, def bool) bool {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		p.fail(name, "must be true or false (got %q)", v)
		return def
	}
	return b
}

func (p *parser) integer(name string, def int) int {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		p.fail(name, "must be an integer (got %q)", v)
		return def
	}
	return n
}

func (p *parser) duration(name string, def time.Duration) time.Duration {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		p.fail(name, "must be a duration such as 15m or 720h (got %q)", v)
		return def
	}
	return d
}

func (p *parser) level(name string, def slog.Level) slog.Level {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(v)); err != nil {
		p.fail(name, "must be debug, info, warn or error (got %q)", v)
		return def
	}
	return l
}

// osEnv is the process environment.
func osEnv(name string) (string, bool) { return os.LookupEnv(name) }
