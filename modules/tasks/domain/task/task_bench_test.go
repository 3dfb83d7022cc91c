package task_test

import (
	"testing"
	"time"

	"github.com/taskd/taskd/modules/tasks/domain/task"
)

// The Task aggregate's hot paths: create, load from storage, change status,
// and take the events with their snapshot (go test -bench . -benchmem
// ./modules/tasks/domain/task; docs/performance.md).

func benchParams() task.NewTaskParams {
	d := t0.Add(72 * time.Hour)
	return task.NewTaskParams{ID: taskID, Name: "Write the Q4 report", Contents: "numbers + summary",
		Priority: task.PriorityHigh, Deadline: &d, PICID: picID, SupervisorID: supervisorID, CreatorID: creatorID}
}

func BenchmarkNewTask(b *testing.B) {
	ids := eventIDs()
	p := benchParams()
	b.ReportAllocs()
	for b.Loop() {
		tk, err := task.NewTask(p, t0, ids)
		if err != nil {
			b.Fatal(err)
		}
		if len(tk.PendingEvents()) == 0 {
			b.Fatal("no events")
		}
	}
}

// BenchmarkChangeStatus is the update-status request's domain work: load
// the task from its stored snapshot (waiting), start it, bump the version,
// take the event.
func BenchmarkChangeStatus(b *testing.B) {
	ids := eventIDs()
	tk, err := task.NewTask(benchParams(), t0, ids)
	if err != nil {
		b.Fatal(err)
	}
	snap := tk.Snapshot()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		t, err := task.UnmarshalTaskFromDatabase(snap, ids)
		if err != nil {
			b.Fatal(err)
		}
		if err := t.ChangeStatus(creator, task.StatusInProgress, t0.Add(time.Duration(i)*time.Second)); err != nil {
			b.Fatal(err)
		}
		t.BumpVersion()
		if len(t.PendingEvents()) != 1 {
			b.Fatal("want one event")
		}
	}
}

func BenchmarkUpdateAndAssign(b *testing.B) {
	ids := eventIDs()
	tk, err := task.NewTask(benchParams(), t0, ids)
	if err != nil {
		b.Fatal(err)
	}
	snap := tk.Snapshot()
	name, contents := "Write the Q4 report, v2", "numbers, summary and charts"
	newPIC := "u-other"
	b.ReportAllocs()
	for b.Loop() {
		t, err := task.UnmarshalTaskFromDatabase(snap, ids)
		if err != nil {
			b.Fatal(err)
		}
		if err := t.Update(creator, task.Edit{Name: &name, Contents: &contents}, t0.Add(time.Hour)); err != nil {
			b.Fatal(err)
		}
		if err := t.Assign(creator, task.Assignment{PICID: &newPIC}, t0.Add(time.Hour)); err != nil {
			b.Fatal(err)
		}
		t.BumpVersion()
		_ = t.PendingEvents()
	}
}
