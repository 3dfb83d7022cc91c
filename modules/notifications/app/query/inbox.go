package query

import (
	"context"
	"log/slog"
	"time"

	"github.com/taskd/taskd/modules/kernel/decorator"
	n "github.com/taskd/taskd/modules/notifications/domain/notification"
)

// InboxReadModel serves the inbox queries.
type InboxReadModel interface {
	// Inbox returns up to limit of userID's notifications after the cursor,
	// newest first (by creation time, then id), only unread ones if asked.
	Inbox(ctx context.Context, userID string, unreadOnly bool, after *Cursor, limit int) ([]n.Notification, error)
	UnreadCount(ctx context.Context, userID string) (int, error)
}

// Notification is an inbox entry as the API shows it.
type Notification struct {
	ID        string
	Kind      string
	Title     string
	Message   string
	TaskID    string
	TaskName  string
	ActorID   string
	ActorName string
	Link      string
	CreatedAt time.Time
	ReadAt    *time.Time
}

// InboxPage is one page of a user's inbox.
type InboxPage struct {
	Items []Notification
	// NextCursor is "" on the last page.
	NextCursor  string
	UnreadCount int
}

// Inbox lists a user's notifications, newest first.
type Inbox struct {
	UserID     string
	UnreadOnly bool
	Cursor     string
	Limit      int // 0: 30; at most 100
}

func (q Inbox) LogAttrs() []slog.Attr { return []slog.Attr{slog.String("user_id", q.UserID)} }

type InboxHandler decorator.QueryHandler[Inbox, InboxPage]

type inboxHandler struct{ rm InboxReadModel }

func NewInboxHandler(rm InboxReadModel, logger *slog.Logger, m decorator.Metrics) InboxHandler {
	return decorator.ApplyQueryDecorators[Inbox, InboxPage](inboxHandler{rm}, logger, m)
}

func (h inboxHandler) Handle(ctx context.Context, q Inbox) (InboxPage, error) {
	limit, err := limitOf(q.Limit)
	if err != nil {
		return InboxPage{}, err
	}
	after, err := DecodeCursor(q.Cursor)
	if err != nil {
		return InboxPage{}, err
	}
	rows, err := h.rm.Inbox(ctx, q.UserID, q.UnreadOnly, after, limit+1)
	if err != nil {
		return InboxPage{}, err
	}
	unread, err := h.rm.UnreadCount(ctx, q.UserID)
	if err != nil {
		return InboxPage{}, err
	}
	page := InboxPage{Items: make([]Notification, 0, min(len(rows), limit)), UnreadCount: unread}
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[limit-1]
		page.NextCursor = Cursor{At: last.CreatedAt, ID: last.ID}.Encode()
	}
	for _, r := range rows {
		page.Items = append(page.Items, Notification{
			ID: r.ID, Kind: r.Kind.String(), Title: r.Title, Message: r.Body, TaskID: r.TaskID, TaskName: r.TaskName,
			ActorID: r.ActorID, ActorName: r.ActorName, Link: r.Link, CreatedAt: r.CreatedAt, ReadAt: r.ReadAt,
		})
	}
	return page, nil
}

// UnreadCount is how many of the user's notifications are unread.
type UnreadCount struct{ UserID string }

func (q UnreadCount) LogAttrs() []slog.Attr { return []slog.Attr{slog.String("user_id", q.UserID)} }

type UnreadCountHandler decorator.QueryHandler[UnreadCount, int]

type unreadCountHandler struct{ rm InboxReadModel }

func NewUnreadCountHandler(rm InboxReadModel, logger *slog.Logger, m decorator.Metrics) UnreadCountHandler {
	return decorator.ApplyQueryDecorators[UnreadCount, int](unreadCountHandler{rm}, logger, m)
}

func (h unreadCountHandler) Handle(ctx context.Context, q UnreadCount) (int, error) {
	return h.rm.UnreadCount(ctx, q.UserID)
}
