package memory_test

import (
	"context"
	"testing"

	"github.com/taskd/taskd/adapters/contracttest"
	"github.com/taskd/taskd/adapters/memory"
)

func newEnv(testing.TB) contracttest.Env {
	s := memory.NewStore()
	return contracttest.Env{
		Tasks:       memory.NewTaskRepository(s, contracttest.NewEventID),
		TaskQueries: memory.NewTasksReadModel(s),
		Users:       memory.NewUserRepository(s, contracttest.NewEventID),
		UserQueries: memory.NewUsersReadModel(s),
		Tokens:      memory.NewRefreshTokenStore(s),
		Idempotency: memory.NewIdempotencyStore(s),
		Tx:          s,
		Outbox: func(_ context.Context, aggregateID string) ([]contracttest.OutboxEvent, error) {
			var out []contracttest.OutboxEvent
			for _, e := range s.OutboxFor(aggregateID) {
				out = append(out, contracttest.OutboxEvent{EventID: e.EventID, Name: e.Name, AggregateID: e.AggregateID, Sequence: e.Sequence, Payload: e.Payload})
			}
			return out, nil
		},
	}
}

func TestContract(t *testing.T) { contracttest.All(t, newEnv) }
