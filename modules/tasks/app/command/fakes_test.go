package command_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskd/taskd/modules/kernel/actor"
	"github.com/taskd/taskd/modules/kernel/decorator"
	"github.com/taskd/taskd/modules/kernel/event"
	"github.com/taskd/taskd/modules/tasks/app/command"
	"github.com/taskd/taskd/modules/tasks/domain/task"
)

// fakeTaskRepo is a task.Repository keeping snapshots, as a real store
// keeps rows: fn works on a fresh aggregate, and an error from fn drops it,
// which is the rollback.
type fakeTaskRepo struct {
	mu     sync.Mutex
	rows   map[string]task.Snapshot
	events []event.Event
	calls  []string
	newID  func() string
}

func newFakeTaskRepo() *fakeTaskRepo {
	return &fakeTaskRepo{rows: map[string]task.Snapshot{}, newID: eventIDs()}
}

var _ task.Repository = (*fakeTaskRepo)(nil)

func (r *fakeTaskRepo) Add(_ context.Context, t *task.Task) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, "Add")
	if _, ok := r.rows[t.ID()]; ok {
		return errors.New("fake: duplicate id")
	}
	r.events = append(r.events, t.PendingEvents()...)
	r.rows[t.ID()] = t.Snapshot()
	return nil
}

func (r *fakeTaskRepo) Update(ctx context.Context, id string, fn func(context.Context, *task.Task) error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, "Update")
	return r.apply(ctx, id, fn, false)
}

func (r *fakeTaskRepo) Delete(ctx context.Context, id string, fn func(context.Context, *task.Task) error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, "Delete")
	return r.apply(ctx, id, fn, true)
}

func (r *fakeTaskRepo) UpdateInvolving(ctx context.Context, userID string, fn func(context.Context, *task.Task) error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, "UpdateInvolving")
	ids := make([]string, 0, len(r.rows))
	for id, s := range r.rows {
		if s.PICID == userID || s.SupervisorID == userID {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		if err := r.apply(ctx, id, fn, false); err != nil {
			return err
		}
	}
	return nil
}

func (r *fakeTaskRepo) apply(ctx context.Context, id string, fn func(context.Context, *task.Task) error, remove bool) error {
	s, ok := r.rows[id]
	if !ok {
		return task.ErrNotFound
	}
	t, err := task.UnmarshalTaskFromDatabase(s, r.newID)
	if err != nil {
		return err
	}
	if err := fn(ctx, t); err != nil {
		return err
	}
	if !t.HasPendingEvents() {
		if remove {
			return errors.New("fake: Delete's fn recorded nothing")
		}
		return nil
	}
	t.BumpVersion()
	r.events = append(r.events, t.PendingEvents()...)
	if remove {
		delete(r.rows, id)
	} else {
		r.rows[id] = t.Snapshot()
	}
	return nil
}

// put stores t as it would be after Add, dropping its creation events.
func (r *fakeTaskRepo) put(t *testing.T, p task.NewTaskParams) {
	t.Helper()
	tk, err := task.NewTask(p, t0, r.newID)
	if err != nil {
		t.Fatal(err)
	}
	tk.PopEvents()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rows[p.ID] = tk.Snapshot()
}

func (r *fakeTaskRepo) row(t *testing.T, id string) task.Snapshot {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.rows[id]
	if !ok {
		t.Fatalf("no task %s stored", id)
	}
	return s
}

func (r *fakeTaskRepo) eventNames() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := []string{}
	for _, e := range r.events {
		out = append(out, e.Name())
	}
	return out
}

func (r *fakeTaskRepo) callLog() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// fakeDirectory is a command.UserDirectory over a fixed map of refs.
type fakeDirectory struct {
	mu    sync.Mutex
	ids   map[string]string // ref (e-mail or id) → user id
	err   error             // when set, returned for every ref
	calls []string
}

var _ command.UserDirectory = (*fakeDirectory)(nil)

func newFakeDirectory() *fakeDirectory {
	return &fakeDirectory{ids: map[string]string{
		"pic@example.com":        picID,
		picID:                    picID,
		"supervisor@example.com": supervisorID,
		supervisorID:             supervisorID,
		"new@example.com":        "u-new",
	}}
}

func (d *fakeDirectory) ResolveUser(_ context.Context, ref string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, ref)
	if d.err != nil {
		return "", d.err
	}
	id, ok := d.ids[ref]
	if !ok {
		return "", command.ErrUnknownUser
	}
	return id, nil
}

const (
	taskID       = "0190a6c4-0000-7000-8000-000000000001"
	creatorID    = "u-creator"
	picID        = "u-pic"
	supervisorID = "u-supervisor"
)

var (
	t0  = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	now = t0.Add(24 * time.Hour)

	creator    = actor.Actor{UserID: creatorID, Role: "member"}
	pic        = actor.Actor{UserID: picID, Role: "member"}
	supervisor = actor.Actor{UserID: supervisorID, Role: "member"}
	admin      = actor.Actor{UserID: "u-admin", Role: "admin"}
	stranger   = actor.Actor{UserID: "u-stranger", Role: "manager"}

	discard = slog.New(slog.DiscardHandler)
	nop     = decorator.NopMetrics{}
)

func clock() time.Time { return now }

func eventIDs() func() string {
	var n atomic.Int64
	return func() string { return fmt.Sprintf("ev-%d", n.Add(1)) }
}

func storedParams() task.NewTaskParams {
	return task.NewTaskParams{ID: taskID, Name: "Stored", CreatorID: creatorID, PICID: picID, SupervisorID: supervisorID}
}

func ptr[T any](v T) *T { return &v }
