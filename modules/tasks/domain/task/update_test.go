package task_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/taskd/taskd/modules/kernel/event"
	"github.com/taskd/taskd/modules/tasks/contracts"
	"github.com/taskd/taskd/modules/tasks/domain/task"
)

func TestUpdate(t *testing.T) {
	t.Parallel()
	kst := time.FixedZone("KST", 9*3600)
	oldDeadline := time.Date(2026, 3, 10, 23, 59, 59, 0, time.UTC)
	newDeadline := time.Date(2026, 4, 1, 18, 0, 0, 0, kst)
	sameDeadlineOtherZone := oldDeadline.In(kst)
	high := task.PriorityHigh
	medium := task.PriorityMedium

	tests := []struct {
		name        string
		edit        task.Edit
		wantChanges []event.Change // nil: no event
		wantErr     error
	}{
		{name: "nothing", edit: task.Edit{}},
		{name: "same name after trim", edit: task.Edit{Name: ptr("  Report ")}},
		{name: "same contents", edit: task.Edit{Contents: ptr("Old contents")}},
		{name: "same priority", edit: task.Edit{Priority: &medium}},
		{name: "zero priority is ignored", edit: task.Edit{Priority: &task.Priority{}}},
		{name: "same deadline in another zone", edit: task.Edit{Deadline: &sameDeadlineOtherZone}},
		{name: "name", edit: task.Edit{Name: ptr(" New name ")},
			wantChanges: []event.Change{{Field: "name", Old: "Report", New: "New name"}}},
		{name: "contents", edit: task.Edit{Contents: ptr("")},
			wantChanges: []event.Change{{Field: "contents", Old: "Old contents", New: ""}}},
		{name: "priority", edit: task.Edit{Priority: &high},
			wantChanges: []event.Change{{Field: "priority", Old: "medium", New: "high"}}},
		{name: "deadline", edit: task.Edit{Deadline: &newDeadline},
			wantChanges: []event.Change{{Field: "deadline", Old: "2026-03-10T23:59:59Z", New: "2026-04-01T09:00:00Z"}}},
		{name: "clear deadline", edit: task.Edit{ClearDeadline: true},
			wantChanges: []event.Change{{Field: "deadline", Old: "2026-03-10T23:59:59Z", New: nil}}},
		{name: "only changed fields of many", edit: task.Edit{Name: ptr("Report"), Contents: ptr("New contents"), Priority: &high, Deadline: &sameDeadlineOtherZone},
			wantChanges: []event.Change{
				{Field: "contents", Old: "Old contents", New: "New contents"},
				{Field: "priority", Old: "medium", New: "high"},
			}},
		{name: "every field", edit: task.Edit{Name: ptr("N"), Contents: ptr("C"), Priority: &high, ClearDeadline: true},
			wantChanges: []event.Change{
				{Field: "name", Old: "Report", New: "N"},
				{Field: "contents", Old: "Old contents", New: "C"},
				{Field: "priority", Old: "medium", New: "high"},
				{Field: "deadline", Old: "2026-03-10T23:59:59Z", New: nil},
			}},
		{name: "blank name", edit: task.Edit{Name: ptr("  ")}, wantErr: task.ErrNameRequired},
		{name: "long name", edit: task.Edit{Name: ptr(strings.Repeat("a", 201))}, wantErr: task.ErrNameTooLong},
		{name: "long contents", edit: task.Edit{Contents: ptr(strings.Repeat("a", 20001))}, wantErr: task.ErrContentsTooLong},
		{name: "contents not UTF-8", edit: task.Edit{Contents: ptr("\xff")}, wantErr: task.ErrInvalidUTF8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tk, err := task.UnmarshalTaskFromDatabase(task.Snapshot{
				ID: taskID, Name: "Report", Contents: "Old contents", Status: "waiting", Priority: "medium",
				Deadline: &oldDeadline, CreatorID: creatorID, CreatedAt: t0, UpdatedAt: t0, Version: 4, LastSequence: 9,
			}, eventIDs())
			if err != nil {
				t.Fatal(err)
			}
			now := t0.Add(time.Hour)
			err = tk.Update(creator, tt.edit, now)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if tk.HasPendingEvents() {
					t.Errorf("a rejected update recorded %v", names(tk.PendingEvents()))
				}
				return
			}
			if err != nil {
				t.Fatalf("Update: %v", err)
			}
			evs := tk.PendingEvents()
			if tt.wantChanges == nil {
				if len(evs) != 0 {
					t.Fatalf("recorded %v, want nothing", names(evs))
				}
				if got := tk.Snapshot().UpdatedAt; !got.Equal(t0) {
					t.Errorf("UpdatedAt moved to %v on a no-op", got)
				}
				return
			}
			if len(evs) != 1 || evs[0].Name() != contracts.NameTaskUpdated {
				t.Fatalf("events = %v, want one TaskUpdated", names(evs))
			}
			ev := taskEvent(t, evs[0])
			if len(ev.Changes) != len(tt.wantChanges) {
				t.Fatalf("changes = %+v, want %+v", ev.Changes, tt.wantChanges)
			}
			for i, want := range tt.wantChanges {
				if got := ev.Changes[i]; got != want {
					t.Errorf("change %d = %+v, want %+v", i, got, want)
				}
			}
			if ev.Sequence != 10 || ev.ActorID != creatorID {
				t.Errorf("Sequence, ActorID = %d, %q; want 10, %q", ev.Sequence, ev.ActorID, creatorID)
			}
			if got := tk.Snapshot().UpdatedAt; !got.Equal(now) {
				t.Errorf("UpdatedAt = %v, want %v", got, now)
			}
		})
	}
}

func TestUpdateStoresDeadlineInUTC(t *testing.T) {
	t.Parallel()
	tk := newTask(t)
	d := time.Date(2026, 4, 1, 18, 0, 0, 0, time.FixedZone("KST", 9*3600))
	if err := tk.Update(pic, task.Edit{Deadline: &d}, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := tk.Deadline(); got == nil || !got.Equal(d) || got.Location() != time.UTC {
		t.Errorf("Deadline() = %v, want %v in UTC", got, d)
	}
	// A deadline set on a task without one has no old value.
	ev := taskEvent(t, tk.PendingEvents()[0])
	if c, _ := ev.Change("deadline"); c.Old != nil || c.New != "2026-04-01T09:00:00Z" {
		t.Errorf("deadline change = %+v, want nil → 2026-04-01T09:00:00Z", c)
	}
}

// UpdatedAt never moves backwards when a clock is behind the stored time.
func TestUpdatedAtDoesNotGoBack(t *testing.T) {
	t.Parallel()
	tk := newTask(t)
	if err := tk.Update(creator, task.Edit{Name: ptr("other")}, t0.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := tk.Snapshot().UpdatedAt; !got.Equal(t0) {
		t.Errorf("UpdatedAt = %v, want %v", got, t0)
	}
}

func TestAssign(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		as          task.Assignment
		wantChanges []event.Change
		wantPIC     string
		wantSup     string
	}{
		{name: "nothing", wantPIC: picID, wantSup: supervisorID},
		{name: "same people", as: task.Assignment{PICID: ptr(picID), SupervisorID: ptr(supervisorID)}, wantPIC: picID, wantSup: supervisorID},
		{name: "new PIC", as: task.Assignment{PICID: ptr("u-new")},
			wantChanges: []event.Change{{Field: "pic_id", Old: picID, New: "u-new"}}, wantPIC: "u-new", wantSup: supervisorID},
		{name: "remove supervisor", as: task.Assignment{SupervisorID: ptr("")},
			wantChanges: []event.Change{{Field: "supervisor_id", Old: supervisorID, New: nil}}, wantPIC: picID},
		{name: "both", as: task.Assignment{PICID: ptr(""), SupervisorID: ptr("u-new")},
			wantChanges: []event.Change{
				{Field: "pic_id", Old: picID, New: nil},
				{Field: "supervisor_id", Old: supervisorID, New: "u-new"},
			}, wantSup: "u-new"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tk := newTask(t)
			if err := tk.Assign(supervisor, tt.as, t0.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if tk.PICID() != tt.wantPIC || tk.SupervisorID() != tt.wantSup {
				t.Errorf("PIC, supervisor = %q, %q; want %q, %q", tk.PICID(), tk.SupervisorID(), tt.wantPIC, tt.wantSup)
			}
			evs := tk.PendingEvents()
			if tt.wantChanges == nil {
				if len(evs) != 0 {
					t.Fatalf("recorded %v, want nothing", names(evs))
				}
				return
			}
			if len(evs) != 1 || evs[0].Name() != contracts.NameTaskAssigned {
				t.Fatalf("events = %v, want one TaskAssigned", names(evs))
			}
			ev := taskEvent(t, evs[0])
			if ev.ActorID != supervisorID {
				t.Errorf("ActorID = %q, want %q", ev.ActorID, supervisorID)
			}
			if len(ev.Changes) != len(tt.wantChanges) {
				t.Fatalf("changes = %+v, want %+v", ev.Changes, tt.wantChanges)
			}
			for i, want := range tt.wantChanges {
				if got := ev.Changes[i]; got != want {
					t.Errorf("change %d = %+v, want %+v", i, got, want)
				}
			}
		})
	}
}

func TestReleaseUser(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name             string
		pic, supervisor  string
		user             string
		wantPIC, wantSup string
		wantFields       []string
	}{
		{name: "PIC", pic: "u-x", supervisor: supervisorID, user: "u-x", wantSup: supervisorID, wantFields: []string{"pic_id"}},
		{name: "supervisor", pic: picID, supervisor: "u-x", user: "u-x", wantPIC: picID, wantFields: []string{"supervisor_id"}},
		{name: "both", pic: "u-x", supervisor: "u-x", user: "u-x", wantFields: []string{"pic_id", "supervisor_id"}},
		{name: "creator only", pic: picID, supervisor: supervisorID, user: creatorID, wantPIC: picID, wantSup: supervisorID},
		{name: "not involved", pic: picID, supervisor: supervisorID, user: "u-x", wantPIC: picID, wantSup: supervisorID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := validParams()
			p.PICID, p.SupervisorID = tt.pic, tt.supervisor
			tk, err := task.NewTask(p, t0, eventIDs())
			if err != nil {
				t.Fatal(err)
			}
			tk.PopEvents()
			if err := tk.ReleaseUser(tt.user, t0.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if tk.PICID() != tt.wantPIC || tk.SupervisorID() != tt.wantSup || tk.CreatorID() != creatorID {
				t.Errorf("PIC, supervisor, creator = %q, %q, %q; want %q, %q, %q",
					tk.PICID(), tk.SupervisorID(), tk.CreatorID(), tt.wantPIC, tt.wantSup, creatorID)
			}
			evs := tk.PendingEvents()
			if len(tt.wantFields) == 0 {
				if len(evs) != 0 {
					t.Fatalf("recorded %v, want nothing", names(evs))
				}
				return
			}
			if len(evs) != 1 || evs[0].Name() != contracts.NameTaskAssigned {
				t.Fatalf("events = %v, want one TaskAssigned", names(evs))
			}
			ev := taskEvent(t, evs[0])
			if ev.ActorID != tt.user {
				t.Errorf("ActorID = %q, want the released user %q", ev.ActorID, tt.user)
			}
			for _, f := range tt.wantFields {
				if c, ok := ev.Change(f); !ok || c.Old != tt.user || c.New != nil {
					t.Errorf("change %q = %+v (found %v), want %q → nil", f, c, ok, tt.user)
				}
			}
			if len(ev.Changes) != len(tt.wantFields) {
				t.Errorf("changes = %+v, want only %v", ev.Changes, tt.wantFields)
			}
		})
	}
}

// A rejected edit changes nothing, even when an earlier field was valid: an
// aggregate method that returns an error leaves the aggregate as it was.
func TestUpdateRejectedEditChangesNothing(t *testing.T) {
	t.Parallel()
	high := task.PriorityHigh
	tests := []struct {
		name string
		edit task.Edit
	}{
		{"valid name, contents too long", task.Edit{Name: ptr("New name"), Contents: ptr(strings.Repeat("a", 20001)), Priority: &high}},
		{"valid name, contents not UTF-8", task.Edit{Name: ptr("New name"), Contents: ptr("\xff")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tk := storedTask(t, task.StatusWaiting)
			before := tk.Snapshot()
			if err := tk.Update(creator, tt.edit, t0.Add(time.Hour)); err == nil {
				t.Fatal("Update accepted an invalid edit")
			}
			if after := tk.Snapshot(); !snapshotsEqual(before, after) {
				t.Errorf("a rejected edit changed the task:\n before %+v\n after  %+v", before, after)
			}
		})
	}
}
