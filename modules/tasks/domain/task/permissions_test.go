package task_test

import (
	"time"

	"errors"
	"testing"

	"github.com/taskd/taskd/modules/kernel/actor"
	"github.com/taskd/taskd/modules/kernel/errs"
	"github.com/taskd/taskd/modules/tasks/contracts"
	"github.com/taskd/taskd/modules/tasks/domain/task"
)

func TestPermissions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                 string
		actor                actor.Actor
		mayUpdate, mayDelete bool
	}{
		{"creator", creator, true, true},
		{"PIC", pic, true, false},
		{"supervisor", supervisor, true, true},
		{"admin", admin, true, true},
		{"manager not on the task", manager, false, false},
		{"member not on the task", stranger, false, false},
		{"system", actor.System, false, false},
		{"no actor", actor.Actor{}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tk := newTask(t)
			checkAllowed(t, "CanUpdate", tk.CanUpdate(tt.actor), tt.mayUpdate, task.ErrForbiddenUpdate)
			checkAllowed(t, "CanDelete", tk.CanDelete(tt.actor), tt.mayDelete, task.ErrForbiddenDelete)

			name := "Renamed"
			checkAllowed(t, "Update", tk.Update(tt.actor, task.Edit{Name: &name}, t0), tt.mayUpdate, task.ErrForbiddenUpdate)
			checkAllowed(t, "Start", tk.Start(tt.actor, t0), tt.mayUpdate, task.ErrForbiddenUpdate)
			checkAllowed(t, "Assign", tk.Assign(tt.actor, task.Assignment{PICID: ptr("u-other")}, t0), tt.mayUpdate, task.ErrForbiddenUpdate)
			if !tt.mayUpdate && tk.HasPendingEvents() {
				t.Errorf("a forbidden change recorded %v", names(tk.PendingEvents()))
			}
			tk.PopEvents()
			checkAllowed(t, "Delete", tk.Delete(tt.actor, t0), tt.mayDelete, task.ErrForbiddenDelete)
			if got := tk.HasPendingEvents(); got != tt.mayDelete {
				t.Errorf("Delete recorded events = %v, want %v", got, tt.mayDelete)
			}
		})
	}
}

// An empty PIC or supervisor must not let an actor without id in.
func TestPermissionsEmptyRolesDoNotMatchEmptyActor(t *testing.T) {
	t.Parallel()
	tk, err := task.NewTask(task.NewTaskParams{ID: taskID, Name: "n", CreatorID: creatorID}, t0, nil)
	if err != nil {
		t.Fatal(err)
	}
	anon := actor.Actor{Role: "member"}
	if err := tk.CanUpdate(anon); !errors.Is(err, task.ErrForbiddenUpdate) {
		t.Errorf("CanUpdate(no id) = %v, want forbidden", err)
	}
	if err := tk.CanDelete(anon); !errors.Is(err, task.ErrForbiddenDelete) {
		t.Errorf("CanDelete(no id) = %v, want forbidden", err)
	}
}

func checkAllowed(t *testing.T, what string, err error, allowed bool, forbidden *errs.Error) {
	t.Helper()
	if allowed {
		if err != nil {
			t.Errorf("%s: %v, want allowed", what, err)
		}
		return
	}
	if !errors.Is(err, forbidden) {
		t.Errorf("%s: err = %v, want %v", what, err, forbidden)
		return
	}
	if e, _ := errs.As(err); e.Kind != errs.KindForbidden {
		t.Errorf("%s: Kind = %v, want KindForbidden", what, e.Kind)
	}
}

func TestDelete(t *testing.T) {
	t.Parallel()
	tk := newTask(t)
	now := t0.Add(time.Hour)
	if err := tk.Delete(supervisor, now); err != nil {
		t.Fatal(err)
	}
	evs := tk.PendingEvents()
	if len(evs) != 1 || evs[0].Name() != contracts.NameTaskDeleted {
		t.Fatalf("events = %v, want [TaskDeleted]", names(evs))
	}
	ev := taskEvent(t, evs[0])
	if ev.ActorID != supervisorID || !ev.OccurredAt.Equal(now) || ev.Task.ID != taskID || ev.Task.Name != "Write the quarterly report" {
		t.Errorf("TaskDeleted = %+v", ev)
	}
}
