package memory

import (
	"context"
	"fmt"
	"slices"

	"github.com/taskd/taskd/adapters/internal/tasklist"
	"github.com/taskd/taskd/modules/kernel/errs"
	"github.com/taskd/taskd/modules/kernel/event"
	"github.com/taskd/taskd/modules/tasks/app/query"
	"github.com/taskd/taskd/modules/tasks/domain/task"
)

// ErrTaskExists is returned by Add for an id already stored (as sqlstore's).
var ErrTaskExists = errs.Conflict("task_exists", "a task with this id already exists")

// TaskRepository is the in-memory task.Repository.
type TaskRepository struct {
	s          *Store
	newEventID func() string
}

var _ task.Repository = (*TaskRepository)(nil)

func NewTaskRepository(s *Store, newEventID func() string) *TaskRepository {
	return &TaskRepository{s: s, newEventID: newEventID}
}

func normTask(s task.Snapshot) task.Snapshot {
	s.Deadline, s.StartedAt, s.CompletedAt = usPtr(s.Deadline), usPtr(s.StartedAt), usPtr(s.CompletedAt)
	s.CreatedAt, s.UpdatedAt = us(s.CreatedAt), us(s.UpdatedAt)
	return s
}

func (r *TaskRepository) Add(ctx context.Context, t *task.Task) error {
	snap := normTask(t.Snapshot())
	if _, err := task.PriorityFromString(snap.Priority); err != nil {
		return err
	}
	evs := t.PendingEvents()
	return r.s.WithinTransaction(ctx, func(ctx context.Context) error {
		d := r.s.d
		if _, ok := d.tasks[snap.ID]; ok {
			return ErrTaskExists
		}
		d.tasks[snap.ID] = snap
		return d.appendEvents(evs)
	})
}

func (r *TaskRepository) load(d *data, id string) (*task.Task, error) {
	snap, ok := d.tasks[id]
	if !ok {
		return nil, task.ErrNotFound
	}
	return task.UnmarshalTaskFromDatabase(snap, r.newEventID)
}

func (r *TaskRepository) Update(ctx context.Context, id string, fn func(ctx context.Context, t *task.Task) error) error {
	return r.s.WithinTransaction(ctx, func(ctx context.Context) error {
		d := r.s.d
		t, err := r.load(d, id)
		if err != nil {
			return err
		}
		if err := fn(ctx, t); err != nil {
			return err
		}
		if !t.HasPendingEvents() {
			return nil
		}
		return d.appendEvents(r.save(d, t))
	})
}

func (r *TaskRepository) save(d *data, t *task.Task) []event.Event {
	t.BumpVersion()
	evs := t.PendingEvents()
	d.tasks[t.ID()] = normTask(t.Snapshot())
	return evs
}

func (r *TaskRepository) Delete(ctx context.Context, id string, fn func(ctx context.Context, t *task.Task) error) error {
	return r.s.WithinTransaction(ctx, func(ctx context.Context) error {
		d := r.s.d
		t, err := r.load(d, id)
		if err != nil {
			return err
		}
		if err := fn(ctx, t); err != nil {
			return err
		}
		if !t.HasPendingEvents() {
			return fmt.Errorf("deleting task %s: the delete function recorded no event", id)
		}
		t.BumpVersion()
		evs := t.PendingEvents()
		delete(d.tasks, id)
		return d.appendEvents(evs)
	})
}

func (r *TaskRepository) UpdateInvolving(ctx context.Context, userID string, fn func(ctx context.Context, t *task.Task) error) error {
	if userID == "" {
		return nil
	}
	return r.s.WithinTransaction(ctx, func(ctx context.Context) error {
		d := r.s.d
		var ids []string
		for id, s := range d.tasks {
			if s.PICID == userID || s.SupervisorID == userID {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		var all []event.Event
		for _, id := range ids {
			t, err := r.load(d, id)
			if err != nil {
				return err
			}
			if err := fn(ctx, t); err != nil {
				return err
			}
			if t.HasPendingEvents() {
				all = append(all, r.save(d, t)...)
			}
		}
		return d.appendEvents(all)
	})
}

// TasksReadModel is the in-memory task read model.
type TasksReadModel struct {
	s *Store
}

var (
	_ query.TaskReadModel  = (*TasksReadModel)(nil)
	_ query.TasksReadModel = (*TasksReadModel)(nil)
)

func NewTasksReadModel(s *Store) *TasksReadModel { return &TasksReadModel{s: s} }

func (m *TasksReadModel) TaskByID(ctx context.Context, id string) (query.Task, error) {
	var (
		snap task.Snapshot
		ok   bool
	)
	m.s.read(ctx, func(d *data) { snap, ok = d.tasks[id] })
	if !ok {
		return query.Task{}, task.ErrNotFound
	}
	return dto(snap), nil
}

func (m *TasksReadModel) FindTasks(ctx context.Context, f query.Filter) (query.Page, error) {
	c, err := tasklist.Parse(f)
	if err != nil {
		return query.Page{}, err
	}
	var matched []task.Snapshot
	m.s.read(ctx, func(d *data) {
		for _, s := range d.tasks {
			if matches(c, s) {
				matched = append(matched, s)
			}
		}
	})
	slices.SortFunc(matched, func(a, b task.Snapshot) int { return tasklist.Compare(c.Sort, keys(a), keys(b)) })
	page := query.Page{Tasks: []query.Task{}}
	for i, s := range matched {
		if i == c.Limit {
			page.NextCursor = tasklist.EncodeCursor(c.Sort, keys(matched[i-1]))
			break
		}
		page.Tasks = append(page.Tasks, dto(s))
	}
	return page, nil
}

func matches(c tasklist.Criteria, s task.Snapshot) bool {
	k := keys(s)
	switch {
	case c.Status != "" && s.Status != c.Status,
		c.HasPriority && k.PriorityRank != c.PriorityRank,
		c.PICID != "" && s.PICID != c.PICID,
		c.SupervisorID != "" && s.SupervisorID != c.SupervisorID,
		c.CreatorID != "" && s.CreatorID != c.CreatorID,
		c.DueBefore != nil && !(k.DeadlineKey < *c.DueBefore),
		c.DueAfter != nil && (s.Deadline == nil || k.DeadlineKey < *c.DueAfter),
		c.NameContains != "" && !containsFolded(s.Name, c.NameContains),
		c.After != nil && tasklist.Compare(c.Sort, k, *c.After) <= 0:
		return false
	}
	return true
}

func keys(s task.Snapshot) tasklist.Keys {
	p, _ := task.PriorityFromString(s.Priority)
	return tasklist.Keys{
		PriorityRank: int64(p.Rank()), DeadlineKey: tasklist.DeadlineKey(s.Deadline),
		CreatedAt: s.CreatedAt.UnixMicro(), UpdatedAt: s.UpdatedAt.UnixMicro(), ID: s.ID,
	}
}

func dto(s task.Snapshot) query.Task {
	return query.Task{
		ID: s.ID, Name: s.Name, Contents: s.Contents, Status: s.Status, Priority: s.Priority, Deadline: s.Deadline,
		PICID: s.PICID, SupervisorID: s.SupervisorID, CreatorID: s.CreatorID, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
		StartedAt: s.StartedAt, CompletedAt: s.CompletedAt, Version: s.Version,
	}
}
