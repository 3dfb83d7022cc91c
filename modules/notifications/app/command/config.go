package command

import (
	"errors"
	"strings"
	"time"

	"github.com/taskd/taskd/modules/kernel/errs"
	n "github.com/taskd/taskd/modules/notifications/domain/notification"
)

// ConsumerName keys the module's processed events and sequence guards. It
// is the name of its event handler group too: persistent, never renamed.
const ConsumerName = "notifications"

// ReminderLease is the lease that elects the one worker sending reminders.
const ReminderLease = "deadline-reminders"

// Config tunes the module; zero fields take defaults.
type Config struct {
	// PublicURL is the base of links in messages (TASKD_PUBLIC_URL); a
	// task's link is PublicURL + "/tasks/" + id.
	PublicURL string
	// ReminderLead is how long before the deadline the PIC is reminded
	// (TASKD_REMINDER_LEAD, default 24h).
	ReminderLead time.Duration
	// Retry is the retry policy of deliveries.
	Retry n.RetryPolicy
	// SendTimeout bounds one send (default 20s); ClaimTimeout is how long a
	// claimed delivery may stay "sending" before it counts as interrupted
	// by a crash (default 2m, at least twice SendTimeout).
	SendTimeout  time.Duration
	ClaimTimeout time.Duration
	// BatchSize is how many deliveries one claim takes (default 100) and
	// Parallel how many are sent at once (default 8).
	BatchSize int
	Parallel  int
}

// Defaults.
const (
	DefaultReminderLead = 24 * time.Hour
	DefaultSendTimeout  = 20 * time.Second
	DefaultClaimTimeout = 2 * time.Minute
)

// WithDefaults fills the zero fields.
func (c Config) WithDefaults() Config {
	if c.ReminderLead <= 0 {
		c.ReminderLead = DefaultReminderLead
	}
	if c.SendTimeout <= 0 {
		c.SendTimeout = DefaultSendTimeout
	}
	if c.ClaimTimeout <= 0 {
		c.ClaimTimeout = DefaultClaimTimeout
	}
	if c.ClaimTimeout < 2*c.SendTimeout {
		c.ClaimTimeout = 2 * c.SendTimeout
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 100
	}
	if c.Parallel <= 0 {
		c.Parallel = 8
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	return c
}

// Link is the address of a task in the web app.
func (c Config) Link(taskID string) string {
	if c.PublicURL == "" || taskID == "" {
		return ""
	}
	return c.PublicURL + "/tasks/" + taskID
}

// Errors of the commands.
var (
	ErrNotificationNotFound = errs.NotFound("notification_not_found", "no such notification")
	// ErrMalformedEvent wraps an event no retry can make sense of: the port
	// sends it to the dead letters at once.
	ErrMalformedEvent = n.ErrMalformedEvent
)

// IsMalformed tells whether err is about the event itself, not the
// infrastructure (the event port maps it to a permanent failure).
func IsMalformed(err error) bool { return errors.Is(err, n.ErrMalformedEvent) }
