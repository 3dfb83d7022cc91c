// Package contracts is what the tasks module publishes to other modules:
// event types (versioned JSON, stable names) and DTOs. It imports only the
// shared kernel, so reading it never pulls in the tasks domain.
package contracts

import (
	"time"

	"github.com/taskd/taskd/modules/kernel/event"
)

// AggregateType names task aggregates in event metadata.
const AggregateType = "task"

// SchemaVersion is the version of the task events' JSON shape.
const SchemaVersion = 1

// Stable event names. They name topics and queues: never derive them from Go
// identifiers.
const (
	NameTaskCreated       = "TaskCreated"
	NameTaskUpdated       = "TaskUpdated"
	NameTaskStatusChanged = "TaskStatusChanged"
	NameTaskAssigned      = "TaskAssigned"
	NameTaskCompleted     = "TaskCompleted"
	NameTaskReopened      = "TaskReopened"
	NameTaskDeleted       = "TaskDeleted"
)

// AllEventNames lists every task event name.
var AllEventNames = []string{
	NameTaskCreated, NameTaskUpdated, NameTaskStatusChanged, NameTaskAssigned,
	NameTaskCompleted, NameTaskReopened, NameTaskDeleted,
}

// Snapshot is the task's state right after the change, so consumers
// (reports, notifications) need no query back into this module. Contents are
// left out (up to 20,000 characters); they appear in Changes when changed.
type Snapshot struct {
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

// TaskEvent is the shape shared by every task event.
type TaskEvent struct {
	event.Meta
	Task    Snapshot       `json:"task"`
	Changes []event.Change `json:"changes,omitempty"`
}

// Change returns the change of field, if the event carries one.
func (e TaskEvent) Change(field string) (event.Change, bool) {
	for _, c := range e.Changes {
		if c.Field == field {
			return c, true
		}
	}
	return event.Change{}, false
}

// TaskCreated: a task was created. Changes list every initial field (old nil).
type TaskCreated struct{ TaskEvent }

// TaskUpdated: name, contents, priority or deadline changed.
type TaskUpdated struct{ TaskEvent }

// TaskStatusChanged: status changed; Changes holds "status" old → new.
type TaskStatusChanged struct{ TaskEvent }

// TaskAssigned: PIC and/or supervisor changed ("pic_id", "supervisor_id").
type TaskAssigned struct{ TaskEvent }

// TaskCompleted: the task moved to done (recorded after TaskStatusChanged).
type TaskCompleted struct{ TaskEvent }

// TaskReopened: the task left done (recorded after TaskStatusChanged).
type TaskReopened struct{ TaskEvent }

// TaskDeleted: the task was deleted; Task is its last state.
type TaskDeleted struct{ TaskEvent }

func (TaskCreated) Name() string       { return NameTaskCreated }
func (TaskUpdated) Name() string       { return NameTaskUpdated }
func (TaskStatusChanged) Name() string { return NameTaskStatusChanged }
func (TaskAssigned) Name() string      { return NameTaskAssigned }
func (TaskCompleted) Name() string     { return NameTaskCompleted }
func (TaskReopened) Name() string      { return NameTaskReopened }
func (TaskDeleted) Name() string       { return NameTaskDeleted }
