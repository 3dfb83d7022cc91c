package query

import (
	"context"
	"log/slog"
	"time"

	"github.com/taskd/taskd/modules/kernel/actor"
	"github.com/taskd/taskd/modules/kernel/decorator"
	"github.com/taskd/taskd/modules/kernel/errs"
	n "github.com/taskd/taskd/modules/notifications/domain/notification"
)

// DeliveryFilter selects deliveries; zero fields select all.
type DeliveryFilter struct {
	Status  n.Status
	Channel n.Channel
	After   *Cursor
	Limit   int
}

// DeliveriesReadModel serves the admins' view of deliveries.
type DeliveriesReadModel interface {
	// Deliveries returns deliveries newest first (creation time, then id).
	Deliveries(ctx context.Context, f DeliveryFilter) ([]n.Delivery, error)
}

// Delivery is a delivery record as admins see it.
type Delivery struct {
	ID          string
	SourceID    string
	EventName   string
	Channel     string
	RecipientID string
	Kind        string
	TaskID      string
	Subject     string
	Status      string
	Attempts    int
	NextAttempt *time.Time
	Address     string
	ProviderID  string
	LastError   string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	SentAt      *time.Time
}

// DeliveryPage is one page of deliveries.
type DeliveryPage struct {
	Items      []Delivery
	NextCursor string
}

// Deliveries lists delivery records, for admins only.
type Deliveries struct {
	Actor   actor.Actor
	Status  string // "" for all
	Channel string // "" for all
	Cursor  string
	Limit   int
}

func (q Deliveries) LogAttrs() []slog.Attr {
	return []slog.Attr{slog.String("actor", q.Actor.UserID), slog.String("status", q.Status)}
}

type DeliveriesHandler decorator.QueryHandler[Deliveries, DeliveryPage]

type deliveriesHandler struct{ rm DeliveriesReadModel }

func NewDeliveriesHandler(rm DeliveriesReadModel, logger *slog.Logger, m decorator.Metrics) DeliveriesHandler {
	return decorator.ApplyQueryDecorators[Deliveries, DeliveryPage](deliveriesHandler{rm}, logger, m)
}

var (
	ErrAdminsOnly     = errs.Forbidden("forbidden", "only admins may see deliveries")
	ErrInvalidStatus  = errs.Invalid("invalid_status", "status", "status must be one of pending, sending, sent, failed, unknown, skipped")
	ErrInvalidChannel = errs.Invalid("invalid_channel", "channel", "channel must be email or sms")
)

func (h deliveriesHandler) Handle(ctx context.Context, q Deliveries) (DeliveryPage, error) {
	if !q.Actor.IsAdmin() {
		return DeliveryPage{}, ErrAdminsOnly
	}
	f := DeliveryFilter{}
	var err error
	if q.Status != "" {
		if f.Status, err = n.StatusFromString(q.Status); err != nil {
			return DeliveryPage{}, ErrInvalidStatus
		}
	}
	if q.Channel != "" {
		if f.Channel, err = n.ChannelFromString(q.Channel); err != nil || f.Channel == n.ChannelInbox {
			return DeliveryPage{}, ErrInvalidChannel
		}
	}
	if f.Limit, err = limitOf(q.Limit); err != nil {
		return DeliveryPage{}, err
	}
	if f.After, err = DecodeCursor(q.Cursor); err != nil {
		return DeliveryPage{}, err
	}
	limit := f.Limit
	f.Limit++
	rows, err := h.rm.Deliveries(ctx, f)
	if err != nil {
		return DeliveryPage{}, err
	}
	page := DeliveryPage{Items: make([]Delivery, 0, min(len(rows), limit))}
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[limit-1]
		page.NextCursor = Cursor{At: last.CreatedAt, ID: last.ID}.Encode()
	}
	for _, d := range rows {
		v := Delivery{
			ID: d.ID, SourceID: d.SourceID, EventName: d.EventName, Channel: d.Channel.String(), RecipientID: d.RecipientID,
			Kind: d.Kind.String(), TaskID: d.TaskID, Subject: d.Subject, Status: d.Status.String(), Attempts: d.Attempts,
			Address: d.Address, ProviderID: d.ProviderID, LastError: d.LastError, CreatedAt: d.CreatedAt,
			UpdatedAt: d.UpdatedAt, SentAt: d.SentAt,
		}
		if d.Status == n.StatusPending {
			at := d.NextAttemptAt
			v.NextAttempt = &at
		}
		page.Items = append(page.Items, v)
	}
	return page, nil
}
