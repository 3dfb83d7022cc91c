package command_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskd/taskd/modules/identity/app/command"
	"github.com/taskd/taskd/modules/identity/domain/user"
	"github.com/taskd/taskd/modules/kernel/decorator"
	"github.com/taskd/taskd/modules/kernel/event"
)

// testParams keep argon2id fast in tests.
var testParams = user.HashParams{Time: 1, Memory: 64, Threads: 1}

var (
	t0  = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	now = t0.Add(24 * time.Hour)
)

const (
	aliceID  = "0190a6c4-0000-7000-8000-0000000000aa"
	password = "correct horse battery staple"
)

func clock() time.Time { return now }

func eventIDs() func() string {
	var n atomic.Int64
	return func() string { return fmt.Sprintf("ev-%d", n.Add(1)) }
}

// journal records the calls of every fake in order, marking those made
// inside the fake transaction.
type journal struct {
	mu    sync.Mutex
	calls []string
}

func (j *journal) add(ctx context.Context, call string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if inTx(ctx) {
		call += " [tx]"
	}
	j.calls = append(j.calls, call)
}

func (j *journal) list() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.calls)
}

type txKey struct{}

func inTx(ctx context.Context) bool { v, _ := ctx.Value(txKey{}).(bool); return v }

// fakeTx is a command.Transactor that marks ctx; it does not roll back.
type fakeTx struct{ j *journal }

func (tx fakeTx) WithinTransaction(ctx context.Context, fn func(context.Context) error) error {
	tx.j.add(ctx, "tx.Begin")
	err := fn(context.WithValue(ctx, txKey{}, true))
	if err != nil {
		tx.j.add(ctx, "tx.Rollback")
		return err
	}
	tx.j.add(ctx, "tx.Commit")
	return nil
}

// fakeUsers is a user.Repository over snapshots.
type fakeUsers struct {
	mu     sync.Mutex
	j      *journal
	rows   map[string]user.Snapshot
	events []event.Event
	err    error // returned by Update when set
}

var _ user.Repository = (*fakeUsers)(nil)

func (r *fakeUsers) Add(ctx context.Context, u *user.User) error {
	r.j.add(ctx, "users.Add")
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.rows {
		if s.Email == u.Email().String() {
			return user.ErrEmailTaken
		}
	}
	r.events = append(r.events, u.PendingEvents()...)
	r.rows[u.ID()] = u.Snapshot()
	return nil
}

func (r *fakeUsers) Update(ctx context.Context, id string, fn func(context.Context, *user.User) error) error {
	r.j.add(ctx, "users.Update")
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	s, ok := r.rows[id]
	if !ok {
		return user.ErrNotFound
	}
	u, err := user.UnmarshalUserFromDatabase(s, eventIDs())
	if err != nil {
		return err
	}
	if err := fn(ctx, u); err != nil {
		return err
	}
	r.events = append(r.events, u.PendingEvents()...)
	if u.IsDeleted() {
		delete(r.rows, id)
	} else {
		r.rows[id] = u.Snapshot()
	}
	return nil
}

func (r *fakeUsers) ByEmail(ctx context.Context, email user.Email) (*user.User, error) {
	r.j.add(ctx, "users.ByEmail")
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.rows {
		if s.Email == email.String() {
			return user.UnmarshalUserFromDatabase(s, nil)
		}
	}
	return nil, user.ErrNotFound
}

func (r *fakeUsers) ByID(ctx context.Context, id string) (*user.User, error) {
	r.j.add(ctx, "users.ByID")
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.rows[id]
	if !ok {
		return nil, user.ErrNotFound
	}
	return user.UnmarshalUserFromDatabase(s, nil)
}

func (r *fakeUsers) row(id string) (user.Snapshot, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.rows[id]
	return s, ok
}

func (r *fakeUsers) eventNames() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := []string{}
	for _, e := range r.events {
		out = append(out, e.Name())
	}
	return out
}

// fakeTokens is a user.RefreshTokenStore that records what it is asked.
type fakeTokens struct {
	mu        sync.Mutex
	j         *journal
	saved     []user.RefreshToken
	rotated   []string
	next      []user.RefreshToken
	revoked   []string
	revokeErr error
	rotateErr error
}

var _ user.RefreshTokenStore = (*fakeTokens)(nil)

func (s *fakeTokens) Save(ctx context.Context, t user.RefreshToken) error {
	s.j.add(ctx, "tokens.Save")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.saved = append(s.saved, t)
	return nil
}

func (s *fakeTokens) Rotate(ctx context.Context, oldHash string, next user.RefreshToken, _ time.Time) (string, error) {
	s.j.add(ctx, "tokens.Rotate")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rotateErr != nil {
		return "", s.rotateErr
	}
	s.rotated = append(s.rotated, oldHash)
	s.next = append(s.next, next)
	return aliceID, nil
}

func (s *fakeTokens) Revoke(ctx context.Context, hash string) error {
	s.j.add(ctx, "tokens.Revoke")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked = append(s.revoked, hash)
	return nil
}

func (s *fakeTokens) RevokeUser(ctx context.Context, userID string) error {
	s.j.add(ctx, "tokens.RevokeUser")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.revokeErr != nil {
		return s.revokeErr
	}
	s.revoked = append(s.revoked, "user:"+userID)
	return nil
}

// fakeReleaser is the tasks module as account deletion sees it.
type fakeReleaser struct {
	j     *journal
	users []string
	err   error
}

func (r *fakeReleaser) ReleaseUserTasks(ctx context.Context, userID string) error {
	r.j.add(ctx, "tasks.ReleaseUserTasks")
	if r.err != nil {
		return r.err
	}
	r.users = append(r.users, userID)
	return nil
}

type fixture struct {
	j       *journal
	users   *fakeUsers
	tokens  *fakeTokens
	tasks   *fakeReleaser
	deps    command.Deps
	logs    *syncBuffer
	metrics *fakeMetrics
}

// newFixture has Alice registered with password.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	j := &journal{}
	f := &fixture{
		j: j, users: &fakeUsers{j: j, rows: map[string]user.Snapshot{}},
		tokens: &fakeTokens{j: j}, tasks: &fakeReleaser{j: j}, logs: &syncBuffer{}, metrics: &fakeMetrics{},
	}
	f.deps = command.Deps{
		Users: f.users, Tokens: f.tokens, Tx: fakeTx{j}, Tasks: f.tasks, Clock: clock, NewEventID: eventIDs(),
		HashParams: testParams, Logger: slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Metrics: f.metrics,
	}
	h, err := user.HashPassword(password, testParams)
	if err != nil {
		t.Fatal(err)
	}
	email, _ := user.EmailFromString("alice@example.com")
	u, err := user.NewUser(user.NewUserParams{ID: aliceID, Email: email, Name: "Alice", PasswordHash: h}, t0, eventIDs())
	if err != nil {
		t.Fatal(err)
	}
	u.PopEvents()
	f.users.rows[aliceID] = u.Snapshot()
	return f
}

type syncBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

type fakeMetrics struct {
	mu   sync.Mutex
	errs map[string][]error
}

var _ decorator.Metrics = (*fakeMetrics)(nil)

func (m *fakeMetrics) ObserveHandler(kind, name string, _ time.Duration, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.errs == nil {
		m.errs = map[string][]error{}
	}
	m.errs[kind+" "+name] = append(m.errs[kind+" "+name], err)
}

func (m *fakeMetrics) observed(key string) []error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.errs[key])
}

var errBoom = errors.New("boom")

func ptr[T any](v T) *T { return &v }
