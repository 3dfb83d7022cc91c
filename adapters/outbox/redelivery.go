package outbox

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
)

// metaAttempts carries a redelivered message's count of failed deliveries
// to Settle.
const metaAttempts = "_attempts"

// redeliveryTxKey holds, in a redelivered message's context, the
// transaction that settles it.
type redeliveryTxKey struct{}

// mergedSubscriber feeds a group from its outbox stream and from its
// redeliveries at once.
type mergedSubscriber struct {
	stream    message.Subscriber
	redeliver *redeliverySubscriber
}

func (m *mergedSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	a, err := m.stream.Subscribe(ctx, topic)
	if err != nil {
		return nil, err
	}
	b := m.redeliver.Subscribe(ctx)
	out := make(chan *message.Message)
	var wg sync.WaitGroup
	for _, in := range []<-chan *message.Message{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for msg := range in {
				// The sources wait for ack or nack themselves; out is
				// unbuffered, so nothing is taken that is not handled.
				select {
				case out <- msg:
				case <-ctx.Done():
					msg.Nack()
				}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(out)
	}()
	return out, nil
}

func (m *mergedSubscriber) Close() error {
	return errors.Join(m.stream.Close(), m.redeliver.Close())
}

// redeliverySubscriber delivers a group's due redeliveries from the
// dead-letter table, one at a time, each in a transaction that Settle uses
// to record the outcome: the handler's effect, the removal (success) or the
// failed attempt commit together.
type redeliverySubscriber struct {
	store  *DeadLetters
	group  string
	poll   time.Duration
	logger watermill.LoggerAdapter

	closing   chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
}

func newRedeliverySubscriber(store *DeadLetters, group string, poll time.Duration, logger watermill.LoggerAdapter) *redeliverySubscriber {
	if poll <= 0 {
		poll = 200 * time.Millisecond
	}
	if logger == nil {
		logger = watermill.NopLogger{}
	}
	return &redeliverySubscriber{
		store: store, group: group, poll: poll,
		logger:  logger.With(watermill.LogFields{"consumer_group": group, "source": "redelivery"}),
		closing: make(chan struct{}),
	}
}

func (r *redeliverySubscriber) Subscribe(ctx context.Context) <-chan *message.Message {
	out := make(chan *message.Message)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer close(out)
		for {
			delivered, err := r.deliverOne(ctx, out)
			if err != nil {
				r.logger.Error("redelivering a failed event", err, nil)
			}
			if delivered && err == nil {
				continue
			}
			select {
			case <-ctx.Done():
				return
			case <-r.closing:
				return
			case <-time.After(r.poll):
			}
		}
	}()
	return out
}

// deliverOne delivers the next due redelivery, if any.
func (r *redeliverySubscriber) deliverOne(ctx context.Context, out chan<- *message.Message) (bool, error) {
	// A plain read first: on SQLite every transaction takes the write lock.
	if ok, err := r.store.hasDue(ctx, r.group); err != nil || !ok {
		return false, err
	}
	tx, err := r.store.DB.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	committed := false
	defer func() {
		if !committed {
			_ = tx.Rollback()
		}
	}()
	d, err := r.store.takeDue(ctx, tx, r.group)
	if err != nil || d == nil {
		return false, err
	}
	msg := d.msg
	msg.Metadata.Set(metaAttempts, strconv.Itoa(d.attempts))
	msgCtx, cancel := context.WithCancel(context.WithValue(ctx, redeliveryTxKey{}, tx))
	defer cancel()
	msg.SetContext(msgCtx)
	select {
	case out <- msg:
	case <-ctx.Done():
		return false, nil
	case <-r.closing:
		return false, nil
	}
	select {
	case <-msg.Acked():
		if err := tx.Commit(); err != nil {
			return true, err
		}
		committed = true
		return true, nil
	case <-msg.Nacked():
		// Settle could not record the outcome: undo everything, then count
		// the attempt outside the transaction so the row does not spin.
		_ = tx.Rollback()
		committed = true
		return true, r.store.postpone(context.WithoutCancel(ctx), d.id, r.poll*10, "redelivery could not be settled")
	case <-ctx.Done():
		return false, nil
	case <-r.closing:
		return false, nil
	}
}

func (r *redeliverySubscriber) Close() error {
	r.closeOnce.Do(func() { close(r.closing) })
	r.wg.Wait()
	return nil
}
