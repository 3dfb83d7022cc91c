package query

import (
	"context"
	"log/slog"

	"github.com/taskd/taskd/modules/analytics/contracts"
	"github.com/taskd/taskd/modules/analytics/domain/eventlog"
	"github.com/taskd/taskd/modules/kernel/actor"
	"github.com/taskd/taskd/modules/kernel/decorator"
)

// TaskHistory is a task's changes in order: who, when, what changed. Anyone
// who may read the task may read its history (any signed-in user, in
// taskd); once the task is deleted, managers and admins only.
type TaskHistory struct {
	Actor  actor.Actor
	TaskID string
	// AfterSequence continues a previous page (0: from the start).
	AfterSequence int64
	// Limit is the page size, 1–1000 (0: 200).
	Limit int
}

func (q TaskHistory) LogAttrs() []slog.Attr { return []slog.Attr{slog.String("task_id", q.TaskID)} }

type TaskHistoryHandler decorator.QueryHandler[TaskHistory, contracts.TaskHistory]

type taskHistoryHandler struct {
	log   HistoryReadModel
	tasks TaskDirectory
}

func NewTaskHistoryHandler(log HistoryReadModel, tasks TaskDirectory, logger *slog.Logger, m decorator.Metrics) TaskHistoryHandler {
	return decorator.ApplyQueryDecorators[TaskHistory, contracts.TaskHistory](taskHistoryHandler{log: log, tasks: tasks}, logger, m)
}

// DefaultHistoryLimit is the page size of a history without a limit.
const DefaultHistoryLimit = 200

func (h taskHistoryHandler) Handle(ctx context.Context, q TaskHistory) (contracts.TaskHistory, error) {
	limit := q.Limit
	if limit == 0 {
		limit = DefaultHistoryLimit
	}
	if limit < 1 || limit > eventlog.MaxQueryLimit || q.AfterSequence < 0 {
		return contracts.TaskHistory{}, ErrInvalidLimit
	}
	exists, err := h.tasks.TaskExists(ctx, q.TaskID)
	if err != nil {
		return contracts.TaskHistory{}, err
	}
	if !exists && !q.Actor.IsManager() {
		return contracts.TaskHistory{}, ErrTaskNotFound
	}
	// One more than asked tells whether there is a next page.
	entries, err := h.log.Entries(ctx, eventlog.AggregateTask, q.TaskID, q.AfterSequence, limit+1)
	if err != nil {
		return contracts.TaskHistory{}, err
	}
	if !exists && len(entries) == 0 && q.AfterSequence == 0 {
		return contracts.TaskHistory{}, ErrTaskNotFound
	}
	out := contracts.TaskHistory{TaskID: q.TaskID, Deleted: !exists, Entries: make([]contracts.HistoryEntry, 0, min(len(entries), limit))}
	if len(entries) > limit {
		entries = entries[:limit]
		out.NextAfter = entries[limit-1].Sequence
	}
	for _, e := range entries {
		out.Entries = append(out.Entries, contracts.HistoryEntry{
			Sequence: e.Sequence, Event: e.Type, At: e.OccurredAt, ActorID: e.ActorID, Changes: changesOf(e),
		})
	}
	return out, nil
}

func changesOf(e eventlog.Entry) []contracts.Change {
	out := make([]contracts.Change, 0, len(e.Changes))
	for _, c := range e.Changes {
		out = append(out, contracts.Change{Field: c.Field, Old: c.Old, New: c.New})
	}
	return out
}
