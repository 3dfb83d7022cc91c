package memory

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/taskd/taskd/adapters/internal/tasklist"
	"github.com/taskd/taskd/modules/identity/app/query"
	"github.com/taskd/taskd/modules/identity/contracts"
	"github.com/taskd/taskd/modules/identity/domain/user"
	"github.com/taskd/taskd/modules/kernel/errs"
)

// ErrUserExists is returned by Add for a user id already stored (as sqlstore's).
var ErrUserExists = errs.Conflict("user_exists", "a user with this id already exists")

// UserRepository is the in-memory user.Repository.
type UserRepository struct {
	s          *Store
	newEventID func() string
}

var _ user.Repository = (*UserRepository)(nil)

func NewUserRepository(s *Store, newEventID func() string) *UserRepository {
	return &UserRepository{s: s, newEventID: newEventID}
}

func normUser(s user.Snapshot) user.Snapshot {
	s.CreatedAt, s.UpdatedAt = us(s.CreatedAt), us(s.UpdatedAt)
	return s
}

func (r *UserRepository) Add(ctx context.Context, u *user.User) error {
	snap := normUser(u.Snapshot())
	evs := u.PendingEvents()
	return r.s.WithinTransaction(ctx, func(ctx context.Context) error {
		d := r.s.d
		if _, ok := d.emails[snap.Email]; ok {
			return user.ErrEmailTaken
		}
		if _, ok := d.users[snap.ID]; ok {
			return ErrUserExists
		}
		d.users[snap.ID] = snap
		d.emails[snap.Email] = snap.ID
		return d.appendEvents(evs)
	})
}

func (r *UserRepository) Update(ctx context.Context, id string, fn func(ctx context.Context, u *user.User) error) error {
	return r.s.WithinTransaction(ctx, func(ctx context.Context) error {
		d := r.s.d
		old, ok := d.users[id]
		if !ok {
			return user.ErrNotFound
		}
		u, err := user.UnmarshalUserFromDatabase(old, r.newEventID)
		if err != nil {
			return err
		}
		if err := fn(ctx, u); err != nil {
			return err
		}
		if u.Len() == 0 {
			return nil
		}
		deleted := u.IsDeleted()
		evs := u.PendingEvents()
		delete(d.emails, old.Email)
		if deleted {
			delete(d.users, id)
		} else {
			snap := normUser(u.Snapshot())
			if other, taken := d.emails[snap.Email]; taken && other != id {
				return user.ErrEmailTaken
			}
			d.users[id] = snap
			d.emails[snap.Email] = id
		}
		return d.appendEvents(evs)
	})
}

func (r *UserRepository) ByEmail(ctx context.Context, email user.Email) (*user.User, error) {
	var (
		snap user.Snapshot
		ok   bool
	)
	r.s.read(ctx, func(d *data) {
		if id, found := d.emails[email.String()]; found {
			snap, ok = d.users[id]
		}
	})
	if !ok {
		return nil, user.ErrNotFound
	}
	return user.UnmarshalUserFromDatabase(snap, r.newEventID)
}

func (r *UserRepository) ByID(ctx context.Context, id string) (*user.User, error) {
	var (
		snap user.Snapshot
		ok   bool
	)
	r.s.read(ctx, func(d *data) { snap, ok = d.users[id] })
	if !ok {
		return nil, user.ErrNotFound
	}
	return user.UnmarshalUserFromDatabase(snap, r.newEventID)
}

// UsersReadModel is the in-memory identity read model.
type UsersReadModel struct {
	s *Store
}

var _ query.UsersReadModel = (*UsersReadModel)(nil)

func NewUsersReadModel(s *Store) *UsersReadModel { return &UsersReadModel{s: s} }

func userDTO(s user.Snapshot) contracts.User {
	return contracts.User{ID: s.ID, Email: s.Email, Name: s.Name, Phone: s.Phone, Role: s.Role, Locale: s.Locale, CreatedAt: s.CreatedAt}
}

func (m *UsersReadModel) byID(ctx context.Context, id string) (user.Snapshot, bool) {
	var (
		snap user.Snapshot
		ok   bool
	)
	m.s.read(ctx, func(d *data) { snap, ok = d.users[id] })
	return snap, ok
}

func (m *UsersReadModel) UserByID(ctx context.Context, id string) (contracts.User, error) {
	snap, ok := m.byID(ctx, id)
	if !ok {
		return contracts.User{}, user.ErrNotFound
	}
	return userDTO(snap), nil
}

func (m *UsersReadModel) UserByEmail(ctx context.Context, email string) (contracts.User, error) {
	if e, err := user.EmailFromString(email); err == nil {
		email = e.String()
	}
	var id string
	m.s.read(ctx, func(d *data) { id = d.emails[email] })
	return m.UserByID(ctx, id)
}

func (m *UsersReadModel) UsersByIDs(ctx context.Context, ids []string) ([]contracts.User, error) {
	out := []contracts.User{}
	m.s.read(ctx, func(d *data) {
		seen := map[string]bool{}
		for _, id := range ids {
			if s, ok := d.users[id]; ok && !seen[id] {
				seen[id] = true
				out = append(out, userDTO(s))
			}
		}
	})
	return out, nil
}

func (m *UsersReadModel) PrincipalByID(ctx context.Context, id string) (query.Principal, error) {
	snap, ok := m.byID(ctx, id)
	if !ok {
		return query.Principal{}, user.ErrNotFound
	}
	return query.Principal{UserID: snap.ID, Email: snap.Email, Role: snap.Role, TokenVersion: snap.TokenVersion}, nil
}

func (m *UsersReadModel) PrincipalByRefreshToken(ctx context.Context, hash string, now time.Time) (query.Principal, error) {
	var (
		snap user.Snapshot
		ok   bool
	)
	m.s.read(ctx, func(d *data) {
		t, found := d.tokens[hash]
		if !found || t.revokedAt != nil || t.expiresAt <= now.UnixMicro() {
			return
		}
		snap, ok = d.users[t.userID]
	})
	if !ok {
		return query.Principal{}, user.ErrRefreshTokenInvalid
	}
	return query.Principal{UserID: snap.ID, Email: snap.Email, Role: snap.Role, TokenVersion: snap.TokenVersion}, nil
}

func (m *UsersReadModel) ListUsers(ctx context.Context, q string, limit int) ([]contracts.User, error) {
	if limit <= 0 {
		limit = 20
	}
	fq := tasklist.Fold(q)
	var found []user.Snapshot
	m.s.read(ctx, func(d *data) {
		for _, s := range d.users {
			if fq == "" || containsFolded(s.Name, fq) || strings.Contains(s.Email, fq) {
				found = append(found, s)
			}
		}
	})
	slices.SortFunc(found, func(a, b user.Snapshot) int {
		if c := strings.Compare(tasklist.Fold(a.Name), tasklist.Fold(b.Name)); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	out := []contracts.User{}
	for _, s := range found[:min(limit, len(found))] {
		out = append(out, userDTO(s))
	}
	return out, nil
}

// containsFolded: s contains the folded folded, case-insensitively.
func containsFolded(s, folded string) bool {
	return strings.Contains(tasklist.Fold(s), folded)
}
