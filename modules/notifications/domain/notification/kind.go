// Package notification is the notifications module's domain: who is told
// what about a task change (Plan), in which words (Render), through which
// channels (Preferences), when deadline reminders are due (Reminders), and
// how a delivery that failed is retried or given up (RetryPolicy). It does no
// I/O: the application layer feeds it events, users and the time.
package notification

import (
	"github.com/taskd/taskd/modules/kernel/errs"
)

// Kind is what a notification is about; the kinds are also the rows of a
// user's preferences. (Alerts go to the team chat, not to a user: Alert.)
type Kind struct{ s string }

var (
	// KindTaskAssigned: a task was created with me as PIC or supervisor, or
	// its PIC or supervisor changed (to me, or away from me).
	KindTaskAssigned = Kind{"task_assigned"}
	// KindStatusChanged: waiting ⇄ in progress, done, reopened.
	KindStatusChanged = Kind{"status_changed"}
	// KindTaskUpdated: the deadline or the priority changed.
	KindTaskUpdated = Kind{"task_updated"}
	// KindTaskDeleted: the task was deleted.
	KindTaskDeleted = Kind{"task_deleted"}
	// KindDeadlineReminder: the deadline is near (24 h by default).
	KindDeadlineReminder = Kind{"deadline_reminder"}
	// KindOverdue: the deadline passed and the task is not done.
	KindOverdue = Kind{"overdue"}
)

// Kinds are the kinds users choose channels for, in display order.
var Kinds = []Kind{KindTaskAssigned, KindStatusChanged, KindTaskUpdated, KindTaskDeleted, KindDeadlineReminder, KindOverdue}

var ErrInvalidKind = errs.Invalid("invalid_notification_kind", "preferences",
	"kind must be one of task_assigned, status_changed, task_updated, task_deleted, deadline_reminder, overdue")

// KindFromString parses a kind.
func KindFromString(s string) (Kind, error) {
	for _, k := range Kinds {
		if k.s == s {
			return k, nil
		}
	}
	return Kind{}, ErrInvalidKind.WithMessage("unknown notification kind %q: %s", truncate(s, 40), ErrInvalidKind.Message)
}

func (k Kind) String() string { return k.s }
func (k Kind) IsZero() bool   { return k == Kind{} }

// Channel is a way to reach a user. The team chat is not one: it reaches
// the team, not a user (see Alert).
type Channel struct{ s string }

var (
	// ChannelInbox is the in-app inbox: always available, written in the
	// transaction that consumes the event (exactly once).
	ChannelInbox = Channel{"inbox"}
	ChannelEmail = Channel{"email"}
	ChannelSMS   = Channel{"sms"}
)

// Channels lists every user channel in display order.
var Channels = []Channel{ChannelInbox, ChannelEmail, ChannelSMS}

var ErrInvalidChannel = errs.Invalid("invalid_notification_channel", "preferences", "channel must be one of inbox, email, sms")

// ChannelFromString parses a channel.
func ChannelFromString(s string) (Channel, error) {
	for _, c := range Channels {
		if c.s == s {
			return c, nil
		}
	}
	return Channel{}, ErrInvalidChannel.WithMessage("unknown channel %q: %s", truncate(s, 40), ErrInvalidChannel.Message)
}

func (c Channel) String() string { return c.s }
func (c Channel) IsZero() bool   { return c == Channel{} }

// Role is why a recipient is told: their relation to the task.
type Role string

const (
	RolePIC           Role = "pic"
	RoleSupervisor    Role = "supervisor"
	RoleCreator       Role = "creator"
	RoleOldPIC        Role = "old_pic"
	RoleOldSupervisor Role = "old_supervisor"
)

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
