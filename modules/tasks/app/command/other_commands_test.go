package command_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/taskd/taskd/modules/kernel/actor"
	"github.com/taskd/taskd/modules/kernel/errs"
	"github.com/taskd/taskd/modules/tasks/app/command"
	"github.com/taskd/taskd/modules/tasks/contracts"
	"github.com/taskd/taskd/modules/tasks/domain/task"
)

func TestDeleteTask(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		actor   actor.Actor
		version *int64
		id      string
		wantErr error
	}{
		{name: "creator", actor: creator},
		{name: "supervisor", actor: supervisor},
		{name: "admin", actor: admin, version: ptr(int64(1))},
		{name: "PIC", actor: pic, wantErr: task.ErrForbiddenDelete},
		{name: "stranger", actor: stranger, wantErr: task.ErrForbiddenDelete},
		{name: "stranger, stale version", actor: stranger, version: ptr(int64(7)), wantErr: task.ErrForbiddenDelete},
		{name: "stale version", actor: creator, version: ptr(int64(7)), wantErr: errs.ErrVersionMismatch},
		{name: "missing", actor: creator, id: "missing", wantErr: task.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			repo := newFakeTaskRepo()
			repo.put(t, storedParams())
			id := tt.id
			if id == "" {
				id = taskID
			}
			err := command.NewDeleteTaskHandler(repo, clock, discard, nop).Handle(context.Background(),
				command.DeleteTask{ID: id, Actor: tt.actor, ExpectedVersion: tt.version})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if errors.Is(tt.wantErr, task.ErrForbiddenDelete) {
					if e, _ := errs.As(err); e.Kind != errs.KindForbidden {
						t.Errorf("Kind = %v, want forbidden", e.Kind)
					}
				}
				repo.row(t, taskID) // still there
				if evs := repo.eventNames(); len(evs) != 0 {
					t.Errorf("events stored: %v", evs)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := repo.rows[taskID]; ok {
				t.Error("the task is still stored")
			}
			if got := repo.eventNames(); !slices.Equal(got, []string{contracts.NameTaskDeleted}) {
				t.Errorf("events = %v", got)
			}
			if a := repo.events[0].EventMeta().ActorID; a != tt.actor.UserID {
				t.Errorf("ActorID = %q, want %q", a, tt.actor.UserID)
			}
		})
	}
}

func TestReleaseUserTasks(t *testing.T) {
	t.Parallel()
	const gone = "u-gone"
	repo := newFakeTaskRepo()
	seed := []task.NewTaskParams{
		{ID: "t1", Name: "PIC", CreatorID: creatorID, PICID: gone, SupervisorID: supervisorID},
		{ID: "t2", Name: "supervisor", CreatorID: creatorID, PICID: picID, SupervisorID: gone},
		{ID: "t3", Name: "both", CreatorID: creatorID, PICID: gone, SupervisorID: gone},
		{ID: "t4", Name: "creator only", CreatorID: gone, PICID: picID},
		{ID: "t5", Name: "unrelated", CreatorID: creatorID, PICID: picID, SupervisorID: supervisorID},
	}
	for _, p := range seed {
		repo.put(t, p)
	}
	h := command.NewReleaseUserTasksHandler(repo, clock, discard, nop)
	if err := h.Handle(context.Background(), command.ReleaseUserTasks{UserID: gone}); err != nil {
		t.Fatal(err)
	}
	want := map[string][3]string{ // pic, supervisor, creator
		"t1": {"", supervisorID, creatorID},
		"t2": {picID, "", creatorID},
		"t3": {"", "", creatorID},
		"t4": {picID, "", gone},
		"t5": {picID, supervisorID, creatorID},
	}
	for id, w := range want {
		s := repo.row(t, id)
		if got := [3]string{s.PICID, s.SupervisorID, s.CreatorID}; got != w {
			t.Errorf("%s: pic, supervisor, creator = %v, want %v", id, got, w)
		}
	}
	if got := repo.eventNames(); !slices.Equal(got, []string{contracts.NameTaskAssigned, contracts.NameTaskAssigned, contracts.NameTaskAssigned}) {
		t.Errorf("events = %v, want three TaskAssigned", got)
	}
	for _, e := range repo.events {
		if m := e.EventMeta(); m.ActorID != gone || !m.OccurredAt.Equal(now) {
			t.Errorf("event meta = %+v", m)
		}
	}
	// Running it again changes nothing: it is safe to redeliver.
	n := len(repo.events)
	if err := h.Handle(context.Background(), command.ReleaseUserTasks{UserID: gone}); err != nil {
		t.Fatal(err)
	}
	if len(repo.events) != n {
		t.Errorf("a second run recorded %d more events", len(repo.events)-n)
	}
}

func TestChangeTaskStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		actor      actor.Actor
		status     string
		version    *int64
		wantErr    error
		wantStatus string
		wantEvents []string
	}{
		{name: "start", actor: pic, status: "in_progress", wantStatus: "in_progress", wantEvents: []string{contracts.NameTaskStatusChanged}},
		{name: "complete in Korean", actor: supervisor, status: "완료", version: ptr(int64(1)), wantStatus: "done",
			wantEvents: []string{contracts.NameTaskStatusChanged, contracts.NameTaskCompleted}},
		{name: "same status", actor: pic, status: "waiting", wantStatus: "waiting", wantEvents: []string{}},
		{name: "stranger", actor: stranger, status: "done", wantErr: task.ErrForbiddenUpdate},
		{name: "stranger with version", actor: stranger, status: "done", version: ptr(int64(5)), wantErr: task.ErrForbiddenUpdate},
		{name: "stale version", actor: pic, status: "done", version: ptr(int64(5)), wantErr: errs.ErrVersionMismatch},
		{name: "unknown status", actor: pic, status: "paused", wantErr: task.ErrInvalidStatus},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			repo := newFakeTaskRepo()
			repo.put(t, storedParams())
			err := command.NewChangeTaskStatusHandler(repo, clock, discard, nop).Handle(context.Background(),
				command.ChangeTaskStatus{ID: taskID, Actor: tt.actor, Status: tt.status, ExpectedVersion: tt.version})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if s := repo.row(t, taskID); s.Status != "waiting" || s.Version != 1 {
					t.Errorf("stored %+v", s)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s := repo.row(t, taskID); s.Status != tt.wantStatus {
				t.Errorf("Status = %q, want %q", s.Status, tt.wantStatus)
			}
			if got := repo.eventNames(); !slices.Equal(got, tt.wantEvents) {
				t.Errorf("events = %v, want %v", got, tt.wantEvents)
			}
		})
	}
}

func TestAssignTask(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		actor     actor.Actor
		cmd       command.AssignTask
		wantErr   error
		wantField string
		wantPIC   string
		wantSup   string
	}{
		{name: "new PIC by e-mail", actor: creator, cmd: command.AssignTask{PIC: ptr("new@example.com")}, wantPIC: "u-new", wantSup: supervisorID},
		{name: "remove supervisor", actor: admin, cmd: command.AssignTask{Supervisor: ptr("")}, wantPIC: picID},
		{name: "unknown PIC", actor: creator, cmd: command.AssignTask{PIC: ptr("ghost")}, wantErr: command.ErrUnknownUser, wantField: "PIC"},
		{name: "unknown supervisor", actor: creator, cmd: command.AssignTask{Supervisor: ptr("ghost")}, wantErr: command.ErrUnknownUser, wantField: "Supervisor"},
		{name: "stranger", actor: stranger, cmd: command.AssignTask{PIC: ptr(stranger.UserID)}, wantErr: task.ErrForbiddenUpdate},
		{name: "stale version", actor: creator, cmd: command.AssignTask{PIC: ptr(""), ExpectedVersion: ptr(int64(3))}, wantErr: errs.ErrVersionMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			repo, dir := newFakeTaskRepo(), newFakeDirectory()
			dir.ids[stranger.UserID] = stranger.UserID
			repo.put(t, storedParams())
			c := tt.cmd
			c.ID, c.Actor = taskID, tt.actor
			err := command.NewAssignTaskHandler(repo, dir, clock, discard, nop).Handle(context.Background(), c)
			s := repo.row(t, taskID)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if e, _ := errs.As(err); tt.wantField != "" && e.Field != tt.wantField {
					t.Errorf("Field = %q, want %q", e.Field, tt.wantField)
				}
				if s.PICID != picID || s.SupervisorID != supervisorID || s.Version != 1 {
					t.Errorf("stored %+v", s)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.PICID != tt.wantPIC || s.SupervisorID != tt.wantSup {
				t.Errorf("PIC, supervisor = %q, %q; want %q, %q", s.PICID, s.SupervisorID, tt.wantPIC, tt.wantSup)
			}
			if got := repo.eventNames(); !slices.Equal(got, []string{contracts.NameTaskAssigned}) {
				t.Errorf("events = %v", got)
			}
		})
	}
}
