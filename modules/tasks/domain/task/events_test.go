package task_test

import (
	"slices"
	"testing"
	"time"

	"github.com/taskd/taskd/modules/kernel/event"
	"github.com/taskd/taskd/modules/tasks/contracts"
	"github.com/taskd/taskd/modules/tasks/domain/task"
)

// save plays the repository: bump the version once per command that
// recorded events, read the events, store the snapshot.
func save(t *testing.T, tk *task.Task) (task.Snapshot, []event.Event) {
	t.Helper()
	if !tk.HasPendingEvents() {
		return tk.Snapshot(), nil
	}
	tk.BumpVersion()
	evs := tk.PendingEvents()
	return tk.Snapshot(), evs
}

func load(t *testing.T, s task.Snapshot) *task.Task {
	t.Helper()
	tk, err := task.UnmarshalTaskFromDatabase(s, eventIDs())
	if err != nil {
		t.Fatalf("UnmarshalTaskFromDatabase: %v", err)
	}
	return tk
}

func sequences(evs []event.Event) []int64 {
	out := make([]int64, 0, len(evs))
	for _, e := range evs {
		out = append(out, e.EventMeta().Sequence)
	}
	return out
}

func TestSequenceAndVersionAcrossCommands(t *testing.T) {
	t.Parallel()
	p := validParams()
	p.Status = task.StatusDone
	tk, err := task.NewTask(p, t0, eventIDs())
	if err != nil {
		t.Fatal(err)
	}
	// Creation is stored by Add at version 1 without a bump.
	evs := tk.PendingEvents()
	if got := sequences(evs); !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("creation sequences = %v, want [1 2]", got)
	}
	snap := tk.Snapshot()
	if snap.Version != 1 || snap.LastSequence != 2 {
		t.Fatalf("after create: version %d, last sequence %d; want 1, 2", snap.Version, snap.LastSequence)
	}

	commands := []struct {
		name        string
		do          func(tk *task.Task, now time.Time) error
		wantEvents  []string
		wantSeq     []int64
		wantVersion int64
	}{
		{"reopen", func(tk *task.Task, now time.Time) error { return tk.Reopen(pic, now) },
			[]string{contracts.NameTaskStatusChanged, contracts.NameTaskReopened}, []int64{3, 4}, 2},
		{"rename", func(tk *task.Task, now time.Time) error { return tk.Update(pic, task.Edit{Name: ptr("Renamed")}, now) },
			[]string{contracts.NameTaskUpdated}, []int64{5}, 3},
		{"no-op", func(tk *task.Task, now time.Time) error { return tk.Update(pic, task.Edit{Name: ptr("Renamed")}, now) },
			nil, nil, 3},
		{"rename, reassign and complete in one command", func(tk *task.Task, now time.Time) error {
			if err := tk.Update(pic, task.Edit{Name: ptr("Again")}, now); err != nil {
				return err
			}
			if err := tk.Assign(pic, task.Assignment{SupervisorID: ptr("")}, now); err != nil {
				return err
			}
			return tk.Complete(pic, now)
		}, []string{contracts.NameTaskUpdated, contracts.NameTaskAssigned, contracts.NameTaskStatusChanged, contracts.NameTaskCompleted},
			[]int64{6, 7, 8, 9}, 4},
		{"delete", func(tk *task.Task, now time.Time) error { return tk.Delete(creator, now) },
			[]string{contracts.NameTaskDeleted}, []int64{10}, 5},
	}
	for i, c := range commands {
		now := t0.Add(time.Duration(i+1) * time.Hour)
		tk := load(t, snap)
		if err := c.do(tk, now); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var evs []event.Event
		snap, evs = save(t, tk)
		if got := names(evs); !slices.Equal(got, c.wantEvents) {
			t.Fatalf("%s: events = %v, want %v", c.name, got, c.wantEvents)
		}
		if got := sequences(evs); !slices.Equal(got, c.wantSeq) {
			t.Errorf("%s: sequences = %v, want %v", c.name, got, c.wantSeq)
		}
		if snap.Version != c.wantVersion {
			t.Errorf("%s: version = %d, want %d", c.name, snap.Version, c.wantVersion)
		}
		for _, e := range evs {
			ev := taskEvent(t, e)
			// Every event of a command carries the state after the whole
			// command, at the version it was saved with.
			if ev.Task.Version != c.wantVersion {
				t.Errorf("%s: %s carries version %d, want %d", c.name, e.Name(), ev.Task.Version, c.wantVersion)
			}
			if ev.Task.Name != snap.Name || ev.Task.Status != snap.Status || ev.Task.SupervisorID != snap.SupervisorID {
				t.Errorf("%s: %s carries %+v, want the final state %+v", c.name, e.Name(), ev.Task, snap)
			}
			if !ev.OccurredAt.Equal(now) {
				t.Errorf("%s: OccurredAt = %v, want %v", c.name, ev.OccurredAt, now)
			}
		}
	}
}

func TestPendingEventsForgets(t *testing.T) {
	t.Parallel()
	tk := newTask(t)
	if tk.HasPendingEvents() {
		t.Fatal("newTask left events")
	}
	if err := tk.Start(pic, t0); err != nil {
		t.Fatal(err)
	}
	if !tk.HasPendingEvents() {
		t.Fatal("HasPendingEvents() = false after a change")
	}
	if n := len(tk.PendingEvents()); n != 1 {
		t.Fatalf("PendingEvents() returned %d events, want 1", n)
	}
	if tk.HasPendingEvents() || len(tk.PendingEvents()) != 0 {
		t.Error("events were not forgotten")
	}
}

func TestEventMeta(t *testing.T) {
	t.Parallel()
	kst := time.FixedZone("KST", 9*3600)
	now := time.Date(2026, 3, 2, 10, 30, 0, 123000, kst)
	tests := []struct {
		name   string
		do     func(tk *task.Task) error
		actor  string
		wantTy string
	}{
		{"update", func(tk *task.Task) error { return tk.Update(supervisor, task.Edit{Name: ptr("x")}, now) }, supervisorID, contracts.NameTaskUpdated},
		{"status", func(tk *task.Task) error { return tk.Start(admin, now) }, admin.UserID, contracts.NameTaskStatusChanged},
		{"assign", func(tk *task.Task) error { return tk.Assign(pic, task.Assignment{PICID: ptr("u-2")}, now) }, picID, contracts.NameTaskAssigned},
		{"delete", func(tk *task.Task) error { return tk.Delete(creator, now) }, creatorID, contracts.NameTaskDeleted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			snap := storedTask(t, task.StatusWaiting).Snapshot()
			tk, err := task.UnmarshalTaskFromDatabase(snap, func() string { return "0190a6c4-eeee-7000-8000-000000000001" })
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.do(tk); err != nil {
				t.Fatal(err)
			}
			tk.BumpVersion()
			evs := tk.PendingEvents()
			if len(evs) != 1 {
				t.Fatalf("events = %v, want one", names(evs))
			}
			m := evs[0].EventMeta()
			want := event.Meta{
				ID: "0190a6c4-eeee-7000-8000-000000000001", Type: tt.wantTy, SchemaVersion: contracts.SchemaVersion,
				OccurredAt: now.UTC(), ActorID: tt.actor, AggregateType: contracts.AggregateType,
				AggregateID: taskID, Sequence: snap.LastSequence + 1,
			}
			if m != want {
				t.Errorf("meta = %+v\nwant   %+v", m, want)
			}
			if evs[0].Name() != m.Type {
				t.Errorf("Name() = %q, Meta.Type = %q", evs[0].Name(), m.Type)
			}
			if m.OccurredAt.Location() != time.UTC {
				t.Errorf("OccurredAt is in %v, want UTC", m.OccurredAt.Location())
			}
			if v := taskEvent(t, evs[0]).Task.Version; v != snap.Version+1 {
				t.Errorf("snapshot version = %d, want %d", v, snap.Version+1)
			}
		})
	}
}

func TestEventIDsAreFreshPerEvent(t *testing.T) {
	t.Parallel()
	p := validParams()
	p.Status = task.StatusDone
	tk, err := task.NewTask(p, t0, eventIDs())
	if err != nil {
		t.Fatal(err)
	}
	evs := tk.PendingEvents()
	if evs[0].EventMeta().ID != "ev-1" || evs[1].EventMeta().ID != "ev-2" {
		t.Errorf("event ids = %q, %q; want ev-1, ev-2", evs[0].EventMeta().ID, evs[1].EventMeta().ID)
	}
}

func TestContractsNames(t *testing.T) {
	t.Parallel()
	evs := []event.Event{
		contracts.TaskCreated{}, contracts.TaskUpdated{}, contracts.TaskStatusChanged{}, contracts.TaskAssigned{},
		contracts.TaskCompleted{}, contracts.TaskReopened{}, contracts.TaskDeleted{},
	}
	if got := names(evs); !slices.Equal(got, contracts.AllEventNames) {
		t.Errorf("Name()s = %v, AllEventNames = %v", got, contracts.AllEventNames)
	}
}
