package notification

import (
	"context"
	"errors"
	"strconv"
	"time"
)

// Delivery statuses. A delivery is one message to one recipient through one
// channel (e-mail, SMS), recorded before it is sent under the unique key
// (source, channel, recipient), where the source is the event id or the
// reminder key.
//
//	pending ──claim──▶ sending ──▶ sent
//	   ▲                  │ ├──▶ failed   (permanent error, or retries exhausted)
//	   └──transient error─┘ └──▶ unknown  (the process stopped while sending on an
//	                                       at-most-once channel: not sent again)
//	pending ──recipient deleted──▶ skipped
type Status struct{ s string }

var (
	StatusPending = Status{"pending"}
	StatusSending = Status{"sending"}
	StatusSent    = Status{"sent"}
	StatusFailed  = Status{"failed"}
	StatusUnknown = Status{"unknown"}
	StatusSkipped = Status{"skipped"}
)

// Statuses lists every status.
var Statuses = []Status{StatusPending, StatusSending, StatusSent, StatusFailed, StatusUnknown, StatusSkipped}

// StatusFromString parses a status.
func StatusFromString(s string) (Status, error) {
	for _, st := range Statuses {
		if st.s == s {
			return st, nil
		}
	}
	return Status{}, errors.New("unknown delivery status")
}

func (s Status) String() string { return s.s }
func (s Status) IsZero() bool   { return s == Status{} }

// Guarantee is what a channel promises when the process stops between
// handing a message to the provider and recording that it did (the crash
// window): the provider may or may not have it.
type Guarantee int

const (
	// AtMostOnce: a delivery interrupted mid-send is not sent again; it is
	// recorded as unknown and reported (SES, SMS: no provider idempotency
	// key exists, and a second SMS costs money and wakes people twice).
	AtMostOnce Guarantee = iota
	// AtLeastOnce: it is sent again (SMTP, whose stable Message-ID lets
	// mail clients drop the copy; team-chat alerts, where a duplicate is
	// harmless and a missing alert is not).
	AtLeastOnce
)

func (g Guarantee) String() string {
	if g == AtLeastOnce {
		return "at-least-once"
	}
	return "at-most-once"
}

// RetryPolicy says how often and how soon a delivery that failed for a
// transient reason is tried again.
type RetryPolicy struct {
	// MaxAttempts counts every attempt, the first included (default 6).
	MaxAttempts int
	// First is the wait after the first failure, doubling up to Max
	// (defaults 30s and 30m).
	First, Max time.Duration
}

// DefaultRetryPolicy: 6 attempts over about 15 minutes.
var DefaultRetryPolicy = RetryPolicy{MaxAttempts: 6, First: 30 * time.Second, Max: 30 * time.Minute}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultRetryPolicy.MaxAttempts
	}
	if p.First <= 0 {
		p.First = DefaultRetryPolicy.First
	}
	if p.Max < p.First {
		p.Max = max(DefaultRetryPolicy.Max, p.First)
	}
	return p
}

// Outcome is what becomes of a delivery after an attempt.
type Outcome struct {
	Status      Status
	NextAttempt time.Time // for StatusPending
	Error       string
}

// After decides what follows attempt number attempt (1 for the first)
// ending with err at now.
func (p RetryPolicy) After(attempt int, err error, now time.Time) Outcome {
	p = p.withDefaults()
	if err == nil {
		return Outcome{Status: StatusSent}
	}
	msg := truncate(err.Error(), 1000)
	if IsPermanent(err) {
		return Outcome{Status: StatusFailed, Error: msg}
	}
	if attempt >= p.MaxAttempts {
		return Outcome{Status: StatusFailed, Error: "retries exhausted: " + msg}
	}
	wait := p.First
	for i := 1; i < attempt && wait < p.Max; i++ {
		wait *= 2
	}
	return Outcome{Status: StatusPending, NextAttempt: now.Add(min(wait, p.Max)), Error: msg}
}

// AfterSend is After for a send through a channel with guarantee g: on an
// at-most-once channel a send that timed out may have reached the provider,
// so it is not tried again but recorded unknown (and alerted).
func (p RetryPolicy) AfterSend(g Guarantee, attempt int, err error, now time.Time) Outcome {
	if err != nil && g == AtMostOnce && errors.Is(err, context.DeadlineExceeded) && !IsPermanent(err) {
		return Outcome{Status: StatusUnknown, Error: truncate("timed out waiting for the provider, which may have the message; not sent again (at-most-once channel): "+err.Error(), 1000)}
	}
	return p.After(attempt, err, now)
}

// permanent marks a failure no retry can fix: an invalid address, a
// rejected recipient, an opted-out phone, a refused message.
type permanent struct{ err error }

func (e permanent) Error() string { return e.err.Error() }
func (e permanent) Unwrap() error { return e.err }

// Permanent wraps err so that the delivery is not retried.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

// IsPermanent tells whether err was marked Permanent.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p)
}

// Email is one e-mail to send.
type Email struct {
	// ID is the delivery id: stable across retries, so the SMTP adapter
	// derives the Message-ID from it and a copy sent again after a crash is
	// recognisably the same message.
	ID      string
	To      string
	Subject string
	Text    string
}

// SMS is one text message to send.
type SMS struct {
	ID    string
	Phone string // E.164, e.g. +821012345678
	Text  string
}

// AlertKind is what an alert is about.
type AlertKind string

const (
	// AlertDeadLetter: an event landed in a dead-letter queue.
	AlertDeadLetter AlertKind = "dead_letter"
	// AlertDeliveryFailed: a message to a user could not be delivered.
	AlertDeliveryFailed AlertKind = "delivery_failed"
)

// Alert is a message for the team chat.
type Alert struct {
	Kind AlertKind
	// Dead letters.
	Queue     string
	EventName string
	EventID   string
	Attempts  int
	Error     string
	Source    string
	// Failed deliveries.
	DeliveryID  string
	Channel     string
	RecipientID string
	Status      string
	At          time.Time
}

// Text is the alert as one short plain-text message.
func (a Alert) Text() string {
	line := func(k, v string) string {
		if v == "" {
			return ""
		}
		return "\n" + k + ": " + v
	}
	var s string
	switch a.Kind {
	case AlertDeadLetter:
		s = "taskd: an event landed in a dead-letter queue; fix the cause, then `taskd dlq replay`" +
			line("queue", a.Queue) + line("event", a.EventName) + line("event id", a.EventID) +
			line("receive count", itoa(a.Attempts)) + line("source", a.Source)
	default:
		s = "taskd: a notification could not be delivered (" + a.Status + ")" +
			line("delivery", a.DeliveryID) + line("channel", a.Channel) + line("recipient", a.RecipientID) +
			line("event", a.EventName) + line("source id", a.EventID) + line("attempts", itoa(a.Attempts))
	}
	return s + line("error", truncate(a.Error, 500))
}

func itoa(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}
