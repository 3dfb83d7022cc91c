package notification

import (
	"strconv"
	"time"
)

// Schedule is what the reminder job knows of a task: its latest state as
// the task events told it (the newest sequence wins), and for which
// deadline each reminder was already sent. A changed deadline no longer
// matches the recorded one, so its reminders are due again (re-armed).
type Schedule struct {
	TaskID       string
	TaskName     string
	Status       string
	Deadline     *time.Time
	PICID        string
	SupervisorID string
	CreatorID    string
	// DueSentFor and OverdueSentFor are the deadlines the "deadline near"
	// and the "overdue" reminders were sent for (nil: never).
	DueSentFor     *time.Time
	OverdueSentFor *time.Time
}

// ScheduleOf returns the schedule of a task as an event shows it.
func ScheduleOf(t Task) Schedule {
	return Schedule{
		TaskID: t.ID, TaskName: t.Name, Status: t.Status, Deadline: t.Deadline,
		PICID: t.PICID, SupervisorID: t.SupervisorID, CreatorID: t.CreatorID,
	}
}

// Task returns the task as reminders describe it.
func (s Schedule) Task() Task {
	return Task{ID: s.TaskID, Name: s.TaskName, Status: s.Status, Deadline: s.Deadline,
		PICID: s.PICID, SupervisorID: s.SupervisorID, CreatorID: s.CreatorID}
}

// Reminder is one reminder about one task: its key (the source of its
// notifications and deliveries, unique per task, kind and deadline) and
// whom it tells.
type Reminder struct {
	Key     string
	Kind    Kind
	Intents []Intent
}

// ReminderKey is the source id of the reminder of kind about task for
// deadline: once per task and deadline, whatever runs it how often.
func ReminderKey(k Kind, taskID string, deadline time.Time) string {
	return "reminder:" + k.String() + ":" + taskID + ":" + strconv.FormatInt(deadline.UnixMicro(), 10)
}

// Due returns the reminders due at now, lead before the deadline, and the
// schedule with them recorded as sent. A task that is done, deleted or
// without a deadline has none. A deadline already past gets the overdue
// reminder only (the "deadline near" one would come too late).
//
//	deadline near (now ≥ deadline − lead, now < deadline) → PIC
//	overdue (now ≥ deadline)                               → PIC, supervisor
func (s Schedule) Due(now time.Time, lead time.Duration) ([]Reminder, Schedule) {
	if s.Deadline == nil || s.Status == "done" {
		return nil, s
	}
	d := *s.Deadline
	var out []Reminder
	if !now.Before(d) {
		if !sameTime(s.OverdueSentFor, d) {
			var p planner
			p.add(s.PICID, KindOverdue, RolePIC)
			p.add(s.SupervisorID, KindOverdue, RoleSupervisor)
			out = append(out, Reminder{Key: ReminderKey(KindOverdue, s.TaskID, d), Kind: KindOverdue, Intents: p.intents})
			s.OverdueSentFor = &d
		}
		// Too late to say it is near: never say it.
		s.DueSentFor = &d
		return out, s
	}
	if !now.Before(d.Add(-lead)) && !sameTime(s.DueSentFor, d) {
		var p planner
		p.add(s.PICID, KindDeadlineReminder, RolePIC)
		out = append(out, Reminder{Key: ReminderKey(KindDeadlineReminder, s.TaskID, d), Kind: KindDeadlineReminder, Intents: p.intents})
		s.DueSentFor = &d
	}
	return out, s
}

func sameTime(a *time.Time, b time.Time) bool { return a != nil && a.Equal(b) }
