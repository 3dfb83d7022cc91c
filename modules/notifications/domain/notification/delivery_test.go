package notification_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	n "github.com/taskd/taskd/modules/notifications/domain/notification"
)

func TestRetryPolicy(t *testing.T) {
	t.Parallel()
	p := n.RetryPolicy{MaxAttempts: 4, First: time.Second, Max: 3 * time.Second}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	transient := errors.New("connection refused")
	if o := p.After(1, nil, now); o.Status != n.StatusSent {
		t.Fatal(o)
	}
	for attempt, wait := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 3 * time.Second} {
		o := p.After(attempt, transient, now)
		if o.Status != n.StatusPending || !o.NextAttempt.Equal(now.Add(wait)) || o.Error != "connection refused" {
			t.Errorf("attempt %d: %+v", attempt, o)
		}
	}
	if o := p.After(4, transient, now); o.Status != n.StatusFailed || !strings.Contains(o.Error, "retries exhausted") {
		t.Errorf("exhausted: %+v", o)
	}
	perm := fmt.Errorf("smtp: %w", n.Permanent(errors.New("550 no such user")))
	if o := p.After(1, perm, now); o.Status != n.StatusFailed || o.Error != "smtp: 550 no such user" {
		t.Errorf("permanent: %+v", o)
	}
	if !n.IsPermanent(perm) || n.IsPermanent(transient) || n.Permanent(nil) != nil {
		t.Error("IsPermanent")
	}
	if o := (n.RetryPolicy{}).After(1, transient, now); !o.NextAttempt.Equal(now.Add(30 * time.Second)) {
		t.Errorf("defaults: %+v", o)
	}
	for _, s := range n.Statuses {
		if got, err := n.StatusFromString(s.String()); err != nil || got != s {
			t.Error(s)
		}
	}
	if _, err := n.StatusFromString("lost"); err == nil {
		t.Error("unknown status accepted")
	}
}

func TestAfterSendOnAnAtMostOnceChannel(t *testing.T) {
	t.Parallel()
	p := n.RetryPolicy{MaxAttempts: 3, First: time.Second}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	timeout := fmt.Errorf("sms: %w", context.DeadlineExceeded)
	if o := p.AfterSend(n.AtMostOnce, 1, timeout, now); o.Status != n.StatusUnknown || !strings.Contains(o.Error, "not sent again") {
		t.Errorf("at most once, timed out: %+v", o)
	}
	if o := p.AfterSend(n.AtLeastOnce, 1, timeout, now); o.Status != n.StatusPending {
		t.Errorf("at least once, timed out: %+v", o)
	}
	if o := p.AfterSend(n.AtMostOnce, 1, errors.New("connection refused"), now); o.Status != n.StatusPending {
		t.Errorf("at most once, refused before sending: %+v", o)
	}
	if o := p.AfterSend(n.AtMostOnce, 1, nil, now); o.Status != n.StatusSent {
		t.Errorf("sent: %+v", o)
	}
}

func TestAlertText(t *testing.T) {
	t.Parallel()
	s := n.Alert{Kind: n.AlertDeadLetter, Queue: "notifications", EventName: "TaskCreated", EventID: "e1", Attempts: 5, Error: "boom"}.Text()
	for _, want := range []string{"dead-letter", "queue: notifications", "event: TaskCreated", "event id: e1", "receive count: 5", "error: boom"} {
		if !strings.Contains(s, want) {
			t.Errorf("%q lacks %q", s, want)
		}
	}
	s = n.Alert{Kind: n.AlertDeliveryFailed, DeliveryID: "d1", Channel: "email", RecipientID: "u1", Status: "failed", Error: "550"}.Text()
	if !strings.Contains(s, "could not be delivered (failed)") || !strings.Contains(s, "channel: email") || strings.Contains(s, "attempts") {
		t.Errorf("%q", s)
	}
}
