package command_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/taskd/taskd/modules/kernel/actor"
	"github.com/taskd/taskd/modules/kernel/errs"
	"github.com/taskd/taskd/modules/tasks/app/command"
	"github.com/taskd/taskd/modules/tasks/contracts"
	"github.com/taskd/taskd/modules/tasks/domain/task"
)

func TestUpdateTaskAppliesEveryFieldInOneUpdate(t *testing.T) {
	t.Parallel()
	repo, dir := newFakeTaskRepo(), newFakeDirectory()
	repo.put(t, storedParams())
	h := command.NewUpdateTaskHandler(repo, dir, clock, discard, nop)
	err := h.Handle(context.Background(), command.UpdateTask{
		ID: taskID, Actor: pic, ExpectedVersion: ptr(int64(1)),
		Name: ptr("Renamed"), Contents: ptr("new contents"), Priority: ptr("urgent"),
		Deadline: ptr("2026-04-01T18:00:00+09:00"), Status: ptr("done"),
		PIC: ptr("new@example.com"), Supervisor: ptr(""),
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls := repo.callLog(); !slices.Equal(calls, []string{"Update"}) {
		t.Errorf("repository calls = %v, want one Update", calls)
	}
	s := repo.row(t, taskID)
	if s.Name != "Renamed" || s.Contents != "new contents" || s.Priority != "urgent" || s.Status != "done" ||
		s.Deadline == nil || !s.Deadline.Equal(time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)) ||
		s.PICID != "u-new" || s.SupervisorID != "" || s.CompletedAt == nil || !s.CompletedAt.Equal(now) {
		t.Errorf("stored %+v", s)
	}
	if s.Version != 2 {
		t.Errorf("Version = %d, want 2: one command, one version", s.Version)
	}
	want := []string{contracts.NameTaskUpdated, contracts.NameTaskStatusChanged, contracts.NameTaskCompleted, contracts.NameTaskAssigned}
	if got := repo.eventNames(); !slices.Equal(got, want) {
		t.Errorf("events = %v, want %v", got, want)
	}
}

func TestUpdateTaskRejections(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		cmd          command.UpdateTask
		stored       string // status of the stored task; "" → waiting
		wantErr      error
		wantKind     errs.Kind
		wantField    string
		wantNoUpdate bool // rejected before the repository is called
	}{
		{name: "stranger", cmd: command.UpdateTask{Actor: stranger, Name: ptr("x")},
			wantErr: task.ErrForbiddenUpdate, wantKind: errs.KindForbidden},
		{name: "stranger with a stale version", cmd: command.UpdateTask{Actor: stranger, ExpectedVersion: ptr(int64(9)), Name: ptr("x")},
			wantErr: task.ErrForbiddenUpdate, wantKind: errs.KindForbidden},
		{name: "stranger changing nothing", cmd: command.UpdateTask{Actor: stranger},
			wantErr: task.ErrForbiddenUpdate, wantKind: errs.KindForbidden},
		{name: "stale version", cmd: command.UpdateTask{Actor: creator, ExpectedVersion: ptr(int64(0)), Name: ptr("x")},
			wantErr: errs.ErrVersionMismatch, wantKind: errs.KindPreconditionFailed},
		{name: "future version", cmd: command.UpdateTask{Actor: creator, ExpectedVersion: ptr(int64(2)), Name: ptr("x")},
			wantErr: errs.ErrVersionMismatch, wantKind: errs.KindPreconditionFailed},
		{name: "unknown PIC", cmd: command.UpdateTask{Actor: creator, Name: ptr("x"), PIC: ptr("ghost@example.com")},
			wantErr: command.ErrUnknownUser, wantKind: errs.KindInvalid, wantField: "PIC", wantNoUpdate: true},
		{name: "unknown supervisor", cmd: command.UpdateTask{Actor: creator, Supervisor: ptr("ghost@example.com")},
			wantErr: command.ErrUnknownUser, wantKind: errs.KindInvalid, wantField: "Supervisor", wantNoUpdate: true},
		{name: "bad priority", cmd: command.UpdateTask{Actor: creator, Priority: ptr("")},
			wantErr: task.ErrInvalidPriority, wantKind: errs.KindInvalid, wantNoUpdate: true},
		{name: "bad deadline", cmd: command.UpdateTask{Actor: creator, Deadline: ptr("soon")},
			wantErr: task.ErrInvalidDeadline, wantKind: errs.KindInvalid, wantNoUpdate: true},
		{name: "bad status", cmd: command.UpdateTask{Actor: creator, Status: ptr("")},
			wantErr: task.ErrInvalidStatus, wantKind: errs.KindInvalid, wantNoUpdate: true},
		{name: "blank name", cmd: command.UpdateTask{Actor: creator, Name: ptr("  ")},
			wantErr: task.ErrNameRequired, wantKind: errs.KindInvalid},
		// The rename and reassignment are valid, the status move is not:
		// nothing of the command is kept.
		{name: "done → waiting with other changes", stored: "done",
			cmd:     command.UpdateTask{Actor: creator, Name: ptr("x"), PIC: ptr(""), Status: ptr("waiting")},
			wantErr: task.ErrBadTransition, wantKind: errs.KindInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			repo, dir := newFakeTaskRepo(), newFakeDirectory()
			p := storedParams()
			if tt.stored == "done" {
				p.Status = task.StatusDone
			}
			repo.put(t, p)
			before := repo.row(t, taskID)
			c := tt.cmd
			c.ID = taskID
			err := command.NewUpdateTaskHandler(repo, dir, clock, discard, nop).Handle(context.Background(), c)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			e, _ := errs.As(err)
			if e.Kind != tt.wantKind {
				t.Errorf("Kind = %v, want %v", e.Kind, tt.wantKind)
			}
			if tt.wantField != "" && e.Field != tt.wantField {
				t.Errorf("Field = %q, want %q", e.Field, tt.wantField)
			}
			if tt.wantNoUpdate && len(repo.callLog()) != 0 {
				t.Errorf("the repository was called: %v", repo.callLog())
			}
			if after := repo.row(t, taskID); after != before {
				t.Errorf("the stored task changed:\n before %+v\n after  %+v", before, after)
			}
			if evs := repo.eventNames(); len(evs) != 0 {
				t.Errorf("events stored: %v", evs)
			}
		})
	}
}

func TestUpdateTaskPermissions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		actor actor.Actor
		ok    bool
	}{
		{"creator", creator, true},
		{"PIC", pic, true},
		{"supervisor", supervisor, true},
		{"admin", admin, true},
		{"manager not on the task", stranger, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			repo := newFakeTaskRepo()
			repo.put(t, storedParams())
			c := command.UpdateTask{ID: taskID, Actor: tt.actor, Name: ptr("by " + tt.name)}
			err := command.NewUpdateTaskHandler(repo, newFakeDirectory(), clock, discard, nop).Handle(context.Background(), c)
			if tt.ok != (err == nil) {
				t.Fatalf("err = %v, want allowed=%v", err, tt.ok)
			}
			if !tt.ok && !errors.Is(err, task.ErrForbiddenUpdate) {
				t.Errorf("err = %v, want forbidden", err)
			}
		})
	}
}

func TestUpdateTaskClearsDeadlineAndNotFound(t *testing.T) {
	t.Parallel()
	repo := newFakeTaskRepo()
	p := storedParams()
	d := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	p.Deadline = &d
	repo.put(t, p)
	h := command.NewUpdateTaskHandler(repo, newFakeDirectory(), clock, discard, nop)
	if err := h.Handle(context.Background(), command.UpdateTask{ID: taskID, Actor: creator, Deadline: ptr("")}); err != nil {
		t.Fatal(err)
	}
	if s := repo.row(t, taskID); s.Deadline != nil || s.Version != 2 {
		t.Errorf("stored %+v, want no deadline at version 2", s)
	}
	// An update that changes nothing stores nothing.
	if err := h.Handle(context.Background(), command.UpdateTask{ID: taskID, Actor: creator, Deadline: ptr(""), Name: ptr("Stored")}); err != nil {
		t.Fatal(err)
	}
	if s := repo.row(t, taskID); s.Version != 2 {
		t.Errorf("Version = %d after a no-op, want 2", s.Version)
	}
	err := h.Handle(context.Background(), command.UpdateTask{ID: "missing", Actor: creator, Name: ptr("x")})
	if !errors.Is(err, task.ErrNotFound) {
		t.Errorf("err = %v, want ErrNotFound", err)
	}
}

// A PIC or supervisor may hand the task over and change the rest of it in the
// same PUT: permission is the actor's before the command, not after.
func TestUpdateTaskHandOverWithOtherChanges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		actor actor.Actor
		cmd   command.UpdateTask
		check func(t *testing.T, s task.Snapshot)
	}{
		{"PIC hands over and completes", pic,
			command.UpdateTask{PIC: ptr("new@example.com"), Status: ptr("done"), Name: ptr("Handed over")},
			func(t *testing.T, s task.Snapshot) {
				if s.PICID != "u-new" || s.Status != "done" || s.Name != "Handed over" {
					t.Errorf("stored %+v", s)
				}
			}},
		{"supervisor steps down and starts it", supervisor,
			command.UpdateTask{Supervisor: ptr(""), Status: ptr("in_progress")},
			func(t *testing.T, s task.Snapshot) {
				if s.SupervisorID != "" || s.Status != "in_progress" {
					t.Errorf("stored %+v", s)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			repo := newFakeTaskRepo()
			repo.put(t, storedParams())
			c := tt.cmd
			c.ID, c.Actor = taskID, tt.actor
			if err := command.NewUpdateTaskHandler(repo, newFakeDirectory(), clock, discard, nop).Handle(context.Background(), c); err != nil {
				t.Fatal(err)
			}
			tt.check(t, repo.row(t, taskID))
		})
	}
}
