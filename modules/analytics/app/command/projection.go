package command

import (
	"context"
	"errors"
	"fmt"

	"github.com/taskd/taskd/modules/analytics/domain/eventlog"
	"github.com/taskd/taskd/modules/analytics/domain/report"
)

// Projection brings a task's projected state up to date with the log.
type Projection struct {
	Log       eventlog.Log
	Store     report.ProjectionStore
	Projector report.Projector
}

// catchUpPage is how many log entries one read of a catch-up takes.
const catchUpPage = 100

// maxRaces bounds how often a catch-up starts over after losing a race to
// a concurrent one (each lost race means the other made progress).
const maxRaces = 50

// CatchUp applies the task's logged events after its projected state, one
// commit per event, in sequence order, up to the first gap (an event not
// logged yet: its own delivery will continue from there). A commit that
// finds the state moved on (a concurrent delivery applied it) starts over
// from the new state. During a rebuild it does nothing: the rebuild
// projects what the log holds.
func (p *Projection) CatchUp(ctx context.Context, taskID string) error {
	for race := 0; race < maxRaces; race++ {
		done, err := p.catchUp(ctx, taskID)
		if errors.Is(err, report.ErrStaleState) {
			continue
		}
		if errors.Is(err, report.ErrRebuilding) {
			return nil
		}
		if err != nil || done {
			return err
		}
	}
	return fmt.Errorf("projecting task %s: still racing after %d attempts: %w", taskID, maxRaces, report.ErrStaleState)
}

func (p *Projection) catchUp(ctx context.Context, taskID string) (bool, error) {
	st, err := p.Store.TaskState(ctx, taskID)
	if err != nil {
		return false, fmt.Errorf("reading the projected state of task %s: %w", taskID, err)
	}
	st.TaskID = taskID
	for {
		entries, err := p.Log.Entries(ctx, eventlog.AggregateTask, taskID, st.LastSeq, catchUpPage)
		if err != nil {
			return false, fmt.Errorf("reading the log of task %s: %w", taskID, err)
		}
		for _, e := range entries {
			if e.Sequence != st.LastSeq+1 {
				return true, nil // a gap: wait for the missing event
			}
			next, eff, err := p.Projector.Apply(st, e)
			if err != nil {
				return false, err
			}
			if err := p.Store.Commit(ctx, report.Commit{Before: st, After: next, EventIDs: []string{e.EventID}, Effects: eff}); err != nil {
				return false, err
			}
			st = next
		}
		if len(entries) < catchUpPage {
			return true, nil
		}
	}
}
