package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/taskd/taskd/ports/events"
)

var _ events.Settler = EmbeddedTransport{}

// EmbeddedTransport feeds event handler groups straight from the outbox
// table: each group reads it with its own consumer-group offset. It is the
// event transport of embedded mode (ports/events.Transport).
//
// With DeadLetters set it is also an events.Settler: a delivery that failed
// (after the processor's in-process retries) is recorded in the dead-letter
// table in the transaction that acknowledges it, and acknowledged, so the
// group goes on with the next event instead of retrying one poison event
// forever; the group's redelivery loop delivers it again after a backoff
// and it becomes a dead letter after MaxAttempts failed deliveries, or at
// once for a Permanent error (docs/events.md).
type EmbeddedTransport struct {
	DB      *sql.DB
	Dialect Dialect
	// JoinTx puts the transaction acknowledging a message into the context
	// the handler sees, so the storage adapters write the handler's effect
	// in it (sqlstore.ContextWithTx): effect and offset commit together.
	JoinTx       func(ctx context.Context, tx *sql.Tx) context.Context
	PollInterval time.Duration
	Logger       watermill.LoggerAdapter

	// DeadLetters, when set, takes failed deliveries out of the group's
	// stream (see the type's comment). Without it a failed message is
	// nacked and redelivered in place, blocking its group.
	DeadLetters *DeadLetters
	// MaxAttempts is how many failed deliveries make a dead letter: the
	// embedded twin of SQS's maxReceiveCount (default 5).
	MaxAttempts int
	// Backoff is the wait before delivery attempt n+1 after n failed ones
	// (default RedeliveryBackoff(10s, 10m)).
	Backoff func(failed int) time.Duration
}

// RedeliveryBackoff doubles from first, capped at most.
func RedeliveryBackoff(first, most time.Duration) func(int) time.Duration {
	return func(failed int) time.Duration {
		d := first
		for i := 1; i < failed && d < most; i++ {
			d *= 2
		}
		return min(d, most)
	}
}

func (t EmbeddedTransport) maxAttempts() int {
	if t.MaxAttempts <= 0 {
		return 5
	}
	return t.MaxAttempts
}

func (t EmbeddedTransport) backoff(failed int) time.Duration {
	if t.Backoff == nil {
		return RedeliveryBackoff(10*time.Second, 10*time.Minute)(failed)
	}
	return t.Backoff(failed)
}

func (t EmbeddedTransport) Subscriber(group string) (message.Subscriber, error) {
	sub, err := NewSubscriber(t.DB, SubscriberConfig{
		Dialect: t.Dialect, ConsumerGroup: group, PollInterval: t.PollInterval, Logger: t.Logger,
	})
	if err != nil || t.DeadLetters == nil {
		return sub, err
	}
	return &mergedSubscriber{
		stream:    sub,
		redeliver: newRedeliverySubscriber(t.DeadLetters, group, t.PollInterval, t.Logger),
	}, nil
}

// Settle implements events.Settler (see the type's comment).
func (t EmbeddedTransport) Settle(group string, msg *message.Message, err error) error {
	if t.DeadLetters == nil {
		return err
	}
	tx, ok := TxFromMessage(msg)
	if !ok {
		return err
	}
	ctx := msg.Context()
	idText := msg.Metadata.Get(MetaDeadLetterID)
	if idText == "" {
		// First delivery, from the outbox stream.
		if err == nil {
			return nil
		}
		dead := events.IsPermanent(err) || t.maxAttempts() <= 1
		if _, rerr := t.DeadLetters.Record(ctx, tx, Failure{
			Queue: group, Msg: msg, Error: err.Error(), Dead: dead, Attempts: 1,
			NextAttempt: t.DeadLetters.now().Add(t.backoff(1)), Source: SourceEmbedded,
		}); rerr != nil {
			return errors.Join(err, rerr)
		}
		return nil
	}
	// A redelivery from the dead-letter table.
	id, perr := strconv.ParseInt(idText, 10, 64)
	if perr != nil {
		return errors.Join(err, fmt.Errorf("bad %s %q", MetaDeadLetterID, idText))
	}
	if err == nil {
		return t.DeadLetters.remove(ctx, tx, id)
	}
	failed, _ := strconv.Atoi(msg.Metadata.Get(metaAttempts))
	failed++
	dead := events.IsPermanent(err) || failed >= t.maxAttempts()
	if rerr := t.DeadLetters.fail(ctx, tx, id, err.Error(), dead, t.DeadLetters.now().Add(t.backoff(failed))); rerr != nil {
		return errors.Join(err, rerr)
	}
	return nil
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
