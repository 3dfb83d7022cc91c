package command

import (
	"context"
	"log/slog"
	"time"

	"github.com/taskd/taskd/modules/kernel/actor"
	"github.com/taskd/taskd/modules/kernel/decorator"
	"github.com/taskd/taskd/modules/tasks/domain/task"
)

// DeleteTask deletes a task; its history stays in the event log.
type DeleteTask struct {
	ID              string
	Actor           actor.Actor
	ExpectedVersion *int64
}

func (c DeleteTask) LogAttrs() []slog.Attr {
	return []slog.Attr{slog.String("task_id", c.ID), slog.String("actor", c.Actor.UserID)}
}

type DeleteTaskHandler decorator.CommandHandler[DeleteTask]

type deleteTaskHandler struct {
	repo  task.Repository
	clock func() time.Time
}

func NewDeleteTaskHandler(repo task.Repository, clock func() time.Time, logger *slog.Logger, m decorator.Metrics) DeleteTaskHandler {
	return decorator.ApplyCommandDecorators[DeleteTask](deleteTaskHandler{repo: repo, clock: clock}, logger, m)
}

func (h deleteTaskHandler) Handle(ctx context.Context, c DeleteTask) error {
	return h.repo.Delete(ctx, c.ID, func(ctx context.Context, t *task.Task) error {
		if err := t.CanDelete(c.Actor); err != nil {
			return err
		}
		if c.ExpectedVersion != nil {
			if err := t.CheckVersion(*c.ExpectedVersion); err != nil {
				return err
			}
		}
		return t.Delete(c.Actor, h.clock())
	})
}
