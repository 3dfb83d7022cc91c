package command

import (
	"context"
	"log/slog"

	"github.com/taskd/taskd/modules/identity/domain/user"
	"github.com/taskd/taskd/modules/kernel/decorator"
)

// ChangeRole sets a user's role (from `taskd users promote`, or an admin).
type ChangeRole struct {
	Email   string
	Role    string
	ActorID string // "" for the command line
}

func (c ChangeRole) LogAttrs() []slog.Attr {
	return []slog.Attr{slog.String("role", c.Role), slog.String("actor", c.ActorID)}
}

type ChangeRoleHandler decorator.CommandHandler[ChangeRole]

type changeRoleHandler struct{ d Deps }

func NewChangeRoleHandler(d Deps) ChangeRoleHandler {
	return decorator.ApplyCommandDecorators[ChangeRole](changeRoleHandler{d}, d.Logger, d.Metrics)
}

func (h changeRoleHandler) Handle(ctx context.Context, c ChangeRole) error {
	role, err := user.RoleFromString(c.Role)
	if err != nil {
		return err
	}
	email, err := user.EmailFromString(c.Email)
	if err != nil {
		return err
	}
	u, err := h.d.Users.ByEmail(ctx, email)
	if err != nil {
		return err
	}
	return h.d.Users.Update(ctx, u.ID(), func(ctx context.Context, u *user.User) error {
		return u.ChangeRole(role, c.ActorID, h.d.Clock())
	})
}
