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

func TestCreateTask(t *testing.T) {
	t.Parallel()
	repo, dir := newFakeTaskRepo(), newFakeDirectory()
	h := command.NewCreateTaskHandler(repo, dir, clock, eventIDs(), discard, nop)
	err := h.Handle(context.Background(), command.CreateTask{
		ID: taskID, Actor: creator, Name: "  Quarterly report ", Contents: "numbers",
		Status: "진행 중", Priority: "HIGH", Deadline: "2026-03-31",
		PIC: "pic@example.com", Supervisor: supervisorID,
	})
	if err != nil {
		t.Fatal(err)
	}
	s := repo.row(t, taskID)
	wantDeadline := time.Date(2026, 3, 31, 23, 59, 59, 0, time.UTC)
	if s.Name != "Quarterly report" || s.Contents != "numbers" || s.Status != "in_progress" || s.Priority != "high" ||
		s.Deadline == nil || !s.Deadline.Equal(wantDeadline) || s.PICID != picID || s.SupervisorID != supervisorID ||
		s.CreatorID != creatorID || !s.CreatedAt.Equal(now) || s.Version != 1 {
		t.Errorf("stored %+v", s)
	}
	if got := repo.eventNames(); !slices.Equal(got, []string{contracts.NameTaskCreated}) {
		t.Errorf("events = %v", got)
	}
	if !slices.Equal(dir.calls, []string{"pic@example.com", supervisorID}) {
		t.Errorf("directory calls = %v", dir.calls)
	}
}

func TestCreateTaskDefaultsAndDone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status     string
		wantStatus string
		wantEvents []string
	}{
		{"", "waiting", []string{contracts.NameTaskCreated}},
		{"완료", "done", []string{contracts.NameTaskCreated, contracts.NameTaskCompleted}},
	}
	for _, tt := range tests {
		t.Run(tt.wantStatus, func(t *testing.T) {
			t.Parallel()
			repo, dir := newFakeTaskRepo(), newFakeDirectory()
			h := command.NewCreateTaskHandler(repo, dir, clock, eventIDs(), discard, nop)
			if err := h.Handle(context.Background(), command.CreateTask{ID: taskID, Actor: creator, Name: "n", Status: tt.status}); err != nil {
				t.Fatal(err)
			}
			s := repo.row(t, taskID)
			if s.Status != tt.wantStatus || s.Priority != "medium" || s.PICID != "" || s.SupervisorID != "" || s.Deadline != nil {
				t.Errorf("stored %+v", s)
			}
			if got := repo.eventNames(); !slices.Equal(got, tt.wantEvents) {
				t.Errorf("events = %v, want %v", got, tt.wantEvents)
			}
			if len(dir.calls) != 0 {
				t.Errorf("the directory was asked about %v for a task without people", dir.calls)
			}
		})
	}
}

func TestCreateTaskRejections(t *testing.T) {
	t.Parallel()
	dirDown := errors.New("identity is down")
	tests := []struct {
		name      string
		cmd       command.CreateTask
		dirErr    error
		wantErr   error
		wantCode  string
		wantField string
		wantKind  errs.Kind
	}{
		{name: "unknown PIC", cmd: command.CreateTask{PIC: "ghost@example.com"},
			wantErr: command.ErrUnknownUser, wantCode: "unknown_user", wantField: "PIC", wantKind: errs.KindInvalid},
		{name: "unknown supervisor", cmd: command.CreateTask{PIC: "pic@example.com", Supervisor: "ghost@example.com"},
			wantErr: command.ErrUnknownUser, wantCode: "unknown_user", wantField: "Supervisor", wantKind: errs.KindInvalid},
		{name: "directory down", cmd: command.CreateTask{PIC: "pic@example.com"}, dirErr: dirDown, wantErr: dirDown},
		{name: "bad status", cmd: command.CreateTask{Status: "finished"},
			wantErr: task.ErrInvalidStatus, wantCode: "invalid_status", wantField: "Task_status", wantKind: errs.KindInvalid},
		{name: "bad priority", cmd: command.CreateTask{Priority: "asap"},
			wantErr: task.ErrInvalidPriority, wantCode: "invalid_priority", wantField: "Task_priority", wantKind: errs.KindInvalid},
		{name: "bad deadline", cmd: command.CreateTask{Deadline: "next friday"},
			wantErr: task.ErrInvalidDeadline, wantCode: "invalid_deadline", wantField: "Deadline", wantKind: errs.KindInvalid},
		{name: "blank name", cmd: command.CreateTask{Name: " "},
			wantErr: task.ErrNameRequired, wantCode: "name_required", wantField: "Task_name", wantKind: errs.KindInvalid},
		{name: "no actor", cmd: command.CreateTask{Actor: actor.Actor{}},
			wantErr: task.ErrMissingCreator, wantCode: "creator_required", wantField: "Creator", wantKind: errs.KindInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			repo, dir := newFakeTaskRepo(), newFakeDirectory()
			dir.err = tt.dirErr
			c := tt.cmd
			c.ID = taskID
			if c.Name == "" {
				c.Name = "n"
			}
			if c.Actor == (actor.Actor{}) && tt.name != "no actor" {
				c.Actor = creator
			}
			err := command.NewCreateTaskHandler(repo, dir, clock, eventIDs(), discard, nop).Handle(context.Background(), c)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantCode != "" {
				e, _ := errs.As(err)
				if e.Code != tt.wantCode || e.Field != tt.wantField || e.Kind != tt.wantKind {
					t.Errorf("code, field, kind = %q, %q, %v; want %q, %q, %v", e.Code, e.Field, e.Kind, tt.wantCode, tt.wantField, tt.wantKind)
				}
			}
			if calls := repo.callLog(); len(calls) != 0 {
				t.Errorf("repository called: %v", calls)
			}
		})
	}
}

// The error for an unknown PIC names the field in its message too, and the
// shared sentinel is left alone.
func TestCreateTaskUnknownUserMessage(t *testing.T) {
	t.Parallel()
	repo, dir := newFakeTaskRepo(), newFakeDirectory()
	h := command.NewCreateTaskHandler(repo, dir, clock, eventIDs(), discard, nop)
	err := h.Handle(context.Background(), command.CreateTask{ID: taskID, Actor: creator, Name: "n", Supervisor: "ghost"})
	e, ok := errs.As(err)
	if !ok || e.Message != "Supervisor: no user with this e-mail or id" {
		t.Errorf("err = %v", err)
	}
	if command.ErrUnknownUser.Field != "" || command.ErrUnknownUser.Message != "no user with this e-mail or id" {
		t.Errorf("the sentinel changed: %+v", command.ErrUnknownUser)
	}
}
