package event

import "context"

// What an event consumer needs from storage to be correct under
// at-least-once, unordered delivery (docs/events.md). Modules declare their
// dependencies with these interfaces; adapters implement them (sqlstore.DB
// for effects in the SQL database; a DynamoDB implementation records the key
// with a conditional write in the same TransactWriteItems as the effect).

// Deduplicator makes a handler's effect happen once per event.
type Deduplicator interface {
	// ProcessOnce runs fn unless handler already processed eventID and
	// records (handler, eventID) atomically with fn's effect: fn must write
	// through the context it receives. A duplicate returns nil without
	// calling fn; a failing fn records nothing.
	ProcessOnce(ctx context.Context, handler, eventID string, fn func(ctx context.Context) error) error
}

// SequenceGuard lets a consumer that keeps an aggregate's current state
// ignore stale events: events carry the aggregate's state after the change
// (a snapshot), so the newest one wins and an older one arriving late
// changes nothing.
type SequenceGuard interface {
	// AdvanceSequence records seq for (handler, aggregateID) and returns
	// true when it is newer than any recorded before, false when the event
	// is stale or a duplicate. Call it inside ProcessOnce's fn.
	AdvanceSequence(ctx context.Context, handler, aggregateID string, seq int64) (bool, error)
}
