package command

import (
	"context"
	"log/slog"

	"github.com/taskd/taskd/modules/identity/domain/user"
	"github.com/taskd/taskd/modules/kernel/decorator"
)

// ChangePassword replaces the caller's password; every session ends.
type ChangePassword struct {
	UserID      string
	OldPassword string
	NewPassword string
}

func (c ChangePassword) LogAttrs() []slog.Attr { return []slog.Attr{slog.String("user_id", c.UserID)} }

type ChangePasswordHandler decorator.CommandHandler[ChangePassword]

type changePasswordHandler struct{ d Deps }

func NewChangePasswordHandler(d Deps) ChangePasswordHandler {
	return decorator.ApplyCommandDecorators[ChangePassword](changePasswordHandler{d}, d.Logger, d.Metrics)
}

func (h changePasswordHandler) Handle(ctx context.Context, c ChangePassword) error {
	hash := func(pw string) (string, error) { return user.HashPassword(pw, h.d.HashParams) }
	return h.d.Tx.WithinTransaction(ctx, func(ctx context.Context) error {
		if err := h.d.Users.Update(ctx, c.UserID, func(ctx context.Context, u *user.User) error {
			return u.ChangePassword(c.OldPassword, c.NewPassword, hash, h.d.Clock())
		}); err != nil {
			return err
		}
		return h.d.Tokens.RevokeUser(ctx, c.UserID)
	})
}
