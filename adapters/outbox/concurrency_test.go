package outbox_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"

	"github.com/taskd/taskd/adapters/eventtest"
	"github.com/taskd/taskd/adapters/outbox"
	"github.com/taskd/taskd/adapters/sqlstore"
	"github.com/taskd/taskd/modules/kernel/event"
)

// Writers commit concurrently, in an order other than the one in which
// their rows got their offsets; a reader of the outbox must still see
// every row (a late commit below the reader's offset would be lost).
func TestOutboxReaderSkipsNoLateCommit(t *testing.T) {
	eventtest.Integration(t)
	eventtest.Dialects(t, func(t *testing.T, open func(testing.TB) *sqlstore.DB) {
		db := open(t)
		sub, err := outbox.NewSubscriber(db.SQL, outbox.SubscriberConfig{
			Dialect: db.Dialect.Outbox, ConsumerGroup: "late-commits", PollInterval: 5 * time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		msgs, err := sub.Subscribe(ctx, outbox.Topic)
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()

		const writers, each = 8, 40
		var (
			mu   sync.Mutex
			seen = map[string]bool{}
		)
		go func() {
			for m := range msgs {
				mu.Lock()
				seen[m.UUID] = true
				mu.Unlock()
				// Hold the reading transaction a while, as the forwarder does
				// while it publishes: writers queue up behind its locks.
				time.Sleep(time.Millisecond)
				m.Ack()
			}
		}()
		var (
			wg   sync.WaitGroup
			sent sync.Map
		)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					e := eventtest.TaskEvent("late", int64(w*each+i))
					err := db.WithinTransaction(ctx, func(ctx context.Context) error {
						tx, _ := sqlstore.TxFromContext(ctx)
						if err := db.Outbox.Append(ctx, tx, []event.Event{e}); err != nil {
							return err
						}
						// Hold the offset uncommitted a while, so that later
						// offsets commit first.
						time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
						return nil
					})
					if err != nil {
						t.Error(err)
						return
					}
					sent.Store(e.ID, true)
				}
			}()
		}
		wg.Wait()
		deadline := time.Now().Add(20 * time.Second)
		for {
			mu.Lock()
			n := len(seen)
			mu.Unlock()
			if n >= writers*each || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		missing := 0
		sent.Range(func(k, _ any) bool {
			mu.Lock()
			defer mu.Unlock()
			if !seen[k.(string)] {
				missing++
			}
			return true
		})
		if missing > 0 {
			t.Errorf("%d committed events never read", missing)
		}
	})
}

func TestBacklogCountsWhatTheSlowestGroupHasNotAcknowledged(t *testing.T) {
	eventtest.Integration(t)
	eventtest.Dialects(t, func(t *testing.T, open func(testing.TB) *sqlstore.DB) {
		db := open(t)
		ctx := context.Background()
		n, age, err := outbox.Backlog(ctx, db.SQL, db.Dialect.Outbox, []string{"a", "b"}, time.Now())
		if err != nil || n != 0 || age != 0 {
			t.Fatalf("empty outbox: %d, %s, %v", n, age, err)
		}
		eventtest.Append(t, db, eventtest.TaskEvent("x", 1), eventtest.TaskEvent("x", 2))
		eventtest.Append(t, db, eventtest.TaskEvent("x", 3))
		// Group a has read the first two.
		var second int64
		if err := db.SQL.QueryRow(`SELECT MAX(` + map[bool]string{true: "`offset`", false: `"offset"`}[db.Dialect.Name == "mysql"] +
			`) - 1 FROM outbox_messages`).Scan(&second); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL.Exec(`INSERT INTO outbox_offsets (consumer_group, offset_acked, offset_consumed) VALUES ('a', ?, ?)`, second, second); err != nil {
			t.Fatal(err)
		}
		later := time.Now().Add(time.Hour)
		if n, age, err := outbox.Backlog(ctx, db.SQL, db.Dialect.Outbox, []string{"a"}, later); err != nil || n != 1 || age < 59*time.Minute || age > 61*time.Minute {
			t.Errorf("backlog of a: %d, %s, %v; want 1 row an hour old", n, age, err)
		}
		if n, _, err := outbox.Backlog(ctx, db.SQL, db.Dialect.Outbox, []string{"a", "b"}, later); err != nil || n != 3 {
			t.Errorf("backlog of a and b: %d, %v; want b's 3", n, err)
		}
	})
}

// The cloud forwarder's reader (relayed marks, no offset) misses no row
// either, with writers that take no write lock.
func TestRelayReaderSkipsNoLateCommitWithoutTheWriteLock(t *testing.T) {
	eventtest.Integration(t)
	db := eventtest.MySQL(t)
	db.Outbox = db.Outbox.NoWriteLock()
	sub, err := wsql.NewSubscriber(wsql.BeginnerFromStdSQL(db.SQL), wsql.SubscriberConfig{
		ConsumerGroup: "forwarder", PollInterval: 5 * time.Millisecond, ResendInterval: 5 * time.Millisecond,
		SchemaAdapter: outbox.RelaySchemaAdapter(outbox.MySQL), OffsetsAdapter: outbox.RelayOffsetsAdapter(outbox.MySQL),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	msgs, err := sub.Subscribe(ctx, outbox.Topic)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	var (
		mu   sync.Mutex
		seen = map[string]int{}
	)
	go func() {
		for m := range msgs {
			_, inner, err := outbox.Unwrap(m)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			seen[inner.UUID]++
			mu.Unlock()
			time.Sleep(time.Millisecond) // a publish
			m.Ack()
		}
	}()
	const writers, each = 8, 40
	var wg sync.WaitGroup
	var sent sync.Map
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				e := eventtest.TaskEvent("relay", int64(w*each+i))
				err := db.WithinTransaction(ctx, func(ctx context.Context) error {
					tx, _ := sqlstore.TxFromContext(ctx)
					if err := db.Outbox.Append(ctx, tx, []event.Event{e}); err != nil {
						return err
					}
					time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
				sent.Store(e.ID, true)
			}
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		if n >= writers*each || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	missing := 0
	sent.Range(func(k, _ any) bool {
		mu.Lock()
		defer mu.Unlock()
		if seen[k.(string)] == 0 {
			missing++
		}
		return true
	})
	if missing > 0 {
		t.Errorf("%d committed events never read", missing)
	}
	// The reader marks a batch relayed when it commits, just after the last
	// message of the batch was acknowledged: give that commit a moment.
	var (
		unrelayed int
		qerr      error
	)
	for until := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		qerr = db.SQL.QueryRow(`SELECT COUNT(*) FROM outbox_messages WHERE relayed = 0`).Scan(&unrelayed)
		if (qerr == nil && unrelayed == 0) || time.Now().After(until) {
			break
		}
	}
	if qerr != nil || unrelayed != 0 {
		t.Errorf("%d rows left unrelayed (%v)", unrelayed, qerr)
	}
	if n, _, err := outbox.RelayBacklog(ctx, db.SQL, outbox.MySQL, "forwarder", time.Now()); err != nil || n != 0 {
		t.Errorf("relay backlog %d (%v)", n, err)
	}
}
