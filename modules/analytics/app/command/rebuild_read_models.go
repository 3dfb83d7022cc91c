package command

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/taskd/taskd/modules/analytics/domain/eventlog"
	"github.com/taskd/taskd/modules/analytics/domain/report"
	"github.com/taskd/taskd/modules/kernel/decorator"
)

// RebuildReadModels drops the read models and projects the whole event log
// again, with the same projector as the live handlers, so the numbers come
// out the same. Live handlers keep logging events meanwhile but do not
// project them; at the end the tasks whose log went past their rebuilt
// state are caught up.
type RebuildReadModels struct {
	// Progress, when set, is told how many events are projected out of
	// how many, after each batch and once at the end.
	Progress func(done, total int64)
}

func (RebuildReadModels) LogAttrs() []slog.Attr { return nil }

type RebuildReadModelsHandler decorator.CommandHandler[RebuildReadModels]

// RebuildStore is what a rebuild needs from storage.
type RebuildStore interface {
	report.RebuildStore
	eventlog.Scanner
}

type rebuildHandler struct {
	store      RebuildStore
	projection *Projection
	batchSize  int
}

// DefaultRebuildBatch is how many events' effects a rebuild adds up in
// memory before writing them.
const DefaultRebuildBatch = 20000

func NewRebuildReadModelsHandler(store RebuildStore, p *Projection, batchSize int, logger *slog.Logger, m decorator.Metrics) RebuildReadModelsHandler {
	if batchSize <= 0 {
		batchSize = DefaultRebuildBatch
	}
	return decorator.ApplyCommandDecorators[RebuildReadModels](rebuildHandler{store: store, projection: p, batchSize: batchSize}, logger, m)
}

func (h rebuildHandler) Handle(ctx context.Context, c RebuildReadModels) error {
	progress := c.Progress
	if progress == nil {
		progress = func(int64, int64) {}
	}
	if err := h.store.BeginRebuild(ctx, h.projection.Projector.Loc.String()); err != nil {
		return fmt.Errorf("starting the rebuild: %w", err)
	}
	var (
		total, done, pending int64
		states               []report.TaskState
		eff                  = report.NewEffects()
	)
	flush := func() error {
		if len(states) == 0 && eff.IsEmpty() {
			return nil
		}
		if err := h.store.WriteRebuilt(ctx, states, eff); err != nil {
			return fmt.Errorf("writing rebuilt read models: %w", err)
		}
		states, eff, pending = states[:0], report.NewEffects(), 0
		progress(done, total)
		return nil
	}
	err := h.store.ScanTasks(ctx, func(n int64) { total = n; progress(0, n) }, func(taskID string, entries []eventlog.Entry) error {
		st := report.TaskState{TaskID: taskID}
		for _, e := range entries {
			if e.Sequence != st.LastSeq+1 {
				break // a gap: the missing event's delivery will catch up
			}
			next, te, err := h.projection.Projector.Apply(st, e)
			if err != nil {
				return fmt.Errorf("task %s, event %d: %w", taskID, e.Sequence, err)
			}
			eff.Merge(te)
			st = next
		}
		if st.LastSeq > 0 {
			states = append(states, st)
		}
		done += int64(len(entries))
		pending += int64(len(entries))
		if pending >= int64(h.batchSize) {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return fmt.Errorf("rebuilding (the read models stay marked as rebuilding: run the rebuild again): %w", err)
	}
	if err := h.store.EndRebuild(ctx); err != nil {
		return fmt.Errorf("ending the rebuild: %w", err)
	}
	lagging, err := h.store.LaggingTasks(ctx)
	if err != nil {
		return fmt.Errorf("listing tasks logged during the rebuild: %w", err)
	}
	for _, id := range lagging {
		if err := h.projection.CatchUp(ctx, id); err != nil {
			return fmt.Errorf("catching up task %s: %w", id, err)
		}
	}
	progress(done, total)
	return nil
}
