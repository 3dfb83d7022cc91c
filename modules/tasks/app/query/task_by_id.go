package query

import (
	"context"
	"log/slog"

	"github.com/taskd/taskd/modules/kernel/actor"
	"github.com/taskd/taskd/modules/kernel/decorator"
)

// TaskByID returns one task. Any signed-in user may read any task.
type TaskByID struct {
	ID    string
	Actor actor.Actor
}

func (q TaskByID) LogAttrs() []slog.Attr { return []slog.Attr{slog.String("task_id", q.ID)} }

// TaskReadModel serves single tasks; it returns task.ErrNotFound's code
// ("task_not_found") when there is none.
type TaskReadModel interface {
	TaskByID(ctx context.Context, id string) (Task, error)
}

type TaskByIDHandler decorator.QueryHandler[TaskByID, Task]

type taskByIDHandler struct{ rm TaskReadModel }

func NewTaskByIDHandler(rm TaskReadModel, logger *slog.Logger, m decorator.Metrics) TaskByIDHandler {
	return decorator.ApplyQueryDecorators[TaskByID, Task](taskByIDHandler{rm: rm}, logger, m)
}

func (h taskByIDHandler) Handle(ctx context.Context, q TaskByID) (Task, error) {
	return h.rm.TaskByID(ctx, q.ID)
}
