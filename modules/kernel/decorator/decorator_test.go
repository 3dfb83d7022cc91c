package decorator_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/taskd/taskd/modules/kernel/decorator"
	"github.com/taskd/taskd/modules/kernel/errs"
)

const secret = "hunter2-correct-horse-battery"

// SignIn is Loggable: only Email may be logged.
type SignIn struct {
	Email    string
	Password string
}

func (c SignIn) LogAttrs() []slog.Attr { return []slog.Attr{slog.String("email", c.Email)} }

// Unloggable is not Loggable: nothing of it may be logged.
type Unloggable struct {
	Token string
}

type handlerFunc[C any] func(ctx context.Context, c C) error

func (f handlerFunc[C]) Handle(ctx context.Context, c C) error { return f(ctx, c) }

type queryFunc[Q, R any] func(ctx context.Context, q Q) (R, error)

func (f queryFunc[Q, R]) Handle(ctx context.Context, q Q) (R, error) { return f(ctx, q) }

type observation struct {
	kind, name string
	d          time.Duration
	err        error
}

type fakeMetrics struct {
	mu  sync.Mutex
	obs []observation
}

func (m *fakeMetrics) ObserveHandler(kind, name string, d time.Duration, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.obs = append(m.obs, observation{kind, name, d, err})
}

func newLogger() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), &buf
}

func TestCommandDecoratorLogsOnlyLogAttrs(t *testing.T) {
	t.Parallel()
	failure := errs.Unauthorized("invalid_credentials", "e-mail or password is incorrect")
	tests := []struct {
		name      string
		err       error
		wantLevel string
		wantMsg   string
	}{
		{"success", nil, `"level":"DEBUG"`, `"msg":"command handled"`},
		{"failure", failure, `"level":"INFO"`, `"msg":"command failed"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			logger, buf := newLogger()
			m := &fakeMetrics{}
			var got SignIn
			h := decorator.ApplyCommandDecorators[SignIn](handlerFunc[SignIn](func(_ context.Context, c SignIn) error {
				got = c
				return tt.err
			}), logger, m)

			cmd := SignIn{Email: "alice@example.com", Password: secret}
			err := h.Handle(context.Background(), cmd)
			if err != tt.err {
				t.Fatalf("Handle returned %v, want %v", err, tt.err)
			}
			if got != cmd {
				t.Errorf("the base handler got %+v, want %+v", got, cmd)
			}
			out := buf.String()
			if strings.Contains(out, secret) || strings.Contains(out, "Password") {
				t.Errorf("the log leaks the password:\n%s", out)
			}
			for _, want := range []string{tt.wantLevel, tt.wantMsg, `"command":"SignIn"`, `"email":"alice@example.com"`, `"duration":`} {
				if !strings.Contains(out, want) {
					t.Errorf("log lacks %s:\n%s", want, out)
				}
			}
			if tt.err != nil && !strings.Contains(out, `"error":"invalid_credentials: e-mail or password is incorrect"`) {
				t.Errorf("log lacks the error:\n%s", out)
			}
			if n := strings.Count(out, "\n"); n != 1 {
				t.Errorf("logged %d lines, want 1:\n%s", n, out)
			}

			if len(m.obs) != 1 {
				t.Fatalf("metrics observed %d times, want 1", len(m.obs))
			}
			o := m.obs[0]
			if o.kind != "command" || o.name != "SignIn" || o.err != tt.err || o.d < 0 {
				t.Errorf("observation = %+v, want command SignIn with error %v", o, tt.err)
			}
		})
	}
}

func TestCommandDecoratorLogsNothingOfUnloggable(t *testing.T) {
	t.Parallel()
	for _, fail := range []bool{false, true} {
		logger, buf := newLogger()
		h := decorator.ApplyCommandDecorators[Unloggable](handlerFunc[Unloggable](func(context.Context, Unloggable) error {
			if fail {
				return errors.New("boom")
			}
			return nil
		}), logger, decorator.NopMetrics{})
		_ = h.Handle(context.Background(), Unloggable{Token: secret})
		out := buf.String()
		if strings.Contains(out, secret) || strings.Contains(out, "Token") {
			t.Errorf("fail=%v: the log leaks a field of a command without LogAttrs:\n%s", fail, out)
		}
		if !strings.Contains(out, `"command":"Unloggable"`) {
			t.Errorf("fail=%v: log lacks the command name:\n%s", fail, out)
		}
	}
}

func TestCommandDecoratorObservesWrappedError(t *testing.T) {
	t.Parallel()
	m := &fakeMetrics{}
	wrapped := fmt.Errorf("saving: %w", errs.ErrVersionMismatch)
	h := decorator.ApplyCommandDecorators[SignIn](handlerFunc[SignIn](func(context.Context, SignIn) error { return wrapped }),
		slog.New(slog.DiscardHandler), m)
	if err := h.Handle(context.Background(), SignIn{}); err != wrapped {
		t.Fatalf("Handle = %v, want the handler's error unchanged", err)
	}
	if len(m.obs) != 1 || !errors.Is(m.obs[0].err, errs.ErrVersionMismatch) {
		t.Errorf("observations = %+v", m.obs)
	}
}

type UserByEmail struct {
	Email string
	Token string
}

func (q UserByEmail) LogAttrs() []slog.Attr { return []slog.Attr{slog.String("email", q.Email)} }

func TestQueryDecorator(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		result  string
		err     error
		wantMsg string
	}{
		{"success", "u-1", nil, `"msg":"query handled"`},
		{"failure", "", errs.NotFound("user_not_found", "user not found"), `"msg":"query failed"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			logger, buf := newLogger()
			m := &fakeMetrics{}
			h := decorator.ApplyQueryDecorators[UserByEmail, string](queryFunc[UserByEmail, string](func(context.Context, UserByEmail) (string, error) {
				return tt.result, tt.err
			}), logger, m)
			r, err := h.Handle(context.Background(), UserByEmail{Email: "bob@example.com", Token: secret})
			if r != tt.result || err != tt.err {
				t.Fatalf("Handle = %q, %v; want %q, %v", r, err, tt.result, tt.err)
			}
			out := buf.String()
			if strings.Contains(out, secret) {
				t.Errorf("the log leaks a field outside LogAttrs:\n%s", out)
			}
			for _, want := range []string{tt.wantMsg, `"query":"UserByEmail"`, `"email":"bob@example.com"`} {
				if !strings.Contains(out, want) {
					t.Errorf("log lacks %s:\n%s", want, out)
				}
			}
			if len(m.obs) != 1 || m.obs[0].kind != "query" || m.obs[0].name != "UserByEmail" || m.obs[0].err != tt.err {
				t.Errorf("observations = %+v", m.obs)
			}
		})
	}
}

func TestActionName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v    any
		want string
	}{
		{SignIn{}, "SignIn"},
		{&SignIn{}, "SignIn"},
		{UserByEmail{}, "UserByEmail"},
		{42, "int"},
	}
	for _, tt := range tests {
		if got := decorator.ActionName(tt.v); got != tt.want {
			t.Errorf("ActionName(%T) = %q, want %q", tt.v, got, tt.want)
		}
	}
}
