// Package command holds the notifications module's commands: consuming
// task events into inbox entries and delivery records, sending the
// deliveries, deadline reminders, marking notifications read, preferences
// and alerts.
package command

import (
	"context"
	"time"

	"github.com/taskd/taskd/modules/kernel/event"
	n "github.com/taskd/taskd/modules/notifications/domain/notification"
)

// User is a recipient as notifications need them.
type User struct {
	ID     string
	Name   string
	Email  string
	Phone  string
	Locale string
}

// Directory finds recipients' names, addresses and locales. It is declared
// here and adapted in cmd/taskd to the identity module's UsersByIDs query
// (docs/notifications.md, "Whose address"): read at the moment of planning
// and of sending, so an e-mail changed a second ago is used and a deleted
// user is simply not found, and no second copy of personal data exists.
type Directory interface {
	// Users returns the existing users among ids; deleted ones are absent.
	Users(ctx context.Context, ids []string) (map[string]User, error)
}

// Transactor runs fn in one transaction that the repositories join.
type Transactor interface {
	WithinTransaction(ctx context.Context, fn func(ctx context.Context) error) error
}

// InboxRepository keeps inbox entries.
type InboxRepository interface {
	// AddToInbox stores ns; an entry whose (SourceID, RecipientID) exists
	// already is left as it is.
	AddToInbox(ctx context.Context, ns []n.Notification) error
	// MarkRead marks userID's notification id read at at (once; marking a
	// read one again changes nothing). ErrNotificationNotFound when userID
	// has no such notification.
	MarkRead(ctx context.Context, userID, id string, at time.Time) error
	// MarkAllRead marks every unread notification of userID and returns how many.
	MarkAllRead(ctx context.Context, userID string, at time.Time) (int, error)
}

// Finish is the result of one delivery attempt.
type Finish struct {
	Status      n.Status
	NextAttempt time.Time // for StatusPending
	Error       string
	Address     string
	ProviderID  string
	At          time.Time
}

// DeliveryRepository keeps delivery records and hands them to senders.
type DeliveryRepository interface {
	// AddDeliveries stores ds (status pending); one whose (SourceID,
	// Channel, RecipientID) exists already is left as it is.
	AddDeliveries(ctx context.Context, ds []n.Delivery) error
	// ClaimDue marks up to limit pending deliveries due at now as sending
	// (attempts + 1), claimed until now+claim, and returns them; each is
	// claimed by one caller only, committed before it returns.
	ClaimDue(ctx context.Context, now time.Time, limit int, claim time.Duration) ([]n.Delivery, error)
	// Finish records the outcome of the attempt on a claimed delivery.
	Finish(ctx context.Context, id string, f Finish) error
	// RecoverInterrupted settles deliveries whose claim expired while
	// sending (the process stopped mid-send): those of the channels in
	// resend become pending again, the others unknown. It returns how many
	// of each.
	RecoverInterrupted(ctx context.Context, now time.Time, resend []n.Channel) (resent, unknown int, err error)
	// ClaimUnalerted marks up to limit failed or unknown deliveries not yet
	// alerted as alerted and returns them, each to one caller only.
	ClaimUnalerted(ctx context.Context, now time.Time, limit int) ([]n.Delivery, error)
	// ReleaseAlert undoes the claim of an alert that could not be raised.
	ReleaseAlert(ctx context.Context, id string) error
}

// PreferencesRepository keeps users' preferences.
type PreferencesRepository interface {
	// Preferences returns the saved preferences among userIDs (users who
	// never chose are absent).
	Preferences(ctx context.Context, userIDs []string) (map[string]*n.Preferences, error)
	SavePreferences(ctx context.Context, p *n.Preferences, at time.Time) error
}

// ScheduleRepository keeps the reminder job's view of tasks.
type ScheduleRepository interface {
	// SaveSchedule stores the task fields of s (the sent marks stay as
	// they are; a new deadline does not match them, which re-arms).
	SaveSchedule(ctx context.Context, s n.Schedule, at time.Time) error
	DeleteSchedule(ctx context.Context, taskID string) error
	// DueSchedules returns, by task id after afterTaskID, up to limit
	// schedules with a reminder due at now with lead (Schedule.Due).
	DueSchedules(ctx context.Context, now time.Time, lead time.Duration, afterTaskID string, limit int) ([]n.Schedule, error)
	// MarkReminded records s's sent marks.
	MarkReminded(ctx context.Context, s n.Schedule, at time.Time) error
}

// Leases elect one worker for a job among instances.
type Leases interface {
	// AcquireLease makes holder the holder of name until now+ttl when
	// nobody else holds it (or their lease expired) and tells whether it does.
	AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error)
}

// Store is everything the module keeps.
type Store interface {
	Transactor
	event.Deduplicator
	event.SequenceGuard
	InboxRepository
	DeliveryRepository
	PreferencesRepository
	ScheduleRepository
	Leases
}

// EmailSender sends e-mail (SES, SMTP).
type EmailSender interface {
	// SendEmail hands e to the provider and returns the provider's id of
	// it. A notification.Permanent error is not retried.
	SendEmail(ctx context.Context, e n.Email) (providerID string, err error)
	// Guarantee says what happens to a send interrupted by a crash.
	Guarantee() n.Guarantee
}

// SMSSender sends text messages (SNS).
type SMSSender interface {
	SendSMS(ctx context.Context, s n.SMS) (providerID string, err error)
	Guarantee() n.Guarantee
}

// TeamChat posts alerts to the team's chat (Discord, Slack).
type TeamChat interface {
	PostAlert(ctx context.Context, a n.Alert) error
}
