package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
)

// EmbeddedTransport feeds event handler groups straight from the outbox
// table: each group reads it with its own consumer-group offset. It is the
// event transport of embedded mode (ports/events.Transport).
type EmbeddedTransport struct {
	DB      *sql.DB
	Dialect Dialect
	// JoinTx puts the transaction acknowledging a message into the context
	// the handler sees, so the storage adapters write the handler's effect
	// in it (sqlstore.ContextWithTx): effect and offset commit together.
	JoinTx       func(ctx context.Context, tx *sql.Tx) context.Context
	PollInterval time.Duration
	Logger       watermill.LoggerAdapter
}

func (t EmbeddedTransport) Subscriber(group string) (message.Subscriber, error) {
	return NewSubscriber(t.DB, SubscriberConfig{
		Dialect: t.Dialect, ConsumerGroup: group, PollInterval: t.PollInterval, Logger: t.Logger,
	})
}

func (t EmbeddedTransport) Topic(string) string { return Topic }

func (t EmbeddedTransport) Middlewares() []message.HandlerMiddleware {
	if t.JoinTx == nil {
		return nil
	}
	return []message.HandlerMiddleware{func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			tx, ok := TxFromMessage(msg)
			if !ok {
				return h(msg)
			}
			// Each attempt runs in a savepoint: a failed attempt leaves
			// nothing behind in the transaction that will still commit the
			// (unchanged) offset after a nack.
			ctx := msg.Context()
			if _, err := tx.ExecContext(ctx, "SAVEPOINT event_handler"); err != nil {
				return nil, fmt.Errorf("savepoint: %w", err)
			}
			msg.SetContext(t.JoinTx(ctx, tx))
			out, err := h(msg)
			if err != nil {
				if _, rbErr := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT event_handler"); rbErr != nil {
					return nil, errors.Join(err, fmt.Errorf("rollback to savepoint: %w", rbErr))
				}
				return out, err
			}
			if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT event_handler"); err != nil {
				return nil, fmt.Errorf("release savepoint: %w", err)
			}
			return out, nil
		}
	}}
}
