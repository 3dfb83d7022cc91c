package query

import (
	"context"
	"log/slog"

	"github.com/taskd/taskd/modules/kernel/actor"
	"github.com/taskd/taskd/modules/kernel/decorator"
	"github.com/taskd/taskd/modules/kernel/errs"
)

// Tasks lists tasks with filters, a sort and cursor pagination. "Assigned to
// me" is Filter.PICID = the actor; "supervised by me" Filter.SupervisorID.
type Tasks struct {
	Actor  actor.Actor
	Filter Filter
}

func (q Tasks) LogAttrs() []slog.Attr {
	return []slog.Attr{slog.String("sort", string(q.Filter.Sort)), slog.Int("limit", q.Filter.Limit)}
}

// TasksReadModel serves task lists.
type TasksReadModel interface {
	FindTasks(ctx context.Context, f Filter) (Page, error)
}

type TasksHandler decorator.QueryHandler[Tasks, Page]

type tasksHandler struct{ rm TasksReadModel }

func NewTasksHandler(rm TasksReadModel, logger *slog.Logger, m decorator.Metrics) TasksHandler {
	return decorator.ApplyQueryDecorators[Tasks, Page](tasksHandler{rm: rm}, logger, m)
}

var ErrInvalidLimit = errs.Invalid("invalid_limit", "limit", "limit must be between 1 and 200")

func (h tasksHandler) Handle(ctx context.Context, q Tasks) (Page, error) {
	f := q.Filter
	switch {
	case f.Limit == 0:
		f.Limit = DefaultLimit
	case f.Limit < 0 || f.Limit > MaxLimit:
		return Page{}, ErrInvalidLimit
	}
	if f.Sort == "" {
		f.Sort = SortCreatedDesc
	}
	if _, err := SortFromString(string(f.Sort)); err != nil {
		return Page{}, err
	}
	return h.rm.FindTasks(ctx, f)
}
