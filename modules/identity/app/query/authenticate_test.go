package query_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/taskd/taskd/modules/identity/app/query"
	"github.com/taskd/taskd/modules/identity/domain/user"
	"github.com/taskd/taskd/modules/kernel/decorator"
	"github.com/taskd/taskd/modules/kernel/errs"
)

var testParams = user.HashParams{Time: 1, Memory: 64, Threads: 1}

const (
	aliceID  = "0190a6c4-0000-7000-8000-0000000000aa"
	password = "correct horse battery staple"
)

// fakeUsers is the part of user.Repository Authenticate uses.
type fakeUsers struct {
	user.Repository // nil: calling anything else panics
	mu              sync.Mutex
	byEmail         map[string]*user.User
	err             error
	asked           []string
}

func (r *fakeUsers) ByEmail(_ context.Context, e user.Email) (*user.User, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.asked = append(r.asked, e.String())
	if r.err != nil {
		return nil, r.err
	}
	u, ok := r.byEmail[e.String()]
	if !ok {
		return nil, user.ErrNotFound
	}
	return u, nil
}

func newUsers(t *testing.T) *fakeUsers {
	t.Helper()
	h, err := user.HashPassword(password, testParams)
	if err != nil {
		t.Fatal(err)
	}
	u, err := user.UnmarshalUserFromDatabase(user.Snapshot{
		ID: aliceID, Email: "alice@example.com", Name: "Alice", PasswordHash: h, Role: "manager", Locale: "ko",
		TokenVersion: 4, CreatedAt: time.Now(), UpdatedAt: time.Now(),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &fakeUsers{byEmail: map[string]*user.User{"alice@example.com": u}}
}

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	want := query.Principal{UserID: aliceID, Email: "alice@example.com", Role: "manager", TokenVersion: 4}
	tests := []struct {
		name     string
		email    string
		password string
		ok       bool
	}{
		{"right credentials", "alice@example.com", password, true},
		{"e-mail in another case", "  Alice@EXAMPLE.com ", password, true},
		{"wrong password", "alice@example.com", "correct horse battery stapler", false},
		{"empty password", "alice@example.com", "", false},
		{"password in another case", "alice@example.com", strings.ToUpper(password), false},
		{"unknown e-mail", "bob@example.com", password, false},
		{"malformed e-mail", "alice", password, false},
		{"empty", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := query.NewAuthenticateHandler(newUsers(t), testParams, slog.New(slog.DiscardHandler), decorator.NopMetrics{})
			got, err := h.Handle(context.Background(), query.Authenticate{Email: tt.email, Password: tt.password})
			if tt.ok {
				if err != nil || got != want {
					t.Fatalf("Handle = %+v, %v; want %+v", got, err, want)
				}
				return
			}
			// One answer for every failure, so the response does not tell
			// whether the e-mail has an account.
			if err != user.ErrInvalidCredentials {
				t.Fatalf("err = %#v, want exactly user.ErrInvalidCredentials", err)
			}
			if e, _ := errs.As(err); e.Kind != errs.KindUnauthorized || e.Field != "" {
				t.Errorf("kind, field = %v, %q", e.Kind, e.Field)
			}
			if got != (query.Principal{}) {
				t.Errorf("principal = %+v on failure", got)
			}
		})
	}
}

func TestAuthenticateStoreFailureIsNotACredentialError(t *testing.T) {
	t.Parallel()
	users := newUsers(t)
	users.err = errors.New("database is down")
	h := query.NewAuthenticateHandler(users, testParams, slog.New(slog.DiscardHandler), decorator.NopMetrics{})
	_, err := h.Handle(context.Background(), query.Authenticate{Email: "alice@example.com", Password: password})
	if err == nil || errors.Is(err, user.ErrInvalidCredentials) {
		t.Errorf("err = %v, want the store's error", err)
	}
}

func TestAuthenticateNeverLogsThePassword(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := query.NewAuthenticateHandler(newUsers(t), testParams, logger, decorator.NopMetrics{})
	for _, pw := range []string{password, "a wrong guess 123"} {
		_, _ = h.Handle(context.Background(), query.Authenticate{Email: "alice@example.com", Password: pw})
	}
	out := buf.String()
	if !strings.Contains(out, `"query":"Authenticate"`) {
		t.Errorf("the log lacks the query:\n%s", out)
	}
	for _, leak := range []string{password, "a wrong guess 123", "alice@example.com"} {
		if strings.Contains(out, leak) {
			t.Errorf("the log contains %q:\n%s", leak, out)
		}
	}
}
