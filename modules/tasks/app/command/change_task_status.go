package command

import (
	"context"
	"log/slog"
	"time"

	"github.com/taskd/taskd/modules/kernel/actor"
	"github.com/taskd/taskd/modules/kernel/decorator"
	"github.com/taskd/taskd/modules/tasks/domain/task"
)

// ChangeTaskStatus starts, completes or reopens a task.
type ChangeTaskStatus struct {
	ID              string
	Actor           actor.Actor
	ExpectedVersion *int64
	Status          string
}

func (c ChangeTaskStatus) LogAttrs() []slog.Attr {
	return []slog.Attr{slog.String("task_id", c.ID), slog.String("actor", c.Actor.UserID), slog.String("status", c.Status)}
}

type ChangeTaskStatusHandler decorator.CommandHandler[ChangeTaskStatus]

type changeTaskStatusHandler struct {
	repo  task.Repository
	clock func() time.Time
}

func NewChangeTaskStatusHandler(repo task.Repository, clock func() time.Time, logger *slog.Logger, m decorator.Metrics) ChangeTaskStatusHandler {
	return decorator.ApplyCommandDecorators[ChangeTaskStatus](changeTaskStatusHandler{repo: repo, clock: clock}, logger, m)
}

func (h changeTaskStatusHandler) Handle(ctx context.Context, c ChangeTaskStatus) error {
	status, err := task.StatusFromString(c.Status)
	if err != nil {
		return err
	}
	return h.repo.Update(ctx, c.ID, func(ctx context.Context, t *task.Task) error {
		if c.ExpectedVersion != nil {
			if err := t.CanUpdate(c.Actor); err != nil {
				return err
			}
			if err := t.CheckVersion(*c.ExpectedVersion); err != nil {
				return err
			}
		}
		return t.ChangeStatus(c.Actor, status, h.clock())
	})
}
