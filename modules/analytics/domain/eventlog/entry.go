// Package eventlog is the analytics module's event log: every domain event
// of every module, stored once per event id, replayable in each aggregate's
// sequence order and readable by actor and by time. The read models of the
// reports are projections of it (package report) and can be rebuilt from it.
//
// An Entry decodes the published JSON of the other modules' events (their
// contracts are JSON documents, the published language); the log keeps the
// JSON as published, so a future projection can read fields this one ignores.
package eventlog

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/taskd/taskd/modules/kernel/errs"
)

// Aggregate types the analytics module knows (the aggregate_type of the
// events of the tasks and identity modules).
const (
	AggregateTask = "task"
	AggregateUser = "user"
)

// Task event names (the tasks module's stable names).
const (
	TaskCreated       = "TaskCreated"
	TaskUpdated       = "TaskUpdated"
	TaskStatusChanged = "TaskStatusChanged"
	TaskAssigned      = "TaskAssigned"
	TaskCompleted     = "TaskCompleted"
	TaskReopened      = "TaskReopened"
	TaskDeleted       = "TaskDeleted"
)

// Errors of the log. ErrMalformedEvent and ErrSequenceConflict are
// permanent: no redelivery can fix them.
var (
	ErrMalformedEvent   = errs.Invalid("malformed_event", "", "the event cannot be read")
	ErrSequenceConflict = errs.Conflict("sequence_conflict", "another event already holds this aggregate's sequence number")
)

// Change is one changed field, old → new, as the event carries it.
type Change struct {
	Field string `json:"field"`
	Old   any    `json:"old"`
	New   any    `json:"new"`
}

// TaskSnapshot is a task's state right after the change (the tasks module
// publishes it with every event; contents are left out).
type TaskSnapshot struct {
	ID           string     `json:"id"`
	Name         string     `json:"name"`
	Status       string     `json:"status"`
	Priority     string     `json:"priority"`
	Deadline     *time.Time `json:"deadline,omitempty"`
	PICID        string     `json:"pic_id,omitempty"`
	SupervisorID string     `json:"supervisor_id,omitempty"`
	CreatorID    string     `json:"creator_id"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	StartedAt    *time.Time `json:"started_at,omitempty"`
	CompletedAt  *time.Time `json:"completed_at,omitempty"`
	Version      int64      `json:"version"`
}

// UserSnapshot is the public view of a user that identity events carry.
type UserSnapshot struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
	Role  string `json:"role"`
}

// Entry is one event of the log.
type Entry struct {
	EventID       string    `json:"event_id"`
	Type          string    `json:"event_type"`
	SchemaVersion int       `json:"schema_version"`
	OccurredAt    time.Time `json:"occurred_at"`
	ActorID       string    `json:"actor_id,omitempty"`
	AggregateType string    `json:"aggregate_type"`
	AggregateID   string    `json:"aggregate_id"`
	Sequence      int64     `json:"sequence"`

	Task    *TaskSnapshot `json:"task,omitempty"`
	User    *UserSnapshot `json:"user,omitempty"`
	Changes []Change      `json:"changes,omitempty"`

	// Payload is the event's JSON as published; the log stores it.
	Payload json.RawMessage `json:"-"`
}

// IsTask tells whether the entry is an event of a task.
func (e Entry) IsTask() bool { return e.AggregateType == AggregateTask }

// Change returns the change of field, if the entry carries one.
func (e Entry) Change(field string) (Change, bool) {
	for _, c := range e.Changes {
		if c.Field == field {
			return c, true
		}
	}
	return Change{}, false
}

// ParseEntry reads an event's published JSON. It fails with
// ErrMalformedEvent when a field every event needs is missing, or a task
// event has no snapshot of its task.
func ParseEntry(payload []byte) (Entry, error) {
	var e Entry
	if err := json.Unmarshal(payload, &e); err != nil {
		return Entry{}, ErrMalformedEvent.WithMessage("event JSON: %v", err)
	}
	e.Payload = append(json.RawMessage(nil), payload...)
	e.OccurredAt = e.OccurredAt.UTC().Truncate(time.Microsecond)
	if err := e.validate(); err != nil {
		return Entry{}, err
	}
	return e, nil
}

// MaxIDLength bounds ids and names stored as keys.
const MaxIDLength = 64

func (e Entry) validate() error {
	bad := func(format string, args ...any) error {
		return ErrMalformedEvent.WithMessage("event %q: %s", e.EventID, fmt.Sprintf(format, args...))
	}
	for _, f := range []struct{ name, v string }{
		{"event_id", e.EventID}, {"event_type", e.Type}, {"aggregate_type", e.AggregateType}, {"aggregate_id", e.AggregateID},
	} {
		if f.v == "" || len(f.v) > MaxIDLength || strings.ContainsAny(f.v, "#\x00") {
			return bad("%s must be 1–%d characters without '#'", f.name, MaxIDLength)
		}
	}
	if len(e.ActorID) > MaxIDLength || strings.ContainsAny(e.ActorID, "#\x00") {
		return bad("actor_id is not an id")
	}
	if e.Sequence < 1 {
		return bad("sequence %d: must be at least 1", e.Sequence)
	}
	if e.OccurredAt.IsZero() || e.OccurredAt.Year() < 1970 || e.OccurredAt.Year() > 9999 {
		return bad("occurred_at is missing or out of range")
	}
	if e.IsTask() {
		if e.Task == nil || e.Task.ID != e.AggregateID {
			return bad("a task event needs the snapshot of its task")
		}
	}
	return nil
}
