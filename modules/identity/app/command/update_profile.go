package command

import (
	"context"
	"log/slog"

	"github.com/taskd/taskd/modules/identity/domain/user"
	"github.com/taskd/taskd/modules/kernel/decorator"
)

// UpdateProfile changes the caller's name, phone or locale (nil = unchanged).
type UpdateProfile struct {
	UserID string
	Name   *string
	Phone  *string
	Locale *string
}

func (c UpdateProfile) LogAttrs() []slog.Attr { return []slog.Attr{slog.String("user_id", c.UserID)} }

type UpdateProfileHandler decorator.CommandHandler[UpdateProfile]

type updateProfileHandler struct{ d Deps }

func NewUpdateProfileHandler(d Deps) UpdateProfileHandler {
	return decorator.ApplyCommandDecorators[UpdateProfile](updateProfileHandler{d}, d.Logger, d.Metrics)
}

func (h updateProfileHandler) Handle(ctx context.Context, c UpdateProfile) error {
	edit := user.ProfileEdit{Name: c.Name}
	if c.Phone != nil {
		p, err := user.PhoneFromString(*c.Phone)
		if err != nil {
			return err
		}
		edit.Phone = &p
	}
	if c.Locale != nil {
		l, err := user.LocaleFromString(*c.Locale)
		if err != nil {
			return err
		}
		edit.Locale = &l
	}
	return h.d.Users.Update(ctx, c.UserID, func(ctx context.Context, u *user.User) error {
		return u.UpdateProfile(edit, h.d.Clock())
	})
}
