package command

import (
	"context"
	"log/slog"

	"github.com/taskd/taskd/modules/identity/domain/user"
	"github.com/taskd/taskd/modules/kernel/decorator"
)

// DeleteAccount deletes the caller's account after checking the password.
// In one transaction: the user row goes, UserDeleted is recorded, every
// refresh token is revoked, and the user is removed as PIC and supervisor of
// every task (with the tasks' own TaskAssigned events).
type DeleteAccount struct {
	UserID   string
	Password string
}

func (c DeleteAccount) LogAttrs() []slog.Attr { return []slog.Attr{slog.String("user_id", c.UserID)} }

type DeleteAccountHandler decorator.CommandHandler[DeleteAccount]

type deleteAccountHandler struct{ d Deps }

func NewDeleteAccountHandler(d Deps) DeleteAccountHandler {
	return decorator.ApplyCommandDecorators[DeleteAccount](deleteAccountHandler{d}, d.Logger, d.Metrics)
}

func (h deleteAccountHandler) Handle(ctx context.Context, c DeleteAccount) error {
	return h.d.Tx.WithinTransaction(ctx, func(ctx context.Context) error {
		if err := h.d.Users.Update(ctx, c.UserID, func(ctx context.Context, u *user.User) error {
			return u.Delete(c.Password, h.d.Clock())
		}); err != nil {
			return err
		}
		if err := h.d.Tokens.RevokeUser(ctx, c.UserID); err != nil {
			return err
		}
		return h.d.Tasks.ReleaseUserTasks(ctx, c.UserID)
	})
}
