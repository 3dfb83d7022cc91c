package command_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/taskd/taskd/modules/identity/app/command"
	"github.com/taskd/taskd/modules/identity/contracts"
	"github.com/taskd/taskd/modules/identity/domain/user"
)

func TestDeleteAccount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		password  string
		setup     func(f *fixture)
		wantErr   error
		wantCalls []string
		wantGone  bool
	}{
		{name: "success", password: password, wantGone: true,
			wantCalls: []string{"tx.Begin", "users.Update [tx]", "tokens.RevokeUser [tx]", "tasks.ReleaseUserTasks [tx]", "tx.Commit"}},
		{name: "wrong password", password: "not the password", wantErr: user.ErrWrongPassword,
			wantCalls: []string{"tx.Begin", "users.Update [tx]", "tx.Rollback"}},
		{name: "user store fails", password: password, setup: func(f *fixture) { f.users.err = errBoom }, wantErr: errBoom,
			wantCalls: []string{"tx.Begin", "users.Update [tx]", "tx.Rollback"}},
		{name: "revoking fails", password: password, setup: func(f *fixture) { f.tokens.revokeErr = errBoom }, wantErr: errBoom, wantGone: true,
			wantCalls: []string{"tx.Begin", "users.Update [tx]", "tokens.RevokeUser [tx]", "tx.Rollback"}},
		{name: "releasing tasks fails", password: password, setup: func(f *fixture) { f.tasks.err = errBoom }, wantErr: errBoom, wantGone: true,
			wantCalls: []string{"tx.Begin", "users.Update [tx]", "tokens.RevokeUser [tx]", "tasks.ReleaseUserTasks [tx]", "tx.Rollback"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			if tt.setup != nil {
				tt.setup(f)
			}
			err := command.NewDeleteAccountHandler(f.deps).Handle(context.Background(), command.DeleteAccount{UserID: aliceID, Password: tt.password})
			if !errors.Is(err, tt.wantErr) && (err != nil || tt.wantErr != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got := f.j.list(); !slices.Equal(got, tt.wantCalls) {
				t.Errorf("calls = %v\nwant    %v", got, tt.wantCalls)
			}
			// The fake store has no rollback; a real one undoes the delete
			// when the transaction fails, which is the Transactor's job.
			if _, ok := f.users.row(aliceID); ok == tt.wantGone {
				t.Errorf("user stored = %v, want %v", ok, !tt.wantGone)
			}
			if tt.wantErr == nil {
				if got := f.users.eventNames(); !slices.Equal(got, []string{contracts.NameUserDeleted}) {
					t.Errorf("events = %v", got)
				}
				if !slices.Equal(f.tasks.users, []string{aliceID}) || !slices.Equal(f.tokens.revoked, []string{"user:" + aliceID}) {
					t.Errorf("released %v, revoked %v", f.tasks.users, f.tokens.revoked)
				}
			}
		})
	}
}

func TestChangePassword(t *testing.T) {
	t.Parallel()
	const newPassword = "an even better passphrase"
	tests := []struct {
		name      string
		old, new  string
		setup     func(f *fixture)
		wantErr   error
		wantCalls []string
	}{
		{name: "success", old: password, new: newPassword,
			wantCalls: []string{"tx.Begin", "users.Update [tx]", "tokens.RevokeUser [tx]", "tx.Commit"}},
		{name: "wrong old password", old: "not the password", new: newPassword, wantErr: user.ErrWrongPassword,
			wantCalls: []string{"tx.Begin", "users.Update [tx]", "tx.Rollback"}},
		{name: "weak new password", old: password, new: "short", wantErr: user.ErrPasswordTooShort,
			wantCalls: []string{"tx.Begin", "users.Update [tx]", "tx.Rollback"}},
		{name: "revoking fails", old: password, new: newPassword, setup: func(f *fixture) { f.tokens.revokeErr = errBoom }, wantErr: errBoom,
			wantCalls: []string{"tx.Begin", "users.Update [tx]", "tokens.RevokeUser [tx]", "tx.Rollback"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			if tt.setup != nil {
				tt.setup(f)
			}
			before, _ := f.users.row(aliceID)
			err := command.NewChangePasswordHandler(f.deps).Handle(context.Background(),
				command.ChangePassword{UserID: aliceID, OldPassword: tt.old, NewPassword: tt.new})
			if !errors.Is(err, tt.wantErr) && (err != nil || tt.wantErr != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got := f.j.list(); !slices.Equal(got, tt.wantCalls) {
				t.Errorf("calls = %v\nwant    %v", got, tt.wantCalls)
			}
			after, _ := f.users.row(aliceID)
			if tt.wantErr != nil {
				if tt.wantErr != errBoom && after != before {
					t.Error("a rejected change altered the user")
				}
				return
			}
			if after.TokenVersion != before.TokenVersion+1 {
				t.Errorf("TokenVersion = %d, want %d", after.TokenVersion, before.TokenVersion+1)
			}
			if !user.VerifyPassword(newPassword, after.PasswordHash) || user.VerifyPassword(password, after.PasswordHash) {
				t.Error("the stored hash is not the new password's")
			}
			if !slices.Equal(f.tokens.revoked, []string{"user:" + aliceID}) {
				t.Errorf("revoked = %v", f.tokens.revoked)
			}
		})
	}
}

func TestChangeRole(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		cmd      command.ChangeRole
		wantErr  error
		wantRole string
	}{
		{"promote by e-mail, any case", command.ChangeRole{Email: " ALICE@example.com", Role: "Admin"}, nil, "admin"},
		{"unknown role", command.ChangeRole{Email: "alice@example.com", Role: "owner"}, user.ErrInvalidRole, "member"},
		{"bad e-mail", command.ChangeRole{Email: "alice", Role: "admin"}, user.ErrInvalidEmail, "member"},
		{"unknown user", command.ChangeRole{Email: "bob@example.com", Role: "admin"}, user.ErrNotFound, "member"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			err := command.NewChangeRoleHandler(f.deps).Handle(context.Background(), tt.cmd)
			if !errors.Is(err, tt.wantErr) && (err != nil || tt.wantErr != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if s, _ := f.users.row(aliceID); s.Role != tt.wantRole {
				t.Errorf("Role = %q, want %q", s.Role, tt.wantRole)
			}
		})
	}
}

func TestUpdateProfile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cmd     command.UpdateProfile
		wantErr error
		check   func(s user.Snapshot) bool
	}{
		{"all fields", command.UpdateProfile{Name: ptr("Alicia"), Phone: ptr("+14155550123"), Locale: ptr("en")}, nil,
			func(s user.Snapshot) bool { return s.Name == "Alicia" && s.Phone == "+14155550123" && s.Locale == "en" }},
		{"clear phone", command.UpdateProfile{Phone: ptr("")}, nil, func(s user.Snapshot) bool { return s.Phone == "" }},
		{"bad phone", command.UpdateProfile{Name: ptr("Alicia"), Phone: ptr("12345")}, user.ErrInvalidPhone,
			func(s user.Snapshot) bool { return s.Name == "Alice" }},
		{"bad locale", command.UpdateProfile{Locale: ptr("fr")}, user.ErrInvalidLocale, func(s user.Snapshot) bool { return s.Locale == "ko" }},
		{"blank name", command.UpdateProfile{Name: ptr(" ")}, user.ErrNameRequired, func(s user.Snapshot) bool { return s.Name == "Alice" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			c := tt.cmd
			c.UserID = aliceID
			err := command.NewUpdateProfileHandler(f.deps).Handle(context.Background(), c)
			if !errors.Is(err, tt.wantErr) && (err != nil || tt.wantErr != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if s, _ := f.users.row(aliceID); !tt.check(s) {
				t.Errorf("stored %+v", s)
			}
		})
	}
}

func TestSessions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	const ttl = 30 * 24 * time.Hour
	if err := command.NewStartSessionHandler(f.deps).Handle(ctx, command.StartSession{UserID: aliceID, RefreshToken: "raw-token-1", TTL: ttl}); err != nil {
		t.Fatal(err)
	}
	if len(f.tokens.saved) != 1 {
		t.Fatalf("saved %d tokens", len(f.tokens.saved))
	}
	saved := f.tokens.saved[0]
	h1 := command.HashRefreshToken("raw-token-1")
	if saved.Hash != h1 || saved.FamilyID != h1 || saved.UserID != aliceID || !saved.CreatedAt.Equal(now) || !saved.ExpiresAt.Equal(now.Add(ttl)) {
		t.Errorf("saved %+v", saved)
	}
	if len(h1) != 64 || h1 == "raw-token-1" {
		t.Errorf("HashRefreshToken = %q, want a SHA-256 hex digest", h1)
	}

	refresh := command.NewRefreshSessionHandler(f.deps)
	if err := refresh.Handle(ctx, command.RefreshSession{OldToken: "raw-token-1", NewToken: "raw-token-2", TTL: ttl}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.tokens.rotated, []string{h1}) || f.tokens.next[0].Hash != command.HashRefreshToken("raw-token-2") {
		t.Errorf("rotated %v → %+v", f.tokens.rotated, f.tokens.next)
	}
	if err := refresh.Handle(ctx, command.RefreshSession{NewToken: "x"}); !errors.Is(err, user.ErrRefreshTokenInvalid) {
		t.Errorf("refresh without a token: err = %v", err)
	}
	f.tokens.rotateErr = user.ErrRefreshTokenInvalid
	if err := refresh.Handle(ctx, command.RefreshSession{OldToken: "reused", NewToken: "x"}); !errors.Is(err, user.ErrRefreshTokenInvalid) {
		t.Errorf("refresh with a bad token: err = %v", err)
	}

	if err := command.NewEndSessionHandler(f.deps).Handle(ctx, command.EndSession{RefreshToken: "raw-token-2"}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.tokens.revoked, []string{command.HashRefreshToken("raw-token-2")}) {
		t.Errorf("revoked %v", f.tokens.revoked)
	}
	for _, raw := range []string{"raw-token-1", "raw-token-2"} {
		if strings.Contains(f.logs.String(), raw) {
			t.Errorf("the log contains the refresh token %q", raw)
		}
	}
}
