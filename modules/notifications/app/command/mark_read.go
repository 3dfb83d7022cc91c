package command

import (
	"context"
	"log/slog"
	"time"

	"github.com/taskd/taskd/modules/kernel/decorator"
)

// MarkNotificationRead marks one of the user's notifications read.
type MarkNotificationRead struct {
	UserID string
	ID     string
}

func (c MarkNotificationRead) LogAttrs() []slog.Attr {
	return []slog.Attr{slog.String("user_id", c.UserID), slog.String("notification_id", c.ID)}
}

type MarkNotificationReadHandler decorator.CommandHandler[MarkNotificationRead]

type markReadHandler struct {
	inbox InboxRepository
	clock func() time.Time
}

func NewMarkNotificationReadHandler(d Deps, logger *slog.Logger, m decorator.Metrics) MarkNotificationReadHandler {
	return decorator.ApplyCommandDecorators[MarkNotificationRead](markReadHandler{inbox: d.Store, clock: d.Clock}, logger, m)
}

func (h markReadHandler) Handle(ctx context.Context, c MarkNotificationRead) error {
	if c.UserID == "" || c.ID == "" {
		return ErrNotificationNotFound
	}
	return h.inbox.MarkRead(ctx, c.UserID, c.ID, h.clock())
}

// MarkAllNotificationsRead marks every unread notification of the user read.
type MarkAllNotificationsRead struct {
	UserID string
}

func (c MarkAllNotificationsRead) LogAttrs() []slog.Attr {
	return []slog.Attr{slog.String("user_id", c.UserID)}
}

type MarkAllNotificationsReadHandler decorator.CommandHandler[MarkAllNotificationsRead]

type markAllReadHandler struct {
	inbox InboxRepository
	clock func() time.Time
}

func NewMarkAllNotificationsReadHandler(d Deps, logger *slog.Logger, m decorator.Metrics) MarkAllNotificationsReadHandler {
	return decorator.ApplyCommandDecorators[MarkAllNotificationsRead](markAllReadHandler{inbox: d.Store, clock: d.Clock}, logger, m)
}

func (h markAllReadHandler) Handle(ctx context.Context, c MarkAllNotificationsRead) error {
	_, err := h.inbox.MarkAllRead(ctx, c.UserID, h.clock())
	return err
}
