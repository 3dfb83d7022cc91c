package command

import (
	"context"
	"log/slog"
	"time"

	"github.com/taskd/taskd/modules/kernel/decorator"
	"github.com/taskd/taskd/modules/kernel/errs"
	n "github.com/taskd/taskd/modules/notifications/domain/notification"
)

// UpdatePreferences replaces the user's notification preferences: channels
// per kind (a kind left out keeps its defaults, a channel left out of a
// kind is off) and optional quiet hours.
type UpdatePreferences struct {
	UserID   string
	Channels map[string]map[string]bool
	Quiet    *QuietHours
}

// QuietHours as given: "22:00", "07:00"; TimeZone "" means the user's
// locale's default (Asia/Seoul for Korean, UTC for English).
type QuietHours struct {
	Start, End, TimeZone string
}

func (c UpdatePreferences) LogAttrs() []slog.Attr {
	return []slog.Attr{slog.String("user_id", c.UserID)}
}

type UpdatePreferencesHandler decorator.CommandHandler[UpdatePreferences]

type updatePreferencesHandler struct {
	store     PreferencesRepository
	directory Directory
	clock     func() time.Time
}

func NewUpdatePreferencesHandler(d Deps, logger *slog.Logger, m decorator.Metrics) UpdatePreferencesHandler {
	return decorator.ApplyCommandDecorators[UpdatePreferences](updatePreferencesHandler{store: d.Store, directory: d.Directory, clock: d.Clock}, logger, m)
}

var errUserNotFound = errs.NotFound("user_not_found", "no such user")

func (h updatePreferencesHandler) Handle(ctx context.Context, c UpdatePreferences) error {
	channels := make(map[n.Kind]map[n.Channel]bool, len(c.Channels))
	for ks, chs := range c.Channels {
		k, err := n.KindFromString(ks)
		if err != nil {
			return err
		}
		m := make(map[n.Channel]bool, len(chs))
		for cs, on := range chs {
			ch, err := n.ChannelFromString(cs)
			if err != nil {
				return err
			}
			m[ch] = on
		}
		channels[k] = m
	}
	var quiet *n.QuietHours
	if c.Quiet != nil {
		zone := c.Quiet.TimeZone
		if zone == "" {
			users, err := h.directory.Users(ctx, []string{c.UserID})
			if err != nil {
				return err
			}
			u, ok := users[c.UserID]
			if !ok {
				return errUserNotFound
			}
			zone = n.DefaultZone(u.Locale)
		}
		var err error
		if quiet, err = n.NewQuietHours(c.Quiet.Start, c.Quiet.End, zone); err != nil {
			return err
		}
	}
	p, err := n.NewPreferences(c.UserID, channels, quiet)
	if err != nil {
		return err
	}
	return h.store.SavePreferences(ctx, p, h.clock())
}
