package contracttest

import (
	"context"

	"github.com/taskd/taskd/adapters/sqlstore"
)

// SQLEnv returns the Env of the sqlstore adapters over db.
func SQLEnv(db *sqlstore.DB) Env {
	reader := sqlstore.NewOutboxReader(db)
	return Env{
		Tasks:       sqlstore.NewTaskRepository(db, NewEventID),
		TaskQueries: sqlstore.NewTasksReadModel(db),
		Users:       sqlstore.NewUserRepository(db, NewEventID),
		UserQueries: sqlstore.NewUsersReadModel(db),
		Tokens:      sqlstore.NewRefreshTokenStore(db),
		Idempotency: sqlstore.NewIdempotencyStore(db),
		Tx:          db,
		Outbox: func(ctx context.Context, aggregateID string) ([]OutboxEvent, error) {
			evs, err := reader.ForAggregate(ctx, aggregateID)
			if err != nil {
				return nil, err
			}
			out := make([]OutboxEvent, len(evs))
			for i, e := range evs {
				out[i] = OutboxEvent{EventID: e.EventID, Name: e.Name, AggregateID: e.AggregateID, Sequence: e.Sequence, Payload: e.Payload}
			}
			return out, nil
		},
	}
}
