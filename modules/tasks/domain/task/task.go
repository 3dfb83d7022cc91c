// Package task is the Task aggregate: its rules, its events and the
// repository it needs. It imports only the standard library, the shared
// kernel and this module's contracts (the published event schema).
package task

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/taskd/taskd/modules/kernel/actor"
	"github.com/taskd/taskd/modules/kernel/errs"
	"github.com/taskd/taskd/modules/kernel/event"
	"github.com/taskd/taskd/modules/tasks/contracts"
)

const (
	MaxNameLength     = 200
	MaxContentsLength = 20000
)

var (
	ErrNotFound         = errs.NotFound("task_not_found", "task not found")
	ErrNameRequired     = errs.Invalid("name_required", "Task_name", "task name is required")
	ErrNameTooLong      = errs.Invalid("name_too_long", "Task_name", "task name is at most 200 characters")
	ErrContentsTooLong  = errs.Invalid("contents_too_long", "Task_contents", "task contents are at most 20,000 characters")
	ErrInvalidUTF8      = errs.Invalid("invalid_text", "", "text must be valid UTF-8")
	ErrInvalidID        = errs.Invalid("invalid_task_id", "Task_id", "task id must be a UUID")
	ErrForbiddenUpdate  = errs.Forbidden("forbidden", "only the creator, the PIC, the supervisor or an admin may change this task")
	ErrForbiddenDelete  = errs.Forbidden("forbidden", "only the creator, the supervisor or an admin may delete this task")
	ErrBadTransition    = errs.Invalid("invalid_status_transition", "Task_status", "this status change is not allowed")
	ErrMissingCreator   = errs.Invalid("creator_required", "Creator", "a task needs a creator")
	ErrMissingTimestamp = errs.Invalid("time_required", "", "a time is required")
)

// Task is the aggregate root. Its state is unexported; it changes only
// through methods that check the rules and record events.
type Task struct {
	id           string
	name         string
	contents     string
	status       Status
	priority     Priority
	deadline     *time.Time
	picID        string
	supervisorID string
	creatorID    string
	createdAt    time.Time
	updatedAt    time.Time
	startedAt    *time.Time
	completedAt  *time.Time
	version      int64
	lastSequence int64

	newEventID func() string
	actorID    string // actor of the change being recorded
	event.Recorder
}

// NewTaskParams are the fields a task is created with. PICID and
// SupervisorID are user ids the caller has already checked exist.
type NewTaskParams struct {
	ID           string
	Name         string
	Contents     string
	Status       Status   // zero → waiting
	Priority     Priority // zero → medium
	Deadline     *time.Time
	PICID        string
	SupervisorID string
	CreatorID    string
}

// NewTask creates a task and records TaskCreated (and TaskCompleted when it
// is created done). newEventID makes event ids (UUIDv7 in production).
func NewTask(p NewTaskParams, now time.Time, newEventID func() string) (*Task, error) {
	if p.ID == "" {
		return nil, ErrInvalidID
	}
	if p.CreatorID == "" {
		return nil, ErrMissingCreator
	}
	if now.IsZero() {
		return nil, ErrMissingTimestamp
	}
	name, err := validName(p.Name)
	if err != nil {
		return nil, err
	}
	if err := validContents(p.Contents); err != nil {
		return nil, err
	}
	if p.Status.IsZero() {
		p.Status = StatusWaiting
	}
	if p.Priority.IsZero() {
		p.Priority = PriorityMedium
	}
	now = now.UTC()
	t := &Task{
		id:           p.ID,
		name:         name,
		contents:     p.Contents,
		status:       p.Status,
		priority:     p.Priority,
		deadline:     utcPtr(p.Deadline),
		picID:        p.PICID,
		supervisorID: p.SupervisorID,
		creatorID:    p.CreatorID,
		createdAt:    now,
		updatedAt:    now,
		version:      1,
		newEventID:   newEventID,
		actorID:      p.CreatorID,
	}
	if t.status != StatusWaiting {
		t.startedAt = &now
	}
	if t.status == StatusDone {
		t.completedAt = &now
	}
	changes := []event.Change{
		{Field: "name", New: t.name},
		{Field: "status", New: t.status.String()},
		{Field: "priority", New: t.priority.String()},
	}
	if t.contents != "" {
		changes = append(changes, event.Change{Field: "contents", New: t.contents})
	}
	if t.deadline != nil {
		changes = append(changes, event.Change{Field: "deadline", New: t.deadline.Format(time.RFC3339)})
	}
	if t.picID != "" {
		changes = append(changes, event.Change{Field: "pic_id", New: t.picID})
	}
	if t.supervisorID != "" {
		changes = append(changes, event.Change{Field: "supervisor_id", New: t.supervisorID})
	}
	t.record(contracts.NameTaskCreated, now, changes)
	if t.status == StatusDone {
		t.record(contracts.NameTaskCompleted, now, nil)
	}
	return t, nil
}

// UnmarshalTaskFromDatabase rebuilds a task from storage without running
// creation rules again.
func UnmarshalTaskFromDatabase(s Snapshot, newEventID func() string) (*Task, error) {
	status, err := StatusFromString(s.Status)
	if err != nil {
		return nil, err
	}
	priority, err := PriorityFromString(s.Priority)
	if err != nil {
		return nil, err
	}
	return &Task{
		id: s.ID, name: s.Name, contents: s.Contents, status: status, priority: priority,
		deadline: utcPtr(s.Deadline), picID: s.PICID, supervisorID: s.SupervisorID, creatorID: s.CreatorID,
		createdAt: s.CreatedAt.UTC(), updatedAt: s.UpdatedAt.UTC(), startedAt: utcPtr(s.StartedAt),
		completedAt: utcPtr(s.CompletedAt), version: s.Version, lastSequence: s.LastSequence,
		newEventID: newEventID,
	}, nil
}

// Snapshot is the task's full state, for repositories to store.
type Snapshot struct {
	ID, Name, Contents, Status, Priority string
	Deadline                             *time.Time
	PICID, SupervisorID, CreatorID       string
	CreatedAt, UpdatedAt                 time.Time
	StartedAt, CompletedAt               *time.Time
	Version                              int64
	// LastSequence is the sequence number of the last event recorded.
	LastSequence int64
}

// Snapshot returns the task's state for storage.
func (t *Task) Snapshot() Snapshot {
	return Snapshot{
		ID: t.id, Name: t.name, Contents: t.contents, Status: t.status.String(), Priority: t.priority.String(),
		Deadline: t.deadline, PICID: t.picID, SupervisorID: t.supervisorID, CreatorID: t.creatorID,
		CreatedAt: t.createdAt, UpdatedAt: t.updatedAt, StartedAt: t.startedAt, CompletedAt: t.completedAt,
		Version: t.version, LastSequence: t.lastSequence,
	}
}

func (t *Task) ID() string              { return t.id }
func (t *Task) Name() string            { return t.name }
func (t *Task) Contents() string        { return t.contents }
func (t *Task) Status() Status          { return t.status }
func (t *Task) Priority() Priority      { return t.priority }
func (t *Task) Deadline() *time.Time    { return t.deadline }
func (t *Task) PICID() string           { return t.picID }
func (t *Task) SupervisorID() string    { return t.supervisorID }
func (t *Task) CreatorID() string       { return t.creatorID }
func (t *Task) Version() int64          { return t.version }
func (t *Task) CompletedAt() *time.Time { return t.completedAt }
func (t *Task) StartedAt() *time.Time   { return t.startedAt }

// CanUpdate: the creator, the PIC, the supervisor and admins may change a task.
func (t *Task) CanUpdate(a actor.Actor) error {
	if a.IsAdmin() || (a.UserID != "" && (a.UserID == t.creatorID || a.UserID == t.picID || a.UserID == t.supervisorID)) {
		return nil
	}
	return ErrForbiddenUpdate
}

// CanDelete: the creator, the supervisor and admins may delete a task.
func (t *Task) CanDelete(a actor.Actor) error {
	if a.IsAdmin() || (a.UserID != "" && (a.UserID == t.creatorID || a.UserID == t.supervisorID)) {
		return nil
	}
	return ErrForbiddenDelete
}

// CheckVersion fails with errs.ErrVersionMismatch unless the task is at version v.
func (t *Task) CheckVersion(v int64) error {
	if t.version != v {
		return errs.ErrVersionMismatch
	}
	return nil
}

// Edit is a partial update: nil fields are left as they are.
type Edit struct {
	Name     *string
	Contents *string
	Priority *Priority
	// Deadline: set ClearDeadline to remove it, or Deadline to set it.
	Deadline      *time.Time
	ClearDeadline bool
}

// Update applies e for a, recording one TaskUpdated with every changed field.
func (t *Task) Update(a actor.Actor, e Edit, now time.Time) error {
	if err := t.CanUpdate(a); err != nil {
		return err
	}
	// Validate every field before changing any: a rejected edit leaves the
	// task as it was.
	var name string
	if e.Name != nil {
		var err error
		if name, err = validName(*e.Name); err != nil {
			return err
		}
	}
	if e.Contents != nil {
		if err := validContents(*e.Contents); err != nil {
			return err
		}
	}
	var changes []event.Change
	if e.Name != nil && name != t.name {
		changes = append(changes, event.Change{Field: "name", Old: t.name, New: name})
		t.name = name
	}
	if e.Contents != nil && *e.Contents != t.contents {
		changes = append(changes, event.Change{Field: "contents", Old: t.contents, New: *e.Contents})
		t.contents = *e.Contents
	}
	if e.Priority != nil && !e.Priority.IsZero() && *e.Priority != t.priority {
		changes = append(changes, event.Change{Field: "priority", Old: t.priority.String(), New: e.Priority.String()})
		t.priority = *e.Priority
	}
	switch {
	case e.ClearDeadline && t.deadline != nil:
		changes = append(changes, event.Change{Field: "deadline", Old: t.deadline.Format(time.RFC3339)})
		t.deadline = nil
	case e.Deadline != nil && (t.deadline == nil || !t.deadline.Equal(*e.Deadline)):
		d := e.Deadline.UTC()
		changes = append(changes, event.Change{Field: "deadline", Old: formatPtr(t.deadline), New: d.Format(time.RFC3339)})
		t.deadline = &d
	}
	if len(changes) == 0 {
		return nil
	}
	t.touch(a, now)
	t.record(contracts.NameTaskUpdated, now, changes)
	return nil
}

// ChangeStatus moves the task to status to. Moving to the current status
// changes nothing. Leaving done is a reopen and is recorded as such.
func (t *Task) ChangeStatus(a actor.Actor, to Status, now time.Time) error {
	if err := t.CanUpdate(a); err != nil {
		return err
	}
	if to.IsZero() {
		return ErrInvalidStatus
	}
	if to == t.status {
		return nil
	}
	if !t.status.canMoveTo(to) {
		return ErrBadTransition.WithMessage("a task cannot move from %s to %s", t.status, to)
	}
	from := t.status
	now = now.UTC()
	t.status = to
	if t.startedAt == nil && to != StatusWaiting {
		t.startedAt = &now
	}
	if to == StatusDone {
		t.completedAt = &now
	} else {
		t.completedAt = nil
	}
	t.touch(a, now)
	t.record(contracts.NameTaskStatusChanged, now, []event.Change{{Field: "status", Old: from.String(), New: to.String()}})
	switch {
	case to == StatusDone:
		t.record(contracts.NameTaskCompleted, now, nil)
	case from == StatusDone:
		t.record(contracts.NameTaskReopened, now, nil)
	}
	return nil
}

// Start, Complete and Reopen name the usual moves.
func (t *Task) Start(a actor.Actor, now time.Time) error {
	return t.ChangeStatus(a, StatusInProgress, now)
}

func (t *Task) Complete(a actor.Actor, now time.Time) error {
	return t.ChangeStatus(a, StatusDone, now)
}

func (t *Task) Reopen(a actor.Actor, now time.Time) error {
	if t.status != StatusDone {
		return ErrBadTransition.WithMessage("only a done task can be reopened")
	}
	return t.ChangeStatus(a, StatusInProgress, now)
}

// Assignment changes the PIC and/or the supervisor; nil leaves one as it is,
// a pointer to "" removes it. Ids must be of existing users (checked by the caller).
type Assignment struct {
	PICID        *string
	SupervisorID *string
}

// Assign applies as for a and records one TaskAssigned.
func (t *Task) Assign(a actor.Actor, as Assignment, now time.Time) error {
	if err := t.CanUpdate(a); err != nil {
		return err
	}
	return t.assign(a, as, now)
}

func (t *Task) assign(a actor.Actor, as Assignment, now time.Time) error {
	var changes []event.Change
	if as.PICID != nil && *as.PICID != t.picID {
		changes = append(changes, event.Change{Field: "pic_id", Old: emptyNil(t.picID), New: emptyNil(*as.PICID)})
		t.picID = *as.PICID
	}
	if as.SupervisorID != nil && *as.SupervisorID != t.supervisorID {
		changes = append(changes, event.Change{Field: "supervisor_id", Old: emptyNil(t.supervisorID), New: emptyNil(*as.SupervisorID)})
		t.supervisorID = *as.SupervisorID
	}
	if len(changes) == 0 {
		return nil
	}
	t.touch(a, now)
	t.record(contracts.NameTaskAssigned, now, changes)
	return nil
}

// ReleaseUser removes a deleted user from the task: it loses its PIC or its
// supervisor. The creator stays recorded. The deleted user is the actor.
func (t *Task) ReleaseUser(userID string, now time.Time) error {
	var as Assignment
	empty := ""
	if t.picID == userID {
		as.PICID = &empty
	}
	if t.supervisorID == userID {
		as.SupervisorID = &empty
	}
	return t.assign(actor.Actor{UserID: userID, Role: "member"}, as, now)
}

// Delete checks a may delete the task and records TaskDeleted; the
// repository removes it.
func (t *Task) Delete(a actor.Actor, now time.Time) error {
	if err := t.CanDelete(a); err != nil {
		return err
	}
	t.touch(a, now)
	t.record(contracts.NameTaskDeleted, now, nil)
	return nil
}

func (t *Task) touch(a actor.Actor, now time.Time) {
	t.actorID = a.UserID
	now = now.UTC()
	if now.After(t.updatedAt) {
		t.updatedAt = now
	}
}

// record appends an event of the given name carrying the task's state now.
// The version rises once per command (see BumpVersion); the sequence once per event.
func (t *Task) record(name string, now time.Time, changes []event.Change) {
	t.lastSequence++
	id := ""
	if t.newEventID != nil {
		id = t.newEventID()
	}
	base := contracts.TaskEvent{
		Meta: event.Meta{
			ID: id, Type: name, SchemaVersion: contracts.SchemaVersion, OccurredAt: now.UTC(),
			ActorID: t.actorID, AggregateType: contracts.AggregateType, AggregateID: t.id,
			Sequence: t.lastSequence,
		},
		Changes: changes,
	}
	t.Recorder.Record(eventOf(name, base))
}

// BumpVersion is called by the repository once per saved command that
// recorded events, before the events are read.
func (t *Task) BumpVersion() {
	t.version++
}

// PendingEvents returns the recorded events with the snapshot of the final
// state (after BumpVersion) filled in, and forgets them.
func (t *Task) PendingEvents() []event.Event {
	evs := t.PopEvents()
	snap := t.contractSnapshot()
	out := make([]event.Event, 0, len(evs))
	for _, e := range evs {
		out = append(out, withSnapshot(e, snap))
	}
	return out
}

// HasPendingEvents tells whether the command changed anything.
func (t *Task) HasPendingEvents() bool { return t.Recorder.Len() > 0 }

func (t *Task) contractSnapshot() contracts.Snapshot {
	return contracts.Snapshot{
		ID: t.id, Name: t.name, Status: t.status.String(), Priority: t.priority.String(),
		Deadline: t.deadline, PICID: t.picID, SupervisorID: t.supervisorID, CreatorID: t.creatorID,
		CreatedAt: t.createdAt, UpdatedAt: t.updatedAt, StartedAt: t.startedAt, CompletedAt: t.completedAt,
		Version: t.version,
	}
}

func eventOf(name string, base contracts.TaskEvent) event.Event {
	switch name {
	case contracts.NameTaskCreated:
		return contracts.TaskCreated{TaskEvent: base}
	case contracts.NameTaskUpdated:
		return contracts.TaskUpdated{TaskEvent: base}
	case contracts.NameTaskStatusChanged:
		return contracts.TaskStatusChanged{TaskEvent: base}
	case contracts.NameTaskAssigned:
		return contracts.TaskAssigned{TaskEvent: base}
	case contracts.NameTaskCompleted:
		return contracts.TaskCompleted{TaskEvent: base}
	case contracts.NameTaskReopened:
		return contracts.TaskReopened{TaskEvent: base}
	default:
		return contracts.TaskDeleted{TaskEvent: base}
	}
}

func withSnapshot(e event.Event, s contracts.Snapshot) event.Event {
	switch v := e.(type) {
	case contracts.TaskCreated:
		v.Task = s
		return v
	case contracts.TaskUpdated:
		v.Task = s
		return v
	case contracts.TaskStatusChanged:
		v.Task = s
		return v
	case contracts.TaskAssigned:
		v.Task = s
		return v
	case contracts.TaskCompleted:
		v.Task = s
		return v
	case contracts.TaskReopened:
		v.Task = s
		return v
	case contracts.TaskDeleted:
		v.Task = s
		return v
	}
	return e
}

func validName(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", ErrInvalidUTF8.WithField("Task_name")
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return "", ErrNameRequired
	}
	if utf8.RuneCountInString(s) > MaxNameLength {
		return "", ErrNameTooLong
	}
	return s, nil
}

func validContents(s string) error {
	if !utf8.ValidString(s) {
		return ErrInvalidUTF8.WithField("Task_contents")
	}
	if utf8.RuneCountInString(s) > MaxContentsLength {
		return ErrContentsTooLong
	}
	return nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func formatPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.Format(time.RFC3339)
}

func emptyNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}
