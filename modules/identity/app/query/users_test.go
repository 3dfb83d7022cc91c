package query_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/taskd/taskd/modules/identity/app/query"
	"github.com/taskd/taskd/modules/identity/contracts"
	"github.com/taskd/taskd/modules/identity/domain/user"
	"github.com/taskd/taskd/modules/kernel/decorator"
)

type fakeReadModel struct {
	users     map[string]contracts.User
	askedIDs  [][]string
	askedList []string
	limit     int
}

var _ query.UsersReadModel = (*fakeReadModel)(nil)

func newReadModel() *fakeReadModel {
	return &fakeReadModel{users: map[string]contracts.User{
		aliceID: {ID: aliceID, Email: "alice@example.com", Name: "Alice"},
	}}
}

func (f *fakeReadModel) UserByID(_ context.Context, id string) (contracts.User, error) {
	u, ok := f.users[id]
	if !ok {
		return contracts.User{}, user.ErrNotFound
	}
	return u, nil
}

func (f *fakeReadModel) UserByEmail(_ context.Context, email string) (contracts.User, error) {
	for _, u := range f.users {
		if u.Email == email {
			return u, nil
		}
	}
	return contracts.User{}, user.ErrNotFound
}

func (f *fakeReadModel) UsersByIDs(_ context.Context, ids []string) ([]contracts.User, error) {
	f.askedIDs = append(f.askedIDs, ids)
	var out []contracts.User
	for _, id := range ids {
		if u, ok := f.users[id]; ok {
			out = append(out, u)
		}
	}
	return out, nil
}

func (f *fakeReadModel) PrincipalByID(context.Context, string) (query.Principal, error) {
	return query.Principal{}, user.ErrNotFound
}

func (f *fakeReadModel) PrincipalByRefreshToken(context.Context, string, time.Time) (query.Principal, error) {
	return query.Principal{}, user.ErrRefreshTokenInvalid
}

func (f *fakeReadModel) ListUsers(_ context.Context, q string, limit int) ([]contracts.User, error) {
	f.askedList = append(f.askedList, q)
	f.limit = limit
	return nil, nil
}

var (
	discard = slog.New(slog.DiscardHandler)
	nop     = decorator.NopMetrics{}
)

func TestResolveUser(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ref    string
		wantID string // "" → not found
	}{
		{"alice@example.com", aliceID},
		{" ALICE@Example.com ", aliceID},
		{aliceID, aliceID},
		{" " + aliceID + " ", aliceID},
		{"bob@example.com", ""},
		{"0190a6c4-0000-7000-8000-0000000000bb", ""},
		{"alice", ""},
		{"alice@", ""},
		{"' OR 1=1 --", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			t.Parallel()
			h := query.NewResolveUserHandler(newReadModel(), discard, nop)
			u, err := h.Handle(context.Background(), query.ResolveUser{Ref: tt.ref})
			if tt.wantID == "" {
				if !errors.Is(err, user.ErrNotFound) {
					t.Fatalf("Handle(%q) = %+v, %v; want ErrNotFound", tt.ref, u, err)
				}
				return
			}
			if err != nil || u.ID != tt.wantID {
				t.Fatalf("Handle(%q) = %+v, %v; want %s", tt.ref, u, err, tt.wantID)
			}
		})
	}
}

func TestUsersByIDsDeduplicates(t *testing.T) {
	t.Parallel()
	rm := newReadModel()
	h := query.NewUsersByIDsHandler(rm, discard, nop)
	got, err := h.Handle(context.Background(), query.UsersByIDs{IDs: []string{aliceID, "", "u-ghost", aliceID}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[aliceID].Email != "alice@example.com" {
		t.Errorf("got %+v", got)
	}
	asked := slices.Clone(rm.askedIDs[0])
	sort.Strings(asked)
	if !slices.Equal(asked, []string{aliceID, "u-ghost"}) {
		t.Errorf("read model asked for %v", rm.askedIDs)
	}
	// No ids: an empty map and no query.
	got, err = h.Handle(context.Background(), query.UsersByIDs{})
	if err != nil || got == nil || len(got) != 0 || len(rm.askedIDs) != 1 {
		t.Errorf("empty: got %v, %v; read model asked %d times", got, err, len(rm.askedIDs))
	}
}

func TestUsersLimit(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want int }{{0, 20}, {-5, 20}, {1, 1}, {100, 100}, {101, 20}}
	for _, tt := range tests {
		rm := newReadModel()
		if _, err := query.NewUsersHandler(rm, discard, nop).Handle(context.Background(), query.Users{Q: "al", Limit: tt.in}); err != nil {
			t.Fatal(err)
		}
		if rm.limit != tt.want {
			t.Errorf("Limit %d → %d, want %d", tt.in, rm.limit, tt.want)
		}
	}
}
