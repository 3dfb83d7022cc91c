package report

import (
	"context"
)

// Commit is one step of a task's projection: the event(s) EventIDs moved
// the task from Before to After with Effects.
type Commit struct {
	// Before is the state the effects were computed from (LastSeq 0: the
	// projection has not seen the task yet).
	Before TaskState
	After  TaskState
	// EventIDs are the events applied; each is recorded as processed in
	// the same atomic write as the effects.
	EventIDs []string
	Effects  Effects
}

// ProjectionStore keeps the projected state of every task and the read
// models, and applies a Commit atomically: the task's state, the counters,
// the facts, the open-task rows and the processed-event records change
// together or not at all (one SQL transaction; one DynamoDB
// TransactWriteItems, or a few idempotent ones when a commit is larger
// than a transaction may be).
type ProjectionStore interface {
	// TaskState returns the projected state of a task; a task the
	// projection has not seen has LastSeq 0.
	TaskState(ctx context.Context, taskID string) (TaskState, error)
	// Commit applies c if the task's state is still c.Before (its LastSeq);
	// otherwise it changes nothing and returns ErrStaleState. While a
	// rebuild runs it changes nothing and returns ErrRebuilding.
	Commit(ctx context.Context, c Commit) error
}

// Meta describes the read models as a whole.
type Meta struct {
	// Generation rises with every rebuild.
	Generation int64
	// Rebuilding is true from BeginRebuild to EndRebuild.
	Rebuilding bool
	// TimeZone is the report time zone the read models were projected in
	// ("" before the first event).
	TimeZone string
}

// RebuildStore is what `taskd analytics rebuild` needs besides the log.
type RebuildStore interface {
	Meta(ctx context.Context) (Meta, error)
	// SetTimeZone records the time zone of fresh read models (no effect
	// when one is recorded: only a rebuild changes it).
	SetTimeZone(ctx context.Context, tz string) error
	// BeginRebuild marks the read models as rebuilding (live commits stop
	// with ErrRebuilding) and deletes them: states, counters, facts, open
	// tasks and the projection's processed-event records. The time zone
	// becomes tz.
	BeginRebuild(ctx context.Context, tz string) error
	// WriteRebuilt stores task states and adds effects (called many times).
	WriteRebuilt(ctx context.Context, states []TaskState, eff Effects) error
	// EndRebuild lets live commits through again.
	EndRebuild(ctx context.Context) error
	// LaggingTasks lists the tasks whose log holds events after their
	// projected state (those a live handler skipped during the rebuild,
	// and those waiting for a missing event).
	LaggingTasks(ctx context.Context) ([]string, error)
}
