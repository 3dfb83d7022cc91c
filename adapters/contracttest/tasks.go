package contracttest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/taskd/taskd/modules/kernel/errs"
	"github.com/taskd/taskd/modules/tasks/app/query"
	"github.com/taskd/taskd/modules/tasks/contracts"
	"github.com/taskd/taskd/modules/tasks/domain/task"
)

const (
	created       = contracts.NameTaskCreated
	updated       = contracts.NameTaskUpdated
	statusChanged = contracts.NameTaskStatusChanged
	assigned      = contracts.NameTaskAssigned
	completed     = contracts.NameTaskCompleted
	deleted       = contracts.NameTaskDeleted
)

// wantTask checks the stored task against the aggregate's snapshot.
func wantTask(t testing.TB, env Env, want task.Snapshot) query.Task {
	t.Helper()
	got, err := env.TaskQueries.TaskByID(ctxOf(t), want.ID)
	must(t, err)
	equal(t, "id", got.ID, want.ID)
	equal(t, "name", got.Name, want.Name)
	if got.Contents != want.Contents {
		t.Fatalf("contents differ: got %d bytes, want %d", len(got.Contents), len(want.Contents))
	}
	equal(t, "status", got.Status, want.Status)
	equal(t, "priority", got.Priority, want.Priority)
	equal(t, "pic", got.PICID, want.PICID)
	equal(t, "supervisor", got.SupervisorID, want.SupervisorID)
	equal(t, "creator", got.CreatorID, want.CreatorID)
	equal(t, "version", got.Version, want.Version)
	sameTime(t, "deadline", got.Deadline, want.Deadline)
	sameTime(t, "created_at", &got.CreatedAt, &want.CreatedAt)
	sameTime(t, "updated_at", &got.UpdatedAt, &want.UpdatedAt)
	sameTime(t, "started_at", got.StartedAt, want.StartedAt)
	sameTime(t, "completed_at", got.CompletedAt, want.CompletedAt)
	return got
}

func rename(name string, now time.Time) func(ctx context.Context, tk *task.Task) error {
	return func(_ context.Context, tk *task.Task) error {
		return tk.Update(member(tk.CreatorID()), task.Edit{Name: &name}, now)
	}
}

// TaskRepository is the contract of task.Repository (with the task read
// model to look at what it stored).
func TaskRepository(t *testing.T, newEnv func(testing.TB) Env) {
	env := newEnv(t)

	t.Run("add stores the row and its events", func(t *testing.T) {
		t.Parallel()
		deadline := at(72 * time.Hour)
		tk := addTask(t, env, task.NewTaskParams{
			Name: "보고서 작성 ✍️", Contents: "내용 — with emoji 😀 and 4-byte 𝄞", Status: task.StatusInProgress,
			Priority: task.PriorityHigh, Deadline: &deadline, PICID: newID(), SupervisorID: newID(),
		}, at(time.Second+123*time.Microsecond))
		got := wantTask(t, env, tk.Snapshot())
		equal(t, "version", got.Version, int64(1))
		evs := wantEvents(t, env, tk.ID(), created)
		p := decode(t, evs[0])
		equal(t, "event actor", p.ActorID, tk.CreatorID())
		equal(t, "event snapshot version", p.Task.Version, int64(1))

		done := addTask(t, env, task.NewTaskParams{Status: task.StatusDone}, at(time.Second))
		wantTask(t, env, done.Snapshot())
		wantEvents(t, env, done.ID(), created, completed)
	})

	t.Run("add keeps long texts whole", func(t *testing.T) {
		t.Parallel()
		tk := addTask(t, env, task.NewTaskParams{
			Name:     strings.Repeat("가", task.MaxNameLength),
			Contents: strings.Repeat("😀", task.MaxContentsLength), // 80,000 bytes
		}, at(0))
		wantTask(t, env, tk.Snapshot())
	})

	t.Run("add refuses an existing id and writes nothing", func(t *testing.T) {
		t.Parallel()
		tk := addTask(t, env, task.NewTaskParams{Name: "first"}, at(0))
		again, err := task.NewTask(task.NewTaskParams{ID: tk.ID(), Name: "second", CreatorID: newID()}, at(time.Hour), NewEventID)
		must(t, err)
		wantCode(t, env.Tasks.Add(ctxOf(t), again), "task_exists")
		equal(t, "name", wantTask(t, env, tk.Snapshot()).Name, "first")
		wantEvents(t, env, tk.ID(), created)
	})

	t.Run("update and delete of a missing task are not found", func(t *testing.T) {
		t.Parallel()
		called := false
		fn := func(context.Context, *task.Task) error { called = true; return nil }
		wantErr(t, env.Tasks.Update(ctxOf(t), newID(), fn), task.ErrNotFound)
		wantErr(t, env.Tasks.Delete(ctxOf(t), newID(), fn), task.ErrNotFound)
		_, err := env.TaskQueries.TaskByID(ctxOf(t), newID())
		wantErr(t, err, task.ErrNotFound)
		if called {
			t.Fatal("fn was called for a missing task")
		}
	})

	t.Run("update saves the row, bumps the version and appends the events", func(t *testing.T) {
		t.Parallel()
		tk := addTask(t, env, task.NewTaskParams{Name: "before"}, at(0))
		var after task.Snapshot
		must(t, env.Tasks.Update(ctxOf(t), tk.ID(), func(_ context.Context, tk *task.Task) error {
			if err := rename("after", at(time.Minute))(context.Background(), tk); err != nil {
				return err
			}
			if err := tk.Start(member(tk.CreatorID()), at(time.Minute)); err != nil {
				return err
			}
			after = tk.Snapshot()
			return nil
		}))
		after.Version = 2
		got := wantTask(t, env, after)
		equal(t, "status", got.Status, "in_progress")
		evs := wantEvents(t, env, tk.ID(), created, updated, statusChanged)
		for _, e := range evs[1:] {
			p := decode(t, e)
			equal(t, "snapshot version of "+e.Name, p.Task.Version, int64(2))
			equal(t, "snapshot name of "+e.Name, p.Task.Name, "after")
		}
	})

	t.Run("update that changes nothing writes nothing", func(t *testing.T) {
		t.Parallel()
		tk := addTask(t, env, task.NewTaskParams{Name: "same"}, at(0))
		must(t, env.Tasks.Update(ctxOf(t), tk.ID(), func(context.Context, *task.Task) error { return nil }))
		must(t, env.Tasks.Update(ctxOf(t), tk.ID(), rename("same", at(time.Hour))))
		wantTask(t, env, tk.Snapshot())
		wantEvents(t, env, tk.ID(), created)
	})

	t.Run("an error from fn rolls back the row and the events", func(t *testing.T) {
		t.Parallel()
		tk := addTask(t, env, task.NewTaskParams{Name: "kept"}, at(0))
		boom := errors.New("boom")
		err := env.Tasks.Update(ctxOf(t), tk.ID(), func(ctx context.Context, tk *task.Task) error {
			if err := rename("lost", at(time.Hour))(ctx, tk); err != nil {
				return err
			}
			return boom
		})
		wantErr(t, err, boom)
		err = env.Tasks.Update(ctxOf(t), tk.ID(), func(_ context.Context, tk *task.Task) error {
			return tk.Update(member(newID()), task.Edit{Name: ptr("intruder")}, at(time.Hour))
		})
		wantErr(t, err, task.ErrForbiddenUpdate)
		err = env.Tasks.Delete(ctxOf(t), tk.ID(), func(_ context.Context, tk *task.Task) error {
			return tk.Delete(member(newID()), at(time.Hour))
		})
		wantErr(t, err, task.ErrForbiddenDelete)
		err = env.Tasks.Delete(ctxOf(t), tk.ID(), func(context.Context, *task.Task) error { return nil })
		if err == nil {
			t.Fatal("a delete that recorded no event succeeded")
		}
		wantTask(t, env, tk.Snapshot())
		wantEvents(t, env, tk.ID(), created)
	})

	t.Run("every change is one event, sequences 1, 2, 3 … in order", func(t *testing.T) {
		t.Parallel()
		tk := addTask(t, env, task.NewTaskParams{}, at(0))
		a := member(tk.CreatorID())
		steps := []func(context.Context, *task.Task) error{
			rename("one", at(time.Minute)),
			func(_ context.Context, tk *task.Task) error { return tk.Start(a, at(2*time.Minute)) },
			func(_ context.Context, tk *task.Task) error {
				return tk.Assign(a, task.Assignment{PICID: ptr(newID())}, at(3*time.Minute))
			},
			func(_ context.Context, tk *task.Task) error { return tk.Complete(a, at(4*time.Minute)) },
			func(_ context.Context, tk *task.Task) error { return tk.Reopen(a, at(5*time.Minute)) },
		}
		for _, step := range steps {
			must(t, env.Tasks.Update(ctxOf(t), tk.ID(), step))
		}
		got, err := env.TaskQueries.TaskByID(ctxOf(t), tk.ID())
		must(t, err)
		equal(t, "version", got.Version, int64(1+len(steps)))
		wantEvents(t, env, tk.ID(), created, updated, statusChanged, assigned, statusChanged, completed,
			statusChanged, contracts.NameTaskReopened)
	})

	t.Run("delete removes the row and records TaskDeleted", func(t *testing.T) {
		t.Parallel()
		tk := addTask(t, env, task.NewTaskParams{}, at(0))
		must(t, env.Tasks.Update(ctxOf(t), tk.ID(), rename("renamed", at(time.Minute))))
		must(t, env.Tasks.Delete(ctxOf(t), tk.ID(), func(_ context.Context, tk *task.Task) error {
			return tk.Delete(member(tk.CreatorID()), at(time.Hour))
		}))
		_, err := env.TaskQueries.TaskByID(ctxOf(t), tk.ID())
		wantErr(t, err, task.ErrNotFound)
		evs := wantEvents(t, env, tk.ID(), created, updated, deleted)
		equal(t, "deleted snapshot version", decode(t, evs[2]).Task.Version, int64(3))
		err = env.Tasks.Delete(ctxOf(t), tk.ID(), func(_ context.Context, tk *task.Task) error {
			return tk.Delete(member(tk.CreatorID()), at(time.Hour))
		})
		wantErr(t, err, task.ErrNotFound)
	})

	t.Run("concurrent updates are each applied exactly once", func(t *testing.T) {
		t.Parallel()
		const n = 20
		tk := addTask(t, env, task.NewTaskParams{}, at(0))
		errs := parallel(n, func(i int) error {
			return env.Tasks.Update(ctxOf(t), tk.ID(), rename(fmt.Sprintf("name %02d", i), at(time.Duration(i+1)*time.Second)))
		})
		for i, err := range errs {
			if err != nil {
				t.Fatalf("update %d: %v", i, err)
			}
		}
		got, err := env.TaskQueries.TaskByID(ctxOf(t), tk.ID())
		must(t, err)
		equal(t, "version", got.Version, int64(1+n))
		names := []string{created}
		for range n {
			names = append(names, updated)
		}
		evs := wantEvents(t, env, tk.ID(), names...)
		// Each update saw the one before it: versions in the events rise by one.
		for i, e := range evs {
			equal(t, fmt.Sprintf("version in event %d", i), decode(t, e).Task.Version, int64(i+1))
		}
		equal(t, "final name", got.Name, decode(t, evs[n]).Task.Name)
	})

	t.Run("concurrent updates of one version: exactly one wins", func(t *testing.T) {
		t.Parallel()
		const n = 20
		tk := addTask(t, env, task.NewTaskParams{}, at(0))
		results := parallel(n, func(i int) error {
			return env.Tasks.Update(ctxOf(t), tk.ID(), func(ctx context.Context, tk *task.Task) error {
				if err := tk.CheckVersion(1); err != nil {
					return err
				}
				return rename(fmt.Sprintf("winner %02d", i), at(time.Minute))(ctx, tk)
			})
		})
		wins := 0
		for i, err := range results {
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, errs.ErrVersionMismatch):
				t.Fatalf("update %d: %v, want nil or ErrVersionMismatch", i, err)
			}
		}
		equal(t, "winners", wins, 1)
		got, err := env.TaskQueries.TaskByID(ctxOf(t), tk.ID())
		must(t, err)
		equal(t, "version", got.Version, int64(2))
		wantEvents(t, env, tk.ID(), created, updated)
	})

	t.Run("update involving a user releases them everywhere", func(t *testing.T) {
		t.Parallel()
		u, other := newID(), newID()
		asPIC := addTask(t, env, task.NewTaskParams{PICID: u, SupervisorID: other}, at(0))
		asSup := addTask(t, env, task.NewTaskParams{PICID: other, SupervisorID: u}, at(0))
		both := addTask(t, env, task.NewTaskParams{PICID: u, SupervisorID: u}, at(0))
		neither := addTask(t, env, task.NewTaskParams{PICID: other, CreatorID: u}, at(0))
		release := func(_ context.Context, tk *task.Task) error { return tk.ReleaseUser(u, at(time.Hour)) }

		boom := errors.New("boom")
		calls := 0
		err := env.Tasks.UpdateInvolving(ctxOf(t), u, func(ctx context.Context, tk *task.Task) error {
			if calls++; calls == 3 {
				return boom
			}
			return release(ctx, tk)
		})
		wantErr(t, err, boom)
		for _, tk := range []*task.Task{asPIC, asSup, both, neither} {
			wantTask(t, env, tk.Snapshot())
			wantEvents(t, env, tk.ID(), created)
		}

		must(t, env.Tasks.UpdateInvolving(ctxOf(t), u, release))
		for _, c := range []struct {
			tk       *task.Task
			pic, sup string
		}{{asPIC, "", other}, {asSup, other, ""}, {both, "", ""}} {
			got, err := env.TaskQueries.TaskByID(ctxOf(t), c.tk.ID())
			must(t, err)
			equal(t, "pic", got.PICID, c.pic)
			equal(t, "supervisor", got.SupervisorID, c.sup)
			equal(t, "version", got.Version, int64(2))
			evs := wantEvents(t, env, c.tk.ID(), created, assigned)
			equal(t, "actor", decode(t, evs[1]).ActorID, u)
		}
		wantTask(t, env, neither.Snapshot())
		wantEvents(t, env, neither.ID(), created)
		must(t, env.Tasks.UpdateInvolving(ctxOf(t), newID(), release))
	})

	t.Run("repositories join the caller's transaction", func(t *testing.T) {
		t.Parallel()
		boom := errors.New("boom")
		var id string
		err := env.Tx.WithinTransaction(ctxOf(t), func(ctx context.Context) error {
			tk, err := task.NewTask(task.NewTaskParams{ID: newID(), Name: "in tx", CreatorID: newID()}, at(0), NewEventID)
			must(t, err)
			id = tk.ID()
			if err := env.Tasks.Add(ctx, tk); err != nil {
				return err
			}
			if err := env.Tasks.Update(ctx, id, rename("renamed in tx", at(time.Minute))); err != nil {
				return err
			}
			got, err := env.TaskQueries.TaskByID(ctx, id) // reads inside see the writes
			if err != nil {
				return err
			}
			equal(t, "name inside", got.Name, "renamed in tx")
			return boom
		})
		wantErr(t, err, boom)
		_, err = env.TaskQueries.TaskByID(ctxOf(t), id)
		wantErr(t, err, task.ErrNotFound)
		wantEvents(t, env, id)

		must(t, env.Tx.WithinTransaction(ctxOf(t), func(ctx context.Context) error {
			tk, err := task.NewTask(task.NewTaskParams{ID: newID(), Name: "in tx", CreatorID: newID()}, at(0), NewEventID)
			must(t, err)
			id = tk.ID()
			if err := env.Tasks.Add(ctx, tk); err != nil {
				return err
			}
			return env.Tasks.Update(ctx, id, rename("renamed in tx", at(time.Minute)))
		}))
		got, err := env.TaskQueries.TaskByID(ctxOf(t), id)
		must(t, err)
		equal(t, "name", got.Name, "renamed in tx")
		wantEvents(t, env, id, created, updated)
	})
}
