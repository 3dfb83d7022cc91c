package outbox_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/components/cqrs"

	"github.com/taskd/taskd/adapters/eventtest"
	"github.com/taskd/taskd/adapters/outbox"
	"github.com/taskd/taskd/adapters/sqlstore"
	"github.com/taskd/taskd/modules/kernel/event"
	"github.com/taskd/taskd/modules/tasks/contracts"
	"github.com/taskd/taskd/ports/events"
)

const group = "effects"

// behaviour decides, per event id, what the handler does.
type behaviour struct {
	mu       sync.Mutex
	fail     map[string]error // fails with this error while set
	failures map[string]int   // transient failures left before success
	calls    map[string]int
}

func newBehaviour() *behaviour {
	return &behaviour{fail: map[string]error{}, failures: map[string]int{}, calls: map[string]int{}}
}

func (b *behaviour) set(id string, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err == nil {
		delete(b.fail, id)
	} else {
		b.fail[id] = err
	}
}

func (b *behaviour) called(id string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls[id]
}

// handle writes the effect (through ProcessOnce, in the acknowledging
// transaction) and then fails when told to: the savepoint must undo it.
func (b *behaviour) handle(db *sqlstore.DB) func(ctx context.Context, e *contracts.TaskUpdated) error {
	return func(ctx context.Context, e *contracts.TaskUpdated) error {
		b.mu.Lock()
		b.calls[e.ID]++
		err := b.fail[e.ID]
		if err == nil && b.failures[e.ID] > 0 {
			b.failures[e.ID]--
			err = errors.New("transient")
		}
		b.mu.Unlock()
		if eff := eventtest.Effect(ctx, db, events.GroupFromContext(ctx), e.ID); eff != nil {
			return eff
		}
		return err
	}
}

func startEmbedded(t *testing.T, db *sqlstore.DB, b *behaviour) *outbox.DeadLetters {
	t.Helper()
	store := &outbox.DeadLetters{DB: db.SQL, Dialect: db.Dialect.Outbox}
	tr := outbox.EmbeddedTransport{
		DB: db.SQL, Dialect: db.Dialect.Outbox, JoinTx: sqlstore.ContextWithTx, PollInterval: 20 * time.Millisecond,
		DeadLetters: store, MaxAttempts: 3,
		Backoff: func(int) time.Duration { return 50 * time.Millisecond },
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	p, err := events.NewProcessor(tr, []events.HandlerGroup{{
		Name: group, Handlers: []cqrs.GroupEventHandler{cqrs.NewGroupEventHandler(b.handle(db))},
	}}, events.Config{MaxRetries: 1, InitialInterval: time.Millisecond}, logger)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		_ = p.Close()
		<-done
	})
	<-p.Running()
	return store
}

func ev(agg string, seq int64) contracts.TaskUpdated { return eventtest.TaskEvent(agg, seq) }

// A poison event does not block its group: the events behind it are
// handled, it becomes a dead letter at once (permanent) or after
// MaxAttempts deliveries (transient), a transient failure heals through
// redelivery, a failed attempt leaves no effect, and a replayed dead letter
// is handled once fixed.
func TestEmbeddedDeadLettersAndRedelivery(t *testing.T) {
	eventtest.Integration(t)
	eventtest.Dialects(t, func(t *testing.T, open func(testing.TB) *sqlstore.DB) {
		db := open(t)
		eventtest.CreateEffects(t, db)
		b := newBehaviour()
		poison, after1, after2, flaky, doomed := ev("a", 1), ev("a", 2), ev("b", 1), ev("c", 1), ev("d", 1)
		b.set(poison.ID, events.Permanent(errors.New("unknown user")))
		b.set(doomed.ID, errors.New("smtp down"))
		b.failures[flaky.ID] = 3 // 2 in-process attempts, then a redelivery
		store := startEmbedded(t, db, b)

		eventtest.Append(t, db, poison)
		eventtest.Append(t, db, after1, after2)
		eventtest.Append(t, db, flaky, doomed)
		ctx := context.Background()

		eventtest.Eventually(t, 10*time.Second, "the events behind the poison one", func() bool {
			e := eventtest.Effects(t, db)
			return e[after1.ID] == 1 && e[after2.ID] == 1 && e[flaky.ID] == 1
		})
		eventtest.Eventually(t, 10*time.Second, "two dead letters", func() bool {
			n, err := store.Count(ctx, events.DeadLetterFilter{})
			return err == nil && n == 2
		})
		dls, err := store.List(ctx, events.DeadLetterFilter{Queue: group})
		if err != nil {
			t.Fatal(err)
		}
		byEvent := map[string]events.DeadLetter{}
		for _, dl := range dls {
			byEvent[dl.EventID] = dl
		}
		if dl := byEvent[poison.ID]; dl.Attempts != 1 || dl.EventName != contracts.NameTaskUpdated || dl.Source != outbox.SourceEmbedded ||
			dl.LastError == "" || string(dl.Metadata[outbox.MetaAggregateID]) != "a" {
			t.Errorf("poison dead letter = %+v, want 1 attempt, its name, error and metadata", dl)
		}
		if dl := byEvent[doomed.ID]; dl.Attempts != 3 {
			t.Errorf("doomed dead letter = %+v, want 3 attempts (MaxAttempts)", dl)
		}
		if n := b.called(poison.ID); n != 1 {
			t.Errorf("a permanent failure was attempted %d times, want 1", n)
		}
		if n := b.called(doomed.ID); n != 3*2 {
			t.Errorf("doomed event attempted %d times, want 3 deliveries × 2 in-process attempts", n)
		}
		effects := eventtest.Effects(t, db)
		if effects[poison.ID] != 0 || effects[doomed.ID] != 0 {
			t.Errorf("failed attempts left effects: %v", effects)
		}

		// Fix the cause, replay the poison event: handled once, gone.
		b.set(poison.ID, nil)
		n, err := events.Replay(ctx, store, store, events.DeadLetterFilter{ID: byEvent[poison.ID].ID}, nil)
		if err != nil || n != 1 {
			t.Fatalf("replay: %d, %v", n, err)
		}
		eventtest.Eventually(t, 10*time.Second, "the replayed event's effect", func() bool {
			return eventtest.Effects(t, db)[poison.ID] == 1
		})
		eventtest.Eventually(t, 5*time.Second, "the replayed dead letter to go", func() bool {
			n, _ := store.Count(ctx, events.DeadLetterFilter{})
			var retrying int
			_ = db.SQL.QueryRow(`SELECT COUNT(*) FROM dead_letters`).Scan(&retrying)
			return n == 1 && retrying == 1
		})
	})
}

// The same event delivered twice (here: appended twice, as a repeated
// relay would) has one effect.
func TestEmbeddedRedeliveredEventHasNoSecondEffect(t *testing.T) {
	eventtest.Integration(t)
	eventtest.Dialects(t, func(t *testing.T, open func(testing.TB) *sqlstore.DB) {
		db := open(t)
		eventtest.CreateEffects(t, db)
		b := newBehaviour()
		startEmbedded(t, db, b)
		e, last := ev("x", 1), ev("x", 2)
		eventtest.Append(t, db, e)
		eventtest.Append(t, db, []event.Event{e, last}...)
		eventtest.Eventually(t, 10*time.Second, "both events handled", func() bool {
			return eventtest.Effects(t, db)[last.ID] == 1
		})
		if n := b.called(e.ID); n != 2 {
			t.Errorf("the duplicate was delivered %d times, want 2", n)
		}
		if n := eventtest.Effects(t, db)[e.ID]; n != 1 {
			t.Errorf("effects of a redelivered event = %d, want 1", n)
		}
	})
}
