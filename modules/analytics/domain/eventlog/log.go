package eventlog

import (
	"context"
	"time"
)

// Log is the event log's storage. Adapters: SQL (analytics_events) and
// DynamoDB (the event-log table), both under one contract suite.
type Log interface {
	// Append stores e unless an event with its id is stored already:
	// appended is false for a duplicate. Another event holding e's
	// aggregate and sequence is ErrSequenceConflict.
	Append(ctx context.Context, e Entry) (appended bool, err error)
	// Entries returns up to limit entries of one aggregate with a sequence
	// number above afterSeq, in sequence order. It reads its own writes.
	Entries(ctx context.Context, aggregateType, aggregateID string, afterSeq int64, limit int) ([]Entry, error)
	// Events returns the entries q selects in (occurred_at, event id) order.
	Events(ctx context.Context, q Query) ([]Entry, error)
}

// Query selects entries by time, and by actor when ActorID is set.
type Query struct {
	// ActorID, when set, selects the events this user caused.
	ActorID string
	// From (inclusive) and To (exclusive) bound occurred_at; both required.
	From, To time.Time
	// After continues a previous page: only entries after this position.
	After *Position
	// Limit is the page size (1–1000).
	Limit int
}

// Position is an entry's place in time order: (occurred_at, event id).
type Position struct {
	OccurredAt time.Time
	EventID    string
}

// PositionOf returns e's position.
func PositionOf(e Entry) Position { return Position{OccurredAt: e.OccurredAt, EventID: e.EventID} }

// Less orders positions.
func (p Position) Less(o Position) bool {
	if !p.OccurredAt.Equal(o.OccurredAt) {
		return p.OccurredAt.Before(o.OccurredAt)
	}
	return p.EventID < o.EventID
}

// MaxQueryLimit is the largest page of Entries and Events.
const MaxQueryLimit = 1000

// Scanner reads the whole log for a rebuild.
type Scanner interface {
	// ScanTasks calls total once with the number of task entries in the log,
	// then fn once per task with all its entries in sequence order. Tasks
	// come in no particular order; fn is never called concurrently.
	ScanTasks(ctx context.Context, total func(n int64), fn func(taskID string, entries []Entry) error) error
}
