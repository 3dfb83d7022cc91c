package notification_test

import (
	"testing"
	"time"

	n "github.com/taskd/taskd/modules/notifications/domain/notification"
)

func TestRemindersOncePerTaskAndDeadline(t *testing.T) {
	t.Parallel()
	deadline := time.Date(2026, 3, 3, 18, 0, 0, 0, time.UTC)
	lead := 24 * time.Hour
	s := n.ScheduleOf(task())
	s.Deadline = &deadline

	if r, _ := s.Due(deadline.Add(-25*time.Hour), lead); len(r) != 0 {
		t.Fatalf("25 h before: %v", r)
	}
	r, s := s.Due(deadline.Add(-23*time.Hour), lead)
	if len(r) != 1 || r[0].Kind != n.KindDeadlineReminder || told(r[0].Intents)[0] != "pic:deadline_reminder:pic" || len(r[0].Intents) != 1 {
		t.Fatalf("23 h before: %+v", r)
	}
	if r[0].Key != n.ReminderKey(n.KindDeadlineReminder, "t1", deadline) {
		t.Errorf("key %s", r[0].Key)
	}
	if again, _ := s.Due(deadline.Add(-time.Hour), lead); len(again) != 0 {
		t.Fatalf("sent twice: %v", again)
	}
	r, s = s.Due(deadline, lead)
	if len(r) != 1 || r[0].Kind != n.KindOverdue {
		t.Fatalf("at the deadline: %+v", r)
	}
	if got := told(r[0].Intents); len(got) != 2 || got[0] != "pic:overdue:pic" || got[1] != "sup:overdue:supervisor" {
		t.Fatalf("overdue told %v", got)
	}
	if again, _ := s.Due(deadline.Add(48*time.Hour), lead); len(again) != 0 {
		t.Fatalf("overdue twice: %v", again)
	}

	// A new deadline re-arms both.
	later := deadline.Add(72 * time.Hour)
	s.Deadline = &later
	r, s = s.Due(later.Add(-time.Hour), lead)
	if len(r) != 1 || r[0].Kind != n.KindDeadlineReminder || r[0].Key == n.ReminderKey(n.KindDeadlineReminder, "t1", deadline) {
		t.Fatalf("re-armed: %+v", r)
	}
	if r, _ = s.Due(later.Add(time.Minute), lead); len(r) != 1 || r[0].Kind != n.KindOverdue {
		t.Fatalf("re-armed overdue: %+v", r)
	}
}

func TestRemindersSkipWhatNeedsNone(t *testing.T) {
	t.Parallel()
	deadline := time.Date(2026, 3, 3, 18, 0, 0, 0, time.UTC)
	s := n.ScheduleOf(task())
	if r, _ := s.Due(deadline, time.Hour); len(r) != 0 {
		t.Error("no deadline")
	}
	s.Deadline = &deadline
	s.Status = "done"
	if r, _ := s.Due(deadline.Add(time.Hour), time.Hour); len(r) != 0 {
		t.Error("done")
	}
	// Already past when first seen: overdue only, never "near".
	s.Status = "waiting"
	r, s2 := s.Due(deadline.Add(time.Hour), time.Hour)
	if len(r) != 1 || r[0].Kind != n.KindOverdue || s2.DueSentFor == nil {
		t.Fatalf("%+v", r)
	}
	// No PIC: the near reminder tells nobody, the overdue one the supervisor.
	s.PICID = ""
	if r, _ := s.Due(deadline.Add(-time.Minute), time.Hour); len(r) != 1 || len(r[0].Intents) != 0 {
		t.Fatalf("%+v", r)
	}
}
