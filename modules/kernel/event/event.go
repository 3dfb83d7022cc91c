// Package event holds the envelope every domain event travels in. It is part
// of the shared kernel: standard library only, so any layer may import it.
package event

import (
	"time"
)

// Meta is what every event carries besides its own fields.
type Meta struct {
	// ID is a UUIDv7, unique per event; consumers use it for idempotency.
	ID string `json:"event_id"`
	// Type is the stable event name ("TaskCompleted"); it names topics and
	// must never follow a Go type or package rename.
	Type string `json:"event_type"`
	// SchemaVersion is the version of the event's JSON shape.
	SchemaVersion int       `json:"schema_version"`
	OccurredAt    time.Time `json:"occurred_at"`
	// ActorID is the user who caused the change ("" for the system).
	ActorID       string `json:"actor_id,omitempty"`
	AggregateType string `json:"aggregate_type"`
	AggregateID   string `json:"aggregate_id"`
	// Sequence is the per-aggregate sequence number, 1, 2, 3 … without gaps.
	Sequence int64 `json:"sequence"`
}

// Event is implemented by every event payload struct of every module's contracts.
// Name returns the same stable name as Meta.Type; watermill's cqrs package
// uses it (cqrs.NamedStruct) to route the event.
type Event interface {
	EventMeta() Meta
	Name() string
}

// EventMeta lets structs that embed Meta satisfy half of Event.
func (m Meta) EventMeta() Meta { return m }

// Change is one changed field, old → new. Values are JSON-friendly
// (strings, numbers, nil); a nil Old means the field was empty.
type Change struct {
	Field string `json:"field"`
	Old   any    `json:"old"`
	New   any    `json:"new"`
}

// Recorder collects events an aggregate records; aggregates embed it.
type Recorder struct {
	events []Event
}

// Record appends e.
func (r *Recorder) Record(e Event) { r.events = append(r.events, e) }

// PopEvents returns the recorded events and forgets them.
func (r *Recorder) PopEvents() []Event {
	ev := r.events
	r.events = nil
	return ev
}

// Len is the number of recorded events not yet popped.
func (r *Recorder) Len() int { return len(r.events) }
