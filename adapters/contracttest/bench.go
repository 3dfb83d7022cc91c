package contracttest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/taskd/taskd/modules/tasks/domain/task"
)

// BenchmarkTaskAdd measures Add: one row and one outbox event per task.
func BenchmarkTaskAdd(b *testing.B, env Env) {
	creator := newID()
	i := 0
	for b.Loop() {
		i++
		tk, err := task.NewTask(task.NewTaskParams{ID: newID(), Name: fmt.Sprint("bench ", i), CreatorID: creator}, at(0), NewEventID)
		if err != nil {
			b.Fatal(err)
		}
		if err := env.Tasks.Add(b.Context(), tk); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTaskUpdate measures Update of one task: lock, load, save the
// row with its version guard, one outbox event.
func BenchmarkTaskUpdate(b *testing.B, env Env) {
	tk := addTask(b, env, task.NewTaskParams{}, at(0))
	i := 0
	for b.Loop() {
		i++
		if err := env.Tasks.Update(b.Context(), tk.ID(), rename(fmt.Sprint("bench ", i), at(time.Duration(i)*time.Microsecond))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTaskUpdateParallel measures updates of distinct tasks from
// GOMAXPROCS goroutines.
func BenchmarkTaskUpdateParallel(b *testing.B, env Env) {
	b.RunParallel(func(pb *testing.PB) {
		tk := addTask(b, env, task.NewTaskParams{}, at(0))
		i := 0
		for pb.Next() {
			i++
			if err := env.Tasks.Update(context.Background(), tk.ID(), rename(fmt.Sprint("bench ", i), at(time.Duration(i)*time.Microsecond))); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// All runs every suite of the storage ports.
func All(t *testing.T, newEnv func(testing.TB) Env) {
	t.Run("TaskRepository", func(t *testing.T) { t.Parallel(); TaskRepository(t, newEnv) })
	t.Run("TasksReadModel", func(t *testing.T) { t.Parallel(); TasksReadModel(t, newEnv) })
	t.Run("UserRepository", func(t *testing.T) { t.Parallel(); UserRepository(t, newEnv) })
	t.Run("RefreshTokenStore", func(t *testing.T) { t.Parallel(); RefreshTokenStore(t, newEnv) })
	t.Run("UsersReadModel", func(t *testing.T) { t.Parallel(); UsersReadModel(t, newEnv) })
	t.Run("IdempotencyStore", func(t *testing.T) { t.Parallel(); IdempotencyStore(t, newEnv) })
	t.Run("AccountDeletion", func(t *testing.T) { t.Parallel(); AccountDeletion(t, newEnv) })
}
