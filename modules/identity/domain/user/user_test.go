package user_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskd/taskd/modules/identity/contracts"
	"github.com/taskd/taskd/modules/identity/domain/user"
	"github.com/taskd/taskd/modules/kernel/errs"
	"github.com/taskd/taskd/modules/kernel/event"
)

const (
	userID   = "0190a6c4-0000-7000-8000-0000000000aa"
	password = "correct horse battery staple"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func eventIDs() func() string {
	var n atomic.Int64
	return func() string { return fmt.Sprintf("ev-%d", n.Add(1)) }
}

func hash(t *testing.T, pw string) string {
	t.Helper()
	h, err := user.HashPassword(pw, testParams)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func hasher(pw string) (string, error) { return user.HashPassword(pw, testParams) }

// newUser returns a registered user with its UserRegistered popped.
func newUser(t *testing.T) *user.User {
	t.Helper()
	u, err := user.NewUser(user.NewUserParams{
		ID: userID, Email: mustEmail(t, "alice@example.com"), Name: "Alice", PasswordHash: hash(t, password),
	}, t0, eventIDs())
	if err != nil {
		t.Fatal(err)
	}
	u.PopEvents()
	return u
}

func userEvent(t *testing.T, e event.Event) contracts.UserEvent {
	t.Helper()
	switch v := e.(type) {
	case contracts.UserRegistered:
		return v.UserEvent
	case contracts.UserUpdated:
		return v.UserEvent
	case contracts.UserDeleted:
		return v.UserEvent
	}
	t.Fatalf("unexpected event %T", e)
	return contracts.UserEvent{}
}

func eventNames(evs []event.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Name())
	}
	return out
}

func TestNewUser(t *testing.T) {
	t.Parallel()
	email := mustEmail(t, "Alice@Example.com")
	phone, _ := user.PhoneFromString("+821012345678")
	good := user.NewUserParams{ID: userID, Email: email, Name: "  Alice  ", Phone: phone, PasswordHash: "$argon2id$stub"}
	tests := []struct {
		name     string
		mod      func(p *user.NewUserParams)
		wantCode string // "" → accepted
	}{
		{"valid", func(*user.NewUserParams) {}, ""},
		{"no id", func(p *user.NewUserParams) { p.ID = "" }, "invalid_user_id"},
		{"no e-mail", func(p *user.NewUserParams) { p.Email = user.Email{} }, user.ErrInvalidEmail.Code},
		{"no hash", func(p *user.NewUserParams) { p.PasswordHash = "" }, "password_required"},
		{"blank name", func(p *user.NewUserParams) { p.Name = "  " }, user.ErrNameRequired.Code},
		{"name not UTF-8", func(p *user.NewUserParams) { p.Name = "Al\xffice" }, user.ErrNameRequired.Code},
		{"101 runes", func(p *user.NewUserParams) { p.Name = strings.Repeat("가", 101) }, user.ErrNameTooLong.Code},
		{"100 runes", func(p *user.NewUserParams) { p.Name = strings.Repeat("가", 100) }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := good
			tt.mod(&p)
			u, err := user.NewUser(p, t0, eventIDs())
			if tt.wantCode != "" {
				if e, ok := errs.As(err); !ok || e.Code != tt.wantCode || e.Kind != errs.KindInvalid || u != nil {
					t.Fatalf("NewUser = %v, %v; want an invalid error %q", u, err, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if u.Role() != user.RoleMember || u.TokenVersion() != 1 || u.IsDeleted() {
				t.Errorf("role %v, token version %d, deleted %v", u.Role(), u.TokenVersion(), u.IsDeleted())
			}
			evs := u.PendingEvents()
			if len(evs) != 1 || evs[0].Name() != contracts.NameUserRegistered {
				t.Fatalf("events = %v, want [UserRegistered]", eventNames(evs))
			}
			ev := userEvent(t, evs[0])
			want := event.Meta{
				ID: "ev-1", Type: contracts.NameUserRegistered, SchemaVersion: contracts.SchemaVersion,
				OccurredAt: t0, ActorID: userID, AggregateType: contracts.AggregateType, AggregateID: userID, Sequence: 1,
			}
			if ev.Meta != want {
				t.Errorf("meta = %+v\nwant   %+v", ev.Meta, want)
			}
			if ev.User.Email != "alice@example.com" || ev.User.Role != "member" || ev.User.Locale != "ko" || ev.User.Phone != "+821012345678" {
				t.Errorf("event user = %+v", ev.User)
			}
			if p.Name == good.Name && u.Name() != "Alice" {
				t.Errorf("Name() = %q, want the trimmed name", u.Name())
			}
		})
	}
}

func TestUpdateProfile(t *testing.T) {
	t.Parallel()
	phone, _ := user.PhoneFromString("+821012345678")
	other, _ := user.PhoneFromString("+14155550123")
	tests := []struct {
		name        string
		start       user.Phone
		edit        user.ProfileEdit
		wantChanges []event.Change
		wantErr     error
	}{
		{name: "nothing", edit: user.ProfileEdit{}},
		{name: "same values", start: phone, edit: user.ProfileEdit{Name: ptr(" Alice "), Phone: &phone, Locale: &user.LocaleKorean}},
		{name: "zero locale is ignored", edit: user.ProfileEdit{Locale: &user.Locale{}}},
		{name: "name", edit: user.ProfileEdit{Name: ptr("Alicia")},
			wantChanges: []event.Change{{Field: "name", Old: "Alice", New: "Alicia"}}},
		{name: "add phone", edit: user.ProfileEdit{Phone: &phone},
			wantChanges: []event.Change{{Field: "phone", Old: nil, New: "+821012345678"}}},
		{name: "change phone", start: phone, edit: user.ProfileEdit{Phone: &other},
			wantChanges: []event.Change{{Field: "phone", Old: "+821012345678", New: "+14155550123"}}},
		{name: "remove phone", start: phone, edit: user.ProfileEdit{Phone: &user.Phone{}},
			wantChanges: []event.Change{{Field: "phone", Old: "+821012345678", New: nil}}},
		{name: "locale", edit: user.ProfileEdit{Locale: &user.LocaleEnglish},
			wantChanges: []event.Change{{Field: "locale", Old: "ko", New: "en"}}},
		{name: "all", edit: user.ProfileEdit{Name: ptr("Al"), Phone: &other, Locale: &user.LocaleEnglish},
			wantChanges: []event.Change{
				{Field: "name", Old: "Alice", New: "Al"},
				{Field: "phone", Old: nil, New: "+14155550123"},
				{Field: "locale", Old: "ko", New: "en"},
			}},
		{name: "blank name", edit: user.ProfileEdit{Name: ptr(" "), Phone: &phone}, wantErr: user.ErrNameRequired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u, err := user.NewUser(user.NewUserParams{
				ID: userID, Email: mustEmail(t, "alice@example.com"), Name: "Alice", Phone: tt.start, PasswordHash: "$stub",
			}, t0, eventIDs())
			if err != nil {
				t.Fatal(err)
			}
			u.PopEvents()
			before := u.Snapshot()
			now := t0.Add(time.Hour)
			err = u.UpdateProfile(tt.edit, now)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if u.Snapshot() != before || u.Len() != 0 {
					t.Error("a rejected edit changed the user")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			evs := u.PendingEvents()
			if tt.wantChanges == nil {
				if len(evs) != 0 || u.Snapshot() != before {
					t.Fatalf("a no-op recorded %v or changed the user", eventNames(evs))
				}
				return
			}
			if len(evs) != 1 || evs[0].Name() != contracts.NameUserUpdated {
				t.Fatalf("events = %v, want [UserUpdated]", eventNames(evs))
			}
			ev := userEvent(t, evs[0])
			if !slices.Equal(ev.Changes, tt.wantChanges) {
				t.Errorf("changes = %+v\nwant      %+v", ev.Changes, tt.wantChanges)
			}
			if ev.ActorID != userID || ev.Sequence != 2 || !ev.OccurredAt.Equal(now) {
				t.Errorf("meta = %+v", ev.Meta)
			}
			if !u.Snapshot().UpdatedAt.Equal(now) {
				t.Errorf("UpdatedAt = %v, want %v", u.Snapshot().UpdatedAt, now)
			}
			if ev.User.Name != u.Name() || ev.User.Phone != u.Snapshot().Phone || ev.User.Locale != u.Snapshot().Locale {
				t.Errorf("event user %+v is not the state after the change", ev.User)
			}
		})
	}
}

func TestChangePassword(t *testing.T) {
	t.Parallel()
	const newPassword = "a much better passphrase"
	failHash := func(string) (string, error) { return "", errors.New("entropy ran out") }
	tests := []struct {
		name     string
		old, new string
		hash     func(string) (string, error)
		wantErr  error
	}{
		{"ok", password, newPassword, hasher, nil},
		{"wrong old password", "wrong password!!", newPassword, hasher, user.ErrWrongPassword},
		{"empty old password", "", newPassword, hasher, user.ErrWrongPassword},
		{"new too short", password, "short", hasher, user.ErrPasswordTooShort},
		{"new is the e-mail", password, "Alice@Example.com", hasher, user.ErrPasswordIsEmail},
		{"hash fails", password, newPassword, failHash, errors.New("entropy ran out")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := newUser(t)
			before := u.Snapshot()
			err := u.ChangePassword(tt.old, tt.new, tt.hash, t0.Add(time.Hour))
			if tt.wantErr != nil {
				if err == nil || (!errors.Is(err, tt.wantErr) && err.Error() != tt.wantErr.Error()) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if u.Snapshot() != before || u.Len() != 0 {
					t.Error("a rejected change altered the user")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if u.TokenVersion() != before.TokenVersion+1 {
				t.Errorf("TokenVersion() = %d, want %d", u.TokenVersion(), before.TokenVersion+1)
			}
			if u.CheckPassword(newPassword, user.ErrWrongPassword) != nil {
				t.Error("the new password does not verify")
			}
			if u.CheckPassword(password, user.ErrWrongPassword) == nil {
				t.Error("the old password still verifies")
			}
			evs := u.PendingEvents()
			if len(evs) != 1 || evs[0].Name() != contracts.NameUserUpdated {
				t.Fatalf("events = %v", eventNames(evs))
			}
			raw, _ := json.Marshal(evs[0])
			if strings.Contains(string(raw), newPassword) || strings.Contains(string(raw), "argon2") {
				t.Errorf("UserUpdated leaks the password or its hash: %s", raw)
			}
		})
	}
}

func TestChangeRole(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		role       user.Role
		wantErr    error
		wantChange bool
	}{
		{"promote", user.RoleAdmin, nil, true},
		{"manager", user.RoleManager, nil, true},
		{"same role", user.RoleMember, nil, false},
		{"zero role", user.Role{}, user.ErrInvalidRole, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := newUser(t)
			err := u.ChangeRole(tt.role, "u-admin", t0.Add(time.Hour))
			if !errors.Is(err, tt.wantErr) && (err != nil || tt.wantErr != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			evs := u.PendingEvents()
			if !tt.wantChange {
				if len(evs) != 0 || u.TokenVersion() != 1 || u.Role() != user.RoleMember {
					t.Errorf("no-op changed the user: events %v, token version %d, role %v", eventNames(evs), u.TokenVersion(), u.Role())
				}
				return
			}
			if u.Role() != tt.role || u.TokenVersion() != 2 {
				t.Errorf("role %v, token version %d; want %v, 2", u.Role(), u.TokenVersion(), tt.role)
			}
			ev := userEvent(t, evs[0])
			if ev.ActorID != "u-admin" || !slices.Equal(ev.Changes, []event.Change{{Field: "role", Old: "member", New: tt.role.String()}}) {
				t.Errorf("event = %+v", ev)
			}
		})
	}
}

func TestDelete(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		password string
		wantErr  error
	}{
		{"right password", password, nil},
		{"wrong password", "not my password", user.ErrWrongPassword},
		{"no password", "", user.ErrWrongPassword},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := newUser(t)
			err := u.Delete(tt.password, t0.Add(time.Hour))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if u.IsDeleted() || u.Len() != 0 {
					t.Error("a rejected delete changed the user")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !u.IsDeleted() {
				t.Error("IsDeleted() = false")
			}
			evs := u.PendingEvents()
			if len(evs) != 1 || evs[0].Name() != contracts.NameUserDeleted {
				t.Fatalf("events = %v", eventNames(evs))
			}
			if ev := userEvent(t, evs[0]); ev.ActorID != userID || ev.User.ID != userID || ev.Sequence != 2 {
				t.Errorf("UserDeleted = %+v", ev)
			}
		})
	}
}

func TestDTOAndEventsNeverCarryTheHash(t *testing.T) {
	t.Parallel()
	u := newUser(t)
	h := u.Snapshot().PasswordHash
	if h == "" {
		t.Fatal("no hash stored")
	}
	if err := u.UpdateProfile(user.ProfileEdit{Name: ptr("Bob")}, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := u.Delete(password, t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	for _, v := range []any{u.DTO(), u.PendingEvents()} {
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(raw), h) || strings.Contains(string(raw), "argon2") || strings.Contains(strings.ToLower(string(raw)), "hash") {
			t.Errorf("%T leaks the password hash: %s", v, raw)
		}
	}
	dto := u.DTO()
	if dto.ID != userID || dto.Email != "alice@example.com" || dto.Name != "Bob" || dto.Role != "member" || !dto.CreatedAt.Equal(t0) {
		t.Errorf("DTO = %+v", dto)
	}
}

func TestUnmarshalUserFromDatabase(t *testing.T) {
	t.Parallel()
	u := newUser(t)
	if err := u.ChangeRole(user.RoleManager, "", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	u.PopEvents()
	snap := u.Snapshot()
	back, err := user.UnmarshalUserFromDatabase(snap, eventIDs())
	if err != nil {
		t.Fatal(err)
	}
	if back.Snapshot() != snap {
		t.Errorf("round trip:\n in  %+v\n out %+v", snap, back.Snapshot())
	}
	// Sequences go on from the stored one.
	if err := back.UpdateProfile(user.ProfileEdit{Name: ptr("Zed")}, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if seq := back.PendingEvents()[0].EventMeta().Sequence; seq != snap.LastSequence+1 {
		t.Errorf("Sequence = %d, want %d", seq, snap.LastSequence+1)
	}
	for _, mod := range []func(s *user.Snapshot){
		func(s *user.Snapshot) { s.Email = "not an e-mail" },
		func(s *user.Snapshot) { s.Phone = "010-1234" },
		func(s *user.Snapshot) { s.Role = "root" },
		func(s *user.Snapshot) { s.Locale = "xx" },
	} {
		bad := snap
		mod(&bad)
		if _, err := user.UnmarshalUserFromDatabase(bad, nil); err == nil {
			t.Errorf("UnmarshalUserFromDatabase accepted %+v", bad)
		}
	}
}

func ptr[T any](v T) *T { return &v }
