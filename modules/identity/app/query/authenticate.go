package query

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/taskd/taskd/modules/identity/domain/user"
	"github.com/taskd/taskd/modules/kernel/decorator"
)

// Authenticate checks an e-mail and password and returns the principal.
// A wrong e-mail and a wrong password give the same error, in about the same
// time: an unknown e-mail is still checked against a dummy hash.
type Authenticate struct {
	Email    string
	Password string
}

func (q Authenticate) LogAttrs() []slog.Attr { return nil }

type AuthenticateHandler decorator.QueryHandler[Authenticate, Principal]

type authenticateHandler struct {
	users  user.Repository
	params user.HashParams
}

func NewAuthenticateHandler(users user.Repository, params user.HashParams, logger *slog.Logger, m decorator.Metrics) AuthenticateHandler {
	return decorator.ApplyQueryDecorators[Authenticate, Principal](authenticateHandler{users: users, params: params}, logger, m)
}

var (
	dummyOnce sync.Once
	dummyHash string
)

func (h authenticateHandler) Handle(ctx context.Context, q Authenticate) (Principal, error) {
	email, err := user.EmailFromString(q.Email)
	if err != nil {
		return Principal{}, user.ErrInvalidCredentials
	}
	u, err := h.users.ByEmail(ctx, email)
	if errors.Is(err, user.ErrNotFound) {
		dummyOnce.Do(func() { dummyHash, _ = user.HashPassword("not a password of anyone", h.params) })
		user.VerifyPassword(q.Password, dummyHash)
		return Principal{}, user.ErrInvalidCredentials
	}
	if err != nil {
		return Principal{}, err
	}
	if err := u.CheckPassword(q.Password, user.ErrInvalidCredentials); err != nil {
		return Principal{}, err
	}
	return Principal{UserID: u.ID(), Email: u.Email().String(), Role: u.Role().String(), TokenVersion: u.TokenVersion()}, nil
}
