package task_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskd/taskd/modules/kernel/actor"
	"github.com/taskd/taskd/modules/kernel/event"
	"github.com/taskd/taskd/modules/tasks/contracts"
	"github.com/taskd/taskd/modules/tasks/domain/task"
)

const (
	taskID       = "0190a6c4-0000-7000-8000-000000000001"
	creatorID    = "u-creator"
	picID        = "u-pic"
	supervisorID = "u-supervisor"
)

var (
	t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

	creator    = actor.Actor{UserID: creatorID, Role: "member"}
	pic        = actor.Actor{UserID: picID, Role: "member"}
	supervisor = actor.Actor{UserID: supervisorID, Role: "member"}
	admin      = actor.Actor{UserID: "u-admin", Role: "admin"}
	manager    = actor.Actor{UserID: "u-manager", Role: "manager"}
	stranger   = actor.Actor{UserID: "u-stranger", Role: "member"}
)

// eventIDs returns a generator of "ev-1", "ev-2", … safe for one test.
func eventIDs() func() string {
	var n atomic.Int64
	return func() string { return fmt.Sprintf("ev-%d", n.Add(1)) }
}

func validParams() task.NewTaskParams {
	return task.NewTaskParams{
		ID:           taskID,
		Name:         "Write the quarterly report",
		CreatorID:    creatorID,
		PICID:        picID,
		SupervisorID: supervisorID,
	}
}

// newTask creates a valid task and drops its creation events.
func newTask(t *testing.T) *task.Task {
	t.Helper()
	tk, err := task.NewTask(validParams(), t0, eventIDs())
	if err != nil {
		t.Fatalf("NewTask: %v", err)
	}
	tk.PopEvents()
	return tk
}

// storedTask rebuilds a task as a repository would, in status s.
func storedTask(t *testing.T, s task.Status) *task.Task {
	t.Helper()
	snap := task.Snapshot{
		ID: taskID, Name: "Stored task", Status: s.String(), Priority: "medium",
		PICID: picID, SupervisorID: supervisorID, CreatorID: creatorID,
		CreatedAt: t0, UpdatedAt: t0, Version: 3, LastSequence: 7,
	}
	if s != task.StatusWaiting {
		started := t0.Add(time.Hour)
		snap.StartedAt = &started
	}
	if s == task.StatusDone {
		completed := t0.Add(2 * time.Hour)
		snap.CompletedAt = &completed
	}
	tk, err := task.UnmarshalTaskFromDatabase(snap, eventIDs())
	if err != nil {
		t.Fatalf("UnmarshalTaskFromDatabase: %v", err)
	}
	return tk
}

func names(evs []event.Event) []string {
	out := make([]string, 0, len(evs))
	for _, e := range evs {
		out = append(out, e.Name())
	}
	return out
}

func taskEvent(t *testing.T, e event.Event) contracts.TaskEvent {
	t.Helper()
	switch v := e.(type) {
	case contracts.TaskCreated:
		return v.TaskEvent
	case contracts.TaskUpdated:
		return v.TaskEvent
	case contracts.TaskStatusChanged:
		return v.TaskEvent
	case contracts.TaskAssigned:
		return v.TaskEvent
	case contracts.TaskCompleted:
		return v.TaskEvent
	case contracts.TaskReopened:
		return v.TaskEvent
	case contracts.TaskDeleted:
		return v.TaskEvent
	}
	t.Fatalf("unexpected event type %T", e)
	return contracts.TaskEvent{}
}

func ptr[T any](v T) *T { return &v }

func timeEq(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}
