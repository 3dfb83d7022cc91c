package query_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/taskd/taskd/modules/kernel/actor"
	"github.com/taskd/taskd/modules/kernel/decorator"
	"github.com/taskd/taskd/modules/notifications/app/query"
	n "github.com/taskd/taskd/modules/notifications/domain/notification"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// inboxRM serves a fixed inbox, newest first, honouring cursor and limit.
type inboxRM struct{ items []n.Notification }

func (r inboxRM) Inbox(_ context.Context, user string, unread bool, after *query.Cursor, limit int) ([]n.Notification, error) {
	var out []n.Notification
	for _, x := range r.items {
		if x.RecipientID != user || (unread && x.ReadAt != nil) {
			continue
		}
		if after != nil && !(x.CreatedAt.Before(after.At) || x.CreatedAt.Equal(after.At) && x.ID < after.ID) {
			continue
		}
		if len(out) < limit {
			out = append(out, x)
		}
	}
	return out, nil
}

func (r inboxRM) UnreadCount(_ context.Context, user string) (int, error) {
	k := 0
	for _, x := range r.items {
		if x.RecipientID == user && x.ReadAt == nil {
			k++
		}
	}
	return k, nil
}

func TestInboxPages(t *testing.T) {
	t.Parallel()
	var rm inboxRM
	for i := 5; i > 0; i-- {
		rm.items = append(rm.items, n.Notification{ID: string(rune('a' + i)), RecipientID: "u", Kind: n.KindOverdue, CreatedAt: t0.Add(time.Duration(i) * time.Minute)})
	}
	read := t0
	rm.items[0].ReadAt = &read
	h := query.NewInboxHandler(rm, slog.New(slog.DiscardHandler), decorator.NopMetrics{})
	ctx := context.Background()
	p, err := h.Handle(ctx, query.Inbox{UserID: "u", Limit: 2})
	if err != nil || len(p.Items) != 2 || p.Items[0].ID != "f" || p.NextCursor == "" || p.UnreadCount != 4 || p.Items[0].Kind != "overdue" {
		t.Fatalf("first page %+v %v", p, err)
	}
	var ids []string
	for cur := ""; ; {
		p, err := h.Handle(ctx, query.Inbox{UserID: "u", Limit: 2, Cursor: cur})
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range p.Items {
			ids = append(ids, x.ID)
		}
		if cur = p.NextCursor; cur == "" {
			break
		}
	}
	if len(ids) != 5 || ids[4] != "b" {
		t.Fatalf("all pages: %v", ids)
	}
	if p, _ := h.Handle(ctx, query.Inbox{UserID: "u", UnreadOnly: true}); len(p.Items) != 4 {
		t.Fatalf("unread only: %d", len(p.Items))
	}
	for _, q := range []query.Inbox{{UserID: "u", Limit: 101}, {UserID: "u", Limit: -1}, {UserID: "u", Cursor: "!!"}, {UserID: "u", Cursor: "eHl6"}} {
		if _, err := h.Handle(ctx, q); err == nil {
			t.Errorf("%+v accepted", q)
		}
	}
}

func TestCursorRoundTrip(t *testing.T) {
	t.Parallel()
	c := query.Cursor{At: t0.Add(123 * time.Microsecond), ID: "01a2-x"}
	got, err := query.DecodeCursor(c.Encode())
	if err != nil || !got.At.Equal(c.At) || got.ID != c.ID {
		t.Fatalf("%+v %v", got, err)
	}
	if got, err := query.DecodeCursor(""); got != nil || err != nil {
		t.Fatal("empty cursor")
	}
}

type deliveriesRM struct{ got query.DeliveryFilter }

func (r *deliveriesRM) Deliveries(_ context.Context, f query.DeliveryFilter) ([]n.Delivery, error) {
	r.got = f
	return []n.Delivery{{ID: "d1", Channel: n.ChannelEmail, Kind: n.KindOverdue, Status: n.StatusPending, NextAttemptAt: t0, CreatedAt: t0}}, nil
}

func TestDeliveriesAreForAdmins(t *testing.T) {
	t.Parallel()
	rm := &deliveriesRM{}
	h := query.NewDeliveriesHandler(rm, slog.New(slog.DiscardHandler), decorator.NopMetrics{})
	ctx := context.Background()
	admin := actor.Actor{UserID: "a", Role: "admin"}
	if _, err := h.Handle(ctx, query.Deliveries{Actor: actor.Actor{UserID: "m", Role: "manager"}}); !errors.Is(err, query.ErrAdminsOnly) {
		t.Fatalf("a manager: %v", err)
	}
	p, err := h.Handle(ctx, query.Deliveries{Actor: admin, Status: "failed", Channel: "sms", Limit: 10})
	if err != nil || rm.got.Status != n.StatusFailed || rm.got.Channel != n.ChannelSMS || rm.got.Limit != 11 {
		t.Fatalf("filter %+v %v", rm.got, err)
	}
	if len(p.Items) != 1 || p.Items[0].NextAttempt == nil || p.Items[0].Channel != "email" {
		t.Fatalf("page %+v", p)
	}
	for _, q := range []query.Deliveries{{Actor: admin, Status: "lost"}, {Actor: admin, Channel: "inbox"}, {Actor: admin, Channel: "fax"}} {
		if _, err := h.Handle(ctx, q); err == nil {
			t.Errorf("%+v accepted", q)
		}
	}
}
