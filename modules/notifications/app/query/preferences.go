package query

import (
	"context"
	"log/slog"

	"github.com/taskd/taskd/modules/kernel/decorator"
	n "github.com/taskd/taskd/modules/notifications/domain/notification"
)

// PreferencesReadModel returns saved preferences (users who never chose
// are absent).
type PreferencesReadModel interface {
	Preferences(ctx context.Context, userIDs []string) (map[string]*n.Preferences, error)
}

// Preferences are a user's effective choices: every kind with every channel.
type Preferences struct {
	Channels map[string]map[string]bool
	Quiet    *QuietHours
}

// QuietHours as shown.
type QuietHours struct {
	Start, End, TimeZone string
}

// NotificationPreferences returns a user's preferences (the defaults when
// they never chose).
type NotificationPreferences struct{ UserID string }

func (q NotificationPreferences) LogAttrs() []slog.Attr {
	return []slog.Attr{slog.String("user_id", q.UserID)}
}

type NotificationPreferencesHandler decorator.QueryHandler[NotificationPreferences, Preferences]

type preferencesHandler struct{ rm PreferencesReadModel }

func NewNotificationPreferencesHandler(rm PreferencesReadModel, logger *slog.Logger, m decorator.Metrics) NotificationPreferencesHandler {
	return decorator.ApplyQueryDecorators[NotificationPreferences, Preferences](preferencesHandler{rm}, logger, m)
}

func (h preferencesHandler) Handle(ctx context.Context, q NotificationPreferences) (Preferences, error) {
	saved, err := h.rm.Preferences(ctx, []string{q.UserID})
	if err != nil {
		return Preferences{}, err
	}
	p := saved[q.UserID]
	if p == nil {
		p = n.DefaultPreferences(q.UserID)
	}
	out := Preferences{Channels: map[string]map[string]bool{}}
	for k, chs := range p.Channels() {
		m := map[string]bool{}
		for c, on := range chs {
			m[c.String()] = on
		}
		out.Channels[k.String()] = m
	}
	if qh := p.QuietHours(); qh != nil {
		start, end := qh.Clock()
		out.Quiet = &QuietHours{Start: start, End: end, TimeZone: qh.Zone()}
	}
	return out, nil
}
