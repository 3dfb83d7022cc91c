package httpport_test

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/taskd/taskd/modules/identity/app/command"
	"github.com/taskd/taskd/modules/identity/app/query"
	"github.com/taskd/taskd/modules/identity/contracts"
	"github.com/taskd/taskd/modules/identity/domain/user"
	"github.com/taskd/taskd/modules/kernel/decorator"
	"github.com/taskd/taskd/modules/kernel/errs"
	taskcommand "github.com/taskd/taskd/modules/tasks/app/command"
	taskquery "github.com/taskd/taskd/modules/tasks/app/query"
	"github.com/taskd/taskd/modules/tasks/domain/task"
)

// cmdFunc and queryFunc are hand-written fakes of the modules' handler
// interfaces (decorator.CommandHandler / QueryHandler).
type cmdFunc[C any] func(ctx context.Context, c C) error

func (f cmdFunc[C]) Handle(ctx context.Context, c C) error { return f(ctx, c) }

type queryFunc[Q, R any] func(ctx context.Context, q Q) (R, error)

func (f queryFunc[Q, R]) Handle(ctx context.Context, q Q) (R, error) { return f(ctx, q) }

// recCmd records the commands a route built and runs inner, or override
// when a test sets it.
type recCmd[C any] struct {
	inner decorator.CommandHandler[C]

	mu       sync.Mutex
	calls    []C
	override func(ctx context.Context, c C) error
}

func (r *recCmd[C]) Handle(ctx context.Context, c C) error {
	r.mu.Lock()
	r.calls = append(r.calls, c)
	override := r.override
	r.mu.Unlock()
	if override != nil {
		return override(ctx, c)
	}
	return r.inner.Handle(ctx, c)
}

func (r *recCmd[C]) Calls() []C {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]C(nil), r.calls...)
}

func (r *recCmd[C]) Last() C {
	calls := r.Calls()
	if len(calls) == 0 {
		var zero C
		return zero
	}
	return calls[len(calls)-1]
}

func (r *recCmd[C]) Override(f func(ctx context.Context, c C) error) {
	r.mu.Lock()
	r.override = f
	r.mu.Unlock()
}

type recQuery[Q, R any] struct {
	inner decorator.QueryHandler[Q, R]

	mu       sync.Mutex
	calls    []Q
	override func(ctx context.Context, q Q) (R, error)
}

func (r *recQuery[Q, R]) Handle(ctx context.Context, q Q) (R, error) {
	r.mu.Lock()
	r.calls = append(r.calls, q)
	override := r.override
	r.mu.Unlock()
	if override != nil {
		return override(ctx, q)
	}
	return r.inner.Handle(ctx, q)
}

func (r *recQuery[Q, R]) Calls() []Q {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Q(nil), r.calls...)
}

func (r *recQuery[Q, R]) Override(f func(ctx context.Context, q Q) (R, error)) {
	r.mu.Lock()
	r.override = f
	r.mu.Unlock()
}

// ---- identity: a tiny world behind hand-written handler fakes ----

type fakeUser struct {
	ID, Email, Name, Phone, Role, Locale, Password string
	TV                                             int64
	CreatedAt                                      time.Time
}

type session struct {
	userID  string
	revoked bool
}

type identityWorld struct {
	clock func() time.Time

	mu       sync.Mutex
	users    map[string]*fakeUser
	sessions map[string]*session // by refresh token hash

	principalCalls atomic.Int64
}

func newIdentityWorld(clock func() time.Time) *identityWorld {
	return &identityWorld{clock: clock, users: map[string]*fakeUser{}, sessions: map[string]*session{}}
}

func (w *identityWorld) add(u fakeUser) *fakeUser {
	w.mu.Lock()
	defer w.mu.Unlock()
	if u.ID == "" {
		u.ID = uuid.Must(uuid.NewV7()).String()
	}
	if u.Role == "" {
		u.Role = "member"
	}
	if u.Locale == "" {
		u.Locale = "ko"
	}
	if u.TV == 0 {
		u.TV = 1
	}
	if u.Name == "" {
		u.Name = strings.Split(u.Email, "@")[0]
	}
	u.CreatedAt = w.clock().UTC()
	w.users[u.ID] = &u
	return &u
}

func (w *identityWorld) get(id string) (fakeUser, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	u, ok := w.users[id]
	if !ok {
		return fakeUser{}, false
	}
	return *u, true
}

func (w *identityWorld) remove(id string) {
	w.mu.Lock()
	delete(w.users, id)
	w.mu.Unlock()
}

func (w *identityWorld) byEmail(email string) *fakeUser {
	email = strings.ToLower(strings.TrimSpace(email))
	for _, u := range w.users {
		if u.Email == email {
			return u
		}
	}
	return nil
}

func (u *fakeUser) dto() contracts.User {
	return contracts.User{ID: u.ID, Email: u.Email, Name: u.Name, Phone: u.Phone, Role: u.Role, Locale: u.Locale, CreatedAt: u.CreatedAt}
}

func (u *fakeUser) principal() query.Principal {
	return query.Principal{UserID: u.ID, Email: u.Email, Role: u.Role, TokenVersion: u.TV}
}

type identityFakes struct {
	SignUp           *recCmd[command.SignUp]
	StartSession     *recCmd[command.StartSession]
	RefreshSession   *recCmd[command.RefreshSession]
	EndSession       *recCmd[command.EndSession]
	UpdateProfile    *recCmd[command.UpdateProfile]
	ChangePassword   *recCmd[command.ChangePassword]
	DeleteAccount    *recCmd[command.DeleteAccount]
	Authenticate     *recQuery[query.Authenticate, query.Principal]
	UserByID         *recQuery[query.UserByID, contracts.User]
	UsersByIDs       *recQuery[query.UsersByIDs, map[string]contracts.User]
	ResolveUser      *recQuery[query.ResolveUser, contracts.User]
	PrincipalByID    *recQuery[query.PrincipalByID, query.Principal]
	SessionPrincipal *recQuery[query.SessionPrincipal, query.Principal]
	Users            *recQuery[query.Users, []contracts.User]
}

func (w *identityWorld) fakes() *identityFakes {
	return &identityFakes{
		SignUp: &recCmd[command.SignUp]{inner: cmdFunc[command.SignUp](func(_ context.Context, c command.SignUp) error {
			email, err := user.EmailFromString(c.Email)
			if err != nil {
				return err
			}
			if len(c.Password) < user.MinPasswordLength {
				return user.ErrPasswordTooShort
			}
			w.mu.Lock()
			taken := w.byEmail(email.String()) != nil
			w.mu.Unlock()
			if taken {
				return user.ErrEmailTaken
			}
			w.add(fakeUser{ID: c.ID, Email: email.String(), Name: c.Name, Phone: c.Phone, Password: c.Password})
			return nil
		})},
		StartSession: &recCmd[command.StartSession]{inner: cmdFunc[command.StartSession](func(_ context.Context, c command.StartSession) error {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.sessions[command.HashRefreshToken(c.RefreshToken)] = &session{userID: c.UserID}
			return nil
		})},
		RefreshSession: &recCmd[command.RefreshSession]{inner: cmdFunc[command.RefreshSession](func(_ context.Context, c command.RefreshSession) error {
			w.mu.Lock()
			defer w.mu.Unlock()
			s, ok := w.sessions[command.HashRefreshToken(c.OldToken)]
			if !ok || s.revoked {
				return user.ErrRefreshTokenInvalid
			}
			s.revoked = true
			w.sessions[command.HashRefreshToken(c.NewToken)] = &session{userID: s.userID}
			return nil
		})},
		EndSession: &recCmd[command.EndSession]{inner: cmdFunc[command.EndSession](func(_ context.Context, c command.EndSession) error {
			w.mu.Lock()
			defer w.mu.Unlock()
			if s, ok := w.sessions[command.HashRefreshToken(c.RefreshToken)]; ok {
				s.revoked = true
			}
			return nil
		})},
		UpdateProfile: &recCmd[command.UpdateProfile]{inner: cmdFunc[command.UpdateProfile](func(_ context.Context, c command.UpdateProfile) error {
			w.mu.Lock()
			defer w.mu.Unlock()
			u, ok := w.users[c.UserID]
			if !ok {
				return user.ErrNotFound
			}
			if c.Phone != nil {
				p, err := user.PhoneFromString(*c.Phone)
				if err != nil {
					return err
				}
				u.Phone = p.String()
			}
			if c.Name != nil {
				if strings.TrimSpace(*c.Name) == "" {
					return user.ErrNameRequired
				}
				u.Name = *c.Name
			}
			if c.Locale != nil {
				l, err := user.LocaleFromString(*c.Locale)
				if err != nil {
					return err
				}
				u.Locale = l.String()
			}
			return nil
		})},
		ChangePassword: &recCmd[command.ChangePassword]{inner: cmdFunc[command.ChangePassword](func(_ context.Context, c command.ChangePassword) error {
			w.mu.Lock()
			defer w.mu.Unlock()
			u, ok := w.users[c.UserID]
			if !ok {
				return user.ErrNotFound
			}
			if u.Password != c.OldPassword {
				return user.ErrWrongPassword
			}
			if len(c.NewPassword) < user.MinPasswordLength {
				return user.ErrPasswordTooShort
			}
			u.Password = c.NewPassword
			u.TV++
			return nil
		})},
		DeleteAccount: &recCmd[command.DeleteAccount]{inner: cmdFunc[command.DeleteAccount](func(_ context.Context, c command.DeleteAccount) error {
			w.mu.Lock()
			defer w.mu.Unlock()
			u, ok := w.users[c.UserID]
			if !ok {
				return user.ErrNotFound
			}
			if u.Password != c.Password {
				return user.ErrWrongPassword
			}
			delete(w.users, c.UserID)
			return nil
		})},
		Authenticate: &recQuery[query.Authenticate, query.Principal]{inner: queryFunc[query.Authenticate, query.Principal](func(_ context.Context, q query.Authenticate) (query.Principal, error) {
			w.mu.Lock()
			defer w.mu.Unlock()
			u := w.byEmail(q.Email)
			if u == nil || u.Password != q.Password {
				return query.Principal{}, user.ErrInvalidCredentials
			}
			return u.principal(), nil
		})},
		UserByID: &recQuery[query.UserByID, contracts.User]{inner: queryFunc[query.UserByID, contracts.User](func(_ context.Context, q query.UserByID) (contracts.User, error) {
			w.mu.Lock()
			defer w.mu.Unlock()
			u, ok := w.users[q.ID]
			if !ok {
				return contracts.User{}, user.ErrNotFound
			}
			return u.dto(), nil
		})},
		UsersByIDs: &recQuery[query.UsersByIDs, map[string]contracts.User]{inner: queryFunc[query.UsersByIDs, map[string]contracts.User](func(_ context.Context, q query.UsersByIDs) (map[string]contracts.User, error) {
			w.mu.Lock()
			defer w.mu.Unlock()
			out := map[string]contracts.User{}
			for _, id := range q.IDs {
				if u, ok := w.users[id]; ok {
					out[id] = u.dto()
				}
			}
			return out, nil
		})},
		ResolveUser: &recQuery[query.ResolveUser, contracts.User]{inner: queryFunc[query.ResolveUser, contracts.User](func(_ context.Context, q query.ResolveUser) (contracts.User, error) {
			w.mu.Lock()
			defer w.mu.Unlock()
			if u := w.byEmail(q.Ref); u != nil {
				return u.dto(), nil
			}
			if u, ok := w.users[q.Ref]; ok {
				return u.dto(), nil
			}
			return contracts.User{}, user.ErrNotFound
		})},
		PrincipalByID: &recQuery[query.PrincipalByID, query.Principal]{inner: queryFunc[query.PrincipalByID, query.Principal](func(_ context.Context, q query.PrincipalByID) (query.Principal, error) {
			w.principalCalls.Add(1)
			w.mu.Lock()
			defer w.mu.Unlock()
			u, ok := w.users[q.UserID]
			if !ok {
				return query.Principal{}, user.ErrNotFound
			}
			return u.principal(), nil
		})},
		SessionPrincipal: &recQuery[query.SessionPrincipal, query.Principal]{inner: queryFunc[query.SessionPrincipal, query.Principal](func(_ context.Context, q query.SessionPrincipal) (query.Principal, error) {
			w.mu.Lock()
			defer w.mu.Unlock()
			s, ok := w.sessions[q.RefreshTokenHash]
			if !ok || s.revoked {
				return query.Principal{}, user.ErrRefreshTokenInvalid
			}
			u, ok := w.users[s.userID]
			if !ok {
				return query.Principal{}, user.ErrRefreshTokenInvalid
			}
			return u.principal(), nil
		})},
		Users: &recQuery[query.Users, []contracts.User]{inner: queryFunc[query.Users, []contracts.User](func(_ context.Context, q query.Users) ([]contracts.User, error) {
			w.mu.Lock()
			defer w.mu.Unlock()
			var out []contracts.User
			for _, u := range w.users {
				if strings.Contains(u.Email, q.Q) || strings.Contains(u.Name, q.Q) {
					out = append(out, u.dto())
				}
			}
			sort.Slice(out, func(i, j int) bool { return out[i].Email < out[j].Email })
			return out, nil
		})},
	}
}

// userDirectory is the tasks module's UserDirectory over the identity world.
type userDirectory struct{ w *identityWorld }

func (d userDirectory) ResolveUser(_ context.Context, ref string) (string, error) {
	d.w.mu.Lock()
	defer d.w.mu.Unlock()
	if u := d.w.byEmail(ref); u != nil {
		return u.ID, nil
	}
	if u, ok := d.w.users[ref]; ok {
		return u.ID, nil
	}
	return "", taskcommand.ErrUnknownUser
}

// ---- tasks: the module's real handlers over an in-memory repository ----

// taskStore is a hand-written in-memory task.Repository and read model.
type taskStore struct {
	mu   sync.Mutex
	rows map[string]task.Snapshot
	adds atomic.Int64
}

func newTaskStore() *taskStore { return &taskStore{rows: map[string]task.Snapshot{}} }

var errTaskExists = errs.Conflict("task_exists", "a task with this id already exists")

func (s *taskStore) Add(_ context.Context, t *task.Task) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.rows[t.ID()]; ok {
		return errTaskExists
	}
	s.adds.Add(1)
	_ = t.PendingEvents()
	s.rows[t.ID()] = t.Snapshot()
	return nil
}

func (s *taskStore) Update(ctx context.Context, id string, fn func(ctx context.Context, t *task.Task) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap, ok := s.rows[id]
	if !ok {
		return task.ErrNotFound
	}
	t, err := task.UnmarshalTaskFromDatabase(snap, func() string { return uuid.NewString() })
	if err != nil {
		return err
	}
	if err := fn(ctx, t); err != nil {
		return err
	}
	if t.HasPendingEvents() {
		t.BumpVersion()
		_ = t.PendingEvents()
		s.rows[id] = t.Snapshot()
	}
	return nil
}

func (s *taskStore) Delete(ctx context.Context, id string, fn func(ctx context.Context, t *task.Task) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap, ok := s.rows[id]
	if !ok {
		return task.ErrNotFound
	}
	t, err := task.UnmarshalTaskFromDatabase(snap, func() string { return uuid.NewString() })
	if err != nil {
		return err
	}
	if err := fn(ctx, t); err != nil {
		return err
	}
	delete(s.rows, id)
	return nil
}

func (s *taskStore) UpdateInvolving(ctx context.Context, userID string, fn func(ctx context.Context, t *task.Task) error) error {
	return nil
}

func (s *taskStore) TaskByID(_ context.Context, id string) (taskquery.Task, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap, ok := s.rows[id]
	if !ok {
		return taskquery.Task{}, task.ErrNotFound
	}
	return toQueryTask(snap), nil
}

func (s *taskStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.rows)
}

// FindTasks filters and sorts newest first; the cursor is an offset.
func (s *taskStore) FindTasks(_ context.Context, f taskquery.Filter) (taskquery.Page, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []taskquery.Task
	for _, snap := range s.rows {
		t := toQueryTask(snap)
		switch {
		case f.Status != "" && t.Status != f.Status,
			f.Priority != "" && t.Priority != f.Priority,
			f.PICID != "" && t.PICID != f.PICID,
			f.SupervisorID != "" && t.SupervisorID != f.SupervisorID,
			f.CreatorID != "" && t.CreatorID != f.CreatorID,
			f.NameContains != "" && !strings.Contains(strings.ToLower(t.Name), strings.ToLower(f.NameContains)),
			f.DueBefore != nil && (t.Deadline == nil || !t.Deadline.Before(*f.DueBefore)),
			f.DueAfter != nil && (t.Deadline == nil || t.Deadline.Before(*f.DueAfter)):
			continue
		}
		all = append(all, t)
	}
	sort.Slice(all, func(i, j int) bool {
		if !all[i].CreatedAt.Equal(all[j].CreatedAt) {
			return all[i].CreatedAt.After(all[j].CreatedAt)
		}
		return all[i].ID > all[j].ID
	})
	offset := 0
	if f.Cursor != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(f.Cursor, "o:"))
		if err != nil || !strings.HasPrefix(f.Cursor, "o:") || n < 0 {
			return taskquery.Page{}, taskquery.ErrInvalidCursor
		}
		offset = n
	}
	if offset > len(all) {
		offset = len(all)
	}
	end := min(offset+f.Limit, len(all))
	page := taskquery.Page{Tasks: all[offset:end]}
	if end < len(all) {
		page.NextCursor = "o:" + strconv.Itoa(end)
	}
	return page, nil
}

func toQueryTask(s task.Snapshot) taskquery.Task {
	return taskquery.Task{
		ID: s.ID, Name: s.Name, Contents: s.Contents, Status: s.Status, Priority: s.Priority, Deadline: s.Deadline,
		PICID: s.PICID, SupervisorID: s.SupervisorID, CreatorID: s.CreatorID, CreatedAt: s.CreatedAt,
		UpdatedAt: s.UpdatedAt, StartedAt: s.StartedAt, CompletedAt: s.CompletedAt, Version: s.Version,
	}
}

// memIdempotency is an in-memory IdempotencyStore: first writer wins.
type memIdempotency struct {
	mu      sync.Mutex
	rows    map[string]idemRow
	failErr error
}

type idemRow struct {
	hash   string
	status int
	body   []byte
	at     time.Time
}

func newMemIdempotency() *memIdempotency { return &memIdempotency{rows: map[string]idemRow{}} }

func (m *memIdempotency) Lookup(_ context.Context, userID, key string, notBefore time.Time) (string, int, []byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failErr != nil {
		return "", 0, nil, false, m.failErr
	}
	r, ok := m.rows[userID+"\x00"+key]
	if !ok || r.at.Before(notBefore) {
		return "", 0, nil, false, nil
	}
	return r.hash, r.status, append([]byte(nil), r.body...), true, nil
}

func (m *memIdempotency) Save(_ context.Context, userID, key, hash string, status int, body []byte, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.rows[userID+"\x00"+key]; !ok {
		m.rows[userID+"\x00"+key] = idemRow{hash: hash, status: status, body: append([]byte(nil), body...), at: at}
	}
	return nil
}

func (m *memIdempotency) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.rows)
}
