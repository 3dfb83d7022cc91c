package command_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/taskd/taskd/modules/identity/app/command"
	"github.com/taskd/taskd/modules/identity/contracts"
	"github.com/taskd/taskd/modules/identity/domain/user"
)

const bobID = "0190a6c4-0000-7000-8000-0000000000bb"

func TestSignUp(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	err := command.NewSignUpHandler(f.deps).Handle(context.Background(), command.SignUp{
		ID: bobID, Email: " Bob@Example.COM ", Password: "bobs own passphrase", Name: " Bob ", Phone: "+821012345678",
	})
	if err != nil {
		t.Fatal(err)
	}
	s, ok := f.users.row(bobID)
	if !ok {
		t.Fatal("Bob was not stored")
	}
	if s.Email != "bob@example.com" || s.Name != "Bob" || s.Phone != "+821012345678" || s.Role != "member" || !s.CreatedAt.Equal(now) {
		t.Errorf("stored %+v", s)
	}
	if !user.VerifyPassword("bobs own passphrase", s.PasswordHash) {
		t.Error("the stored hash does not verify the password")
	}
	if !strings.HasPrefix(s.PasswordHash, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("hash %q does not use the configured parameters", s.PasswordHash)
	}
	if got := f.users.eventNames(); !slices.Equal(got, []string{contracts.NameUserRegistered}) {
		t.Errorf("events = %v", got)
	}
}

// Every rule is checked before the password is hashed: hashing costs 19 MiB
// and tens of milliseconds, and must not be spent on a request that fails.
// The fixture's hash parameters are invalid, so reaching the hash fails
// differently from the expected validation error.
func TestSignUpValidatesBeforeHashing(t *testing.T) {
	t.Parallel()
	valid := command.SignUp{ID: bobID, Email: "bob@example.com", Password: "bobs own passphrase", Name: "Bob"}
	tests := []struct {
		name    string
		mod     func(c *command.SignUp)
		wantErr error
	}{
		{"bad e-mail", func(c *command.SignUp) { c.Email = "bob" }, user.ErrInvalidEmail},
		{"bad phone", func(c *command.SignUp) { c.Phone = "010-1234-5678" }, user.ErrInvalidPhone},
		{"short password", func(c *command.SignUp) { c.Password = "short" }, user.ErrPasswordTooShort},
		{"long password", func(c *command.SignUp) { c.Password = strings.Repeat("p", 257) }, user.ErrPasswordTooLong},
		{"password is the e-mail", func(c *command.SignUp) { c.Password = "BOB@example.com" }, user.ErrPasswordIsEmail},
		{"blank name", func(c *command.SignUp) { c.Name = "  " }, user.ErrNameRequired},
		{"long name", func(c *command.SignUp) { c.Name = strings.Repeat("n", 101) }, user.ErrNameTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			f.deps.HashParams = user.HashParams{} // hashing with these fails
			c := valid
			tt.mod(&c)
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("the password was hashed before validation (argon2 panicked: %v)", r)
					}
				}()
				err = command.NewSignUpHandler(f.deps).Handle(context.Background(), c)
			}()
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v (a hashing error means the password was hashed before validation)", err, tt.wantErr)
			}
			if _, ok := f.users.row(bobID); ok {
				t.Error("an invalid sign-up was stored")
			}
		})
	}
}

func TestSignUpEmailTaken(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	err := command.NewSignUpHandler(f.deps).Handle(context.Background(), command.SignUp{
		ID: bobID, Email: "ALICE@example.com", Password: "another passphrase", Name: "Alice two",
	})
	if !errors.Is(err, user.ErrEmailTaken) {
		t.Fatalf("err = %v, want ErrEmailTaken", err)
	}
}

// The logging decorator logs the command's LogAttrs and nothing else: the
// password never reaches the log, whether the command succeeds or fails.
func TestSignUpNeverLogsThePassword(t *testing.T) {
	t.Parallel()
	const secret = "my very secret passphrase"
	tests := []struct {
		name    string
		cmd     command.SignUp
		wantErr error
	}{
		{"success", command.SignUp{ID: bobID, Email: "bob@example.com", Password: secret, Name: "Bob"}, nil},
		{"failure", command.SignUp{ID: bobID, Email: "alice@example.com", Password: secret, Name: "Bob"}, user.ErrEmailTaken},
		{"password is the e-mail", command.SignUp{ID: bobID, Email: "bob@example.com", Password: "bob@example.com", Name: "Bob"}, user.ErrPasswordIsEmail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			err := command.NewSignUpHandler(f.deps).Handle(context.Background(), tt.cmd)
			if !errors.Is(err, tt.wantErr) && (err != nil || tt.wantErr != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			out := f.logs.String()
			if !strings.Contains(out, `"command":"SignUp"`) || !strings.Contains(out, `"user_id":"`+bobID+`"`) {
				t.Errorf("the log lacks the command or its user id:\n%s", out)
			}
			for _, leak := range []string{tt.cmd.Password, "argon2", "Password"} {
				if strings.Contains(out, leak) {
					t.Errorf("the log contains %q:\n%s", leak, out)
				}
			}
			if obs := f.metrics.observed("command SignUp"); len(obs) != 1 || obs[0] != err {
				t.Errorf("metrics observed %v, want [%v]", obs, err)
			}
		})
	}
}
