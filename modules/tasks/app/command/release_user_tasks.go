package command

import (
	"context"
	"log/slog"
	"time"

	"github.com/taskd/taskd/modules/kernel/decorator"
	"github.com/taskd/taskd/modules/tasks/domain/task"
)

// ReleaseUserTasks removes a deleted user as PIC and supervisor of every
// task. It runs inside the account deletion's transaction when the caller
// opened one (the storage adapters carry it in ctx).
type ReleaseUserTasks struct {
	UserID string
}

func (c ReleaseUserTasks) LogAttrs() []slog.Attr {
	return []slog.Attr{slog.String("user_id", c.UserID)}
}

type ReleaseUserTasksHandler decorator.CommandHandler[ReleaseUserTasks]

type releaseUserTasksHandler struct {
	repo  task.Repository
	clock func() time.Time
}

func NewReleaseUserTasksHandler(repo task.Repository, clock func() time.Time, logger *slog.Logger, m decorator.Metrics) ReleaseUserTasksHandler {
	return decorator.ApplyCommandDecorators[ReleaseUserTasks](releaseUserTasksHandler{repo: repo, clock: clock}, logger, m)
}

func (h releaseUserTasksHandler) Handle(ctx context.Context, c ReleaseUserTasks) error {
	now := h.clock()
	return h.repo.UpdateInvolving(ctx, c.UserID, func(ctx context.Context, t *task.Task) error {
		return t.ReleaseUser(c.UserID, now)
	})
}
