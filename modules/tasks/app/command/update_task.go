package command

import (
	"context"
	"log/slog"
	"time"

	"github.com/taskd/taskd/modules/kernel/actor"
	"github.com/taskd/taskd/modules/kernel/decorator"
	"github.com/taskd/taskd/modules/tasks/domain/task"
)

// UpdateTask is the seed's PUT: a partial update of the fields present
// (nil = absent). Name, contents, priority and deadline, the status and the
// PIC / supervisor all change in one transaction, each recorded as its own event.
type UpdateTask struct {
	ID              string
	Actor           actor.Actor
	ExpectedVersion *int64 // If-Match
	Name            *string
	Contents        *string
	Priority        *string
	Deadline        *string // "" clears it
	Status          *string
	PIC             *string // "" removes the PIC
	Supervisor      *string // "" removes the supervisor
}

func (c UpdateTask) LogAttrs() []slog.Attr {
	return []slog.Attr{slog.String("task_id", c.ID), slog.String("actor", c.Actor.UserID)}
}

type UpdateTaskHandler decorator.CommandHandler[UpdateTask]

type updateTaskHandler struct {
	repo  task.Repository
	users UserDirectory
	clock func() time.Time
}

func NewUpdateTaskHandler(repo task.Repository, users UserDirectory, clock func() time.Time, logger *slog.Logger, m decorator.Metrics) UpdateTaskHandler {
	return decorator.ApplyCommandDecorators[UpdateTask](updateTaskHandler{repo: repo, users: users, clock: clock}, logger, m)
}

func (h updateTaskHandler) Handle(ctx context.Context, c UpdateTask) error {
	// Parse and resolve everything before taking the row lock.
	edit := task.Edit{Name: c.Name, Contents: c.Contents}
	if c.Priority != nil {
		p, err := task.PriorityFromString(*c.Priority)
		if err != nil {
			return err
		}
		edit.Priority = &p
	}
	if c.Deadline != nil {
		if *c.Deadline == "" {
			edit.ClearDeadline = true
		} else {
			d, err := task.ParseDeadline(*c.Deadline)
			if err != nil {
				return err
			}
			edit.Deadline = &d
		}
	}
	var status task.Status
	if c.Status != nil {
		s, err := task.StatusFromString(*c.Status)
		if err != nil {
			return err
		}
		status = s
	}
	as, err := resolveAssignment(ctx, h.users, c.PIC, c.Supervisor)
	if err != nil {
		return err
	}
	return h.repo.Update(ctx, c.ID, func(ctx context.Context, t *task.Task) error {
		if err := t.CanUpdate(c.Actor); err != nil {
			return err
		}
		if c.ExpectedVersion != nil {
			if err := t.CheckVersion(*c.ExpectedVersion); err != nil {
				return err
			}
		}
		now := h.clock()
		if err := t.Update(c.Actor, edit, now); err != nil {
			return err
		}
		if !status.IsZero() {
			if err := t.ChangeStatus(c.Actor, status, now); err != nil {
				return err
			}
		}
		// Reassign last: every step checks the actor's permission, and a PIC
		// or supervisor who hands the task over in this command must still
		// be allowed the other changes.
		return t.Assign(c.Actor, as, now)
	})
}

func resolveAssignment(ctx context.Context, users UserDirectory, pic, supervisor *string) (task.Assignment, error) {
	var as task.Assignment
	if pic != nil {
		id, err := resolveOptional(ctx, users, "PIC", *pic)
		if err != nil {
			return as, err
		}
		as.PICID = &id
	}
	if supervisor != nil {
		id, err := resolveOptional(ctx, users, "Supervisor", *supervisor)
		if err != nil {
			return as, err
		}
		as.SupervisorID = &id
	}
	return as, nil
}
