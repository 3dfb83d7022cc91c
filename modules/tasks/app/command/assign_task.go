package command

import (
	"context"
	"log/slog"
	"time"

	"github.com/taskd/taskd/modules/kernel/actor"
	"github.com/taskd/taskd/modules/kernel/decorator"
	"github.com/taskd/taskd/modules/tasks/domain/task"
)

// AssignTask changes the PIC and/or supervisor (nil leaves one unchanged,
// "" removes it).
type AssignTask struct {
	ID              string
	Actor           actor.Actor
	ExpectedVersion *int64
	PIC             *string
	Supervisor      *string
}

func (c AssignTask) LogAttrs() []slog.Attr {
	return []slog.Attr{slog.String("task_id", c.ID), slog.String("actor", c.Actor.UserID)}
}

type AssignTaskHandler decorator.CommandHandler[AssignTask]

type assignTaskHandler struct {
	repo  task.Repository
	users UserDirectory
	clock func() time.Time
}

func NewAssignTaskHandler(repo task.Repository, users UserDirectory, clock func() time.Time, logger *slog.Logger, m decorator.Metrics) AssignTaskHandler {
	return decorator.ApplyCommandDecorators[AssignTask](assignTaskHandler{repo: repo, users: users, clock: clock}, logger, m)
}

func (h assignTaskHandler) Handle(ctx context.Context, c AssignTask) error {
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
		return t.Assign(c.Actor, as, h.clock())
	})
}
