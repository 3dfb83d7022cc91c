package notification

import (
	"errors"
	"slices"
	"time"

	"github.com/taskd/taskd/modules/kernel/event"
)

// Task is the part of a task notifications use: the state after the change
// (every task event carries it, docs/decisions.md D3).
type Task struct {
	ID           string
	Name         string
	Status       string
	Priority     string
	Deadline     *time.Time
	PICID        string
	SupervisorID string
	CreatorID    string
}

// TaskEvent is one task event as the rules see it.
type TaskEvent struct {
	ID         string
	Name       string // the stable event name, e.g. "TaskAssigned"
	ActorID    string // "" for the system
	OccurredAt time.Time
	Sequence   int64
	Task       Task
	Changes    []event.Change
}

// Event names, as the tasks module publishes them (modules/tasks/contracts).
const (
	EventTaskCreated       = "TaskCreated"
	EventTaskUpdated       = "TaskUpdated"
	EventTaskStatusChanged = "TaskStatusChanged"
	EventTaskAssigned      = "TaskAssigned"
	EventTaskCompleted     = "TaskCompleted"
	EventTaskReopened      = "TaskReopened"
	EventTaskDeleted       = "TaskDeleted"
)

// ErrMalformedEvent is returned for an event no retry can make sense of.
var ErrMalformedEvent = errors.New("malformed task event")

// Validate checks what Plan relies on.
func (e TaskEvent) Validate() error {
	if e.ID == "" || e.Task.ID == "" || e.Name == "" {
		return ErrMalformedEvent
	}
	return nil
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

// Intent is one person to tell about one event, and why. A person is told
// once per event whatever their roles (an old PIC who becomes supervisor
// gets one message naming both).
type Intent struct {
	UserID string
	Kind   Kind
	Roles  []Role
}

// Has tells whether the intent names role.
func (i Intent) Has(role Role) bool { return slices.Contains(i.Roles, role) }

// Plan decides who is told about e (docs/notifications.md, "Who is told
// what"):
//
//	TaskCreated                     → PIC, supervisor
//	TaskAssigned                    → new and old PIC / supervisor (the ones that changed)
//	TaskStatusChanged               → creator, PIC, supervisor
//	TaskCompleted, TaskReopened     → nobody more: the TaskStatusChanged (or TaskCreated)
//	                                  recorded with them by the same command already tells
//	                                  the same people, with old → new
//	TaskUpdated (deadline/priority) → PIC
//	TaskDeleted                     → PIC, supervisor
//
// Never the actor of the change. Whether a recipient still exists (deleted
// users are skipped) and which channels they want is decided later.
func Plan(e TaskEvent) []Intent {
	var p planner
	t := e.Task
	switch e.Name {
	case EventTaskCreated:
		p.add(t.PICID, KindTaskAssigned, RolePIC)
		p.add(t.SupervisorID, KindTaskAssigned, RoleSupervisor)
	case EventTaskAssigned:
		if c, ok := e.Change("pic_id"); ok {
			p.add(idOf(c.New), KindTaskAssigned, RolePIC)
			p.add(idOf(c.Old), KindTaskAssigned, RoleOldPIC)
		}
		if c, ok := e.Change("supervisor_id"); ok {
			p.add(idOf(c.New), KindTaskAssigned, RoleSupervisor)
			p.add(idOf(c.Old), KindTaskAssigned, RoleOldSupervisor)
		}
	case EventTaskStatusChanged:
		p.add(t.CreatorID, KindStatusChanged, RoleCreator)
		p.add(t.PICID, KindStatusChanged, RolePIC)
		p.add(t.SupervisorID, KindStatusChanged, RoleSupervisor)
	case EventTaskUpdated:
		_, deadline := e.Change("deadline")
		_, priority := e.Change("priority")
		if deadline || priority {
			p.add(t.PICID, KindTaskUpdated, RolePIC)
		}
	case EventTaskDeleted:
		p.add(t.PICID, KindTaskDeleted, RolePIC)
		p.add(t.SupervisorID, KindTaskDeleted, RoleSupervisor)
	}
	return p.without(e.ActorID)
}

type planner struct{ intents []Intent }

func (p *planner) add(userID string, k Kind, r Role) {
	if userID == "" {
		return
	}
	for i := range p.intents {
		if p.intents[i].UserID == userID {
			if !p.intents[i].Has(r) {
				p.intents[i].Roles = append(p.intents[i].Roles, r)
			}
			return
		}
	}
	p.intents = append(p.intents, Intent{UserID: userID, Kind: k, Roles: []Role{r}})
}

// without drops the actor: nobody hears about their own change.
func (p *planner) without(actorID string) []Intent {
	out := p.intents[:0:0]
	for _, in := range p.intents {
		if actorID == "" || in.UserID != actorID {
			out = append(out, in)
		}
	}
	return out
}

// idOf reads a user id out of a change value (a string, or nil for none).
func idOf(v any) string {
	s, _ := v.(string)
	return s
}

// Recipients returns the user ids of intents.
func Recipients(intents []Intent) []string {
	out := make([]string, 0, len(intents))
	for _, in := range intents {
		out = append(out, in.UserID)
	}
	return out
}

// People returns every user id a message about e may name: the actor, the
// task's people and the old and new PIC and supervisor.
func (e TaskEvent) People() []string {
	ids := []string{e.ActorID, e.Task.PICID, e.Task.SupervisorID, e.Task.CreatorID}
	for _, f := range []string{"pic_id", "supervisor_id"} {
		if c, ok := e.Change(f); ok {
			ids = append(ids, idOf(c.Old), idOf(c.New))
		}
	}
	out := ids[:0]
	for _, id := range ids {
		if id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}
