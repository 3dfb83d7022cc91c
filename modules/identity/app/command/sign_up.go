// Package command holds the identity module's commands, one file each.
package command

import (
	"context"
	"log/slog"
	"time"

	"github.com/taskd/taskd/modules/identity/domain/user"
	"github.com/taskd/taskd/modules/kernel/decorator"
)

// SignUp registers a user. The port generates ID.
type SignUp struct {
	ID       string
	Email    string
	Password string
	Name     string
	Phone    string
}

// LogAttrs never includes the password.
func (c SignUp) LogAttrs() []slog.Attr { return []slog.Attr{slog.String("user_id", c.ID)} }

type SignUpHandler decorator.CommandHandler[SignUp]

// Deps are what the identity commands share.
type Deps struct {
	Users      user.Repository
	Tokens     user.RefreshTokenStore
	Tx         Transactor
	Tasks      TaskReleaser
	Clock      func() time.Time
	NewEventID func() string
	HashParams user.HashParams
	Logger     *slog.Logger
	Metrics    decorator.Metrics
}

type signUpHandler struct{ d Deps }

func NewSignUpHandler(d Deps) SignUpHandler {
	return decorator.ApplyCommandDecorators[SignUp](signUpHandler{d}, d.Logger, d.Metrics)
}

func (h signUpHandler) Handle(ctx context.Context, c SignUp) error {
	email, err := user.EmailFromString(c.Email)
	if err != nil {
		return err
	}
	phone, err := user.PhoneFromString(c.Phone)
	if err != nil {
		return err
	}
	if err := user.CheckName(c.Name); err != nil {
		return err
	}
	if err := user.CheckPasswordPolicy(c.Password, email); err != nil {
		return err
	}
	// Hash only once every rule has passed: hashing is the expensive part.
	hash, err := user.HashPassword(c.Password, h.d.HashParams)
	if err != nil {
		return err
	}
	u, err := user.NewUser(user.NewUserParams{ID: c.ID, Email: email, Name: c.Name, Phone: phone, PasswordHash: hash}, h.d.Clock(), h.d.NewEventID)
	if err != nil {
		return err
	}
	return h.d.Users.Add(ctx, u)
}
