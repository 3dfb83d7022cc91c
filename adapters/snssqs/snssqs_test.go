package snssqs_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/components/cqrs"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/taskd/taskd/adapters/eventtest"
	"github.com/taskd/taskd/adapters/outbox"
	"github.com/taskd/taskd/adapters/snssqs"
	"github.com/taskd/taskd/adapters/sqlstore"
	"github.com/taskd/taskd/modules/tasks/contracts"
	"github.com/taskd/taskd/ports/events"
)

// These tests run the cloud transport against the SNS/SQS stand-in
// (fauxqs) with the real outbox writer on SQLite and MySQL. Each test has
// its own resource prefix (TASKD_ENV), so they run in parallel.

func logger() *slog.Logger {
	if os.Getenv("TASKD_TEST_LOG") == "1" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type cloud struct {
	cfg     snssqs.Config
	clients snssqs.Clients
	res     *snssqs.Resources
	store   *outbox.DeadLetters
	relayed atomic.Int64
}

func (c *cloud) EventsRelayed(n int) { c.relayed.Add(int64(n)) }

func newCloud(t testing.TB, db *sqlstore.DB) *cloud {
	t.Helper()
	awsCfg := eventtest.AWS(t)
	// As cmd/taskd does in the cloud: the forwarder reads by relayed mark.
	db.Outbox = db.Outbox.NoWriteLock()
	c := &cloud{
		cfg: snssqs.Config{
			Env: eventtest.Env(), CreateResources: true, MaxReceiveCount: 5,
			// Transient failures come back after 1s in these tests.
			RedeliveryBackoff: func(int) time.Duration { return time.Second },
			WaitTime:          time.Second, ConsumeWorkers: 2, Logger: logger(),
		},
		clients: snssqs.NewClients(awsCfg),
		store:   &outbox.DeadLetters{DB: db.SQL, Dialect: db.Dialect.Outbox},
	}
	c.res = snssqs.NewResources(c.cfg, c.clients)
	return c
}

// forward runs the outbox → SNS forwarder until the test ends.
func (c *cloud) forward(t *testing.T, db *sqlstore.DB, groups ...string) {
	t.Helper()
	f, err := snssqs.NewForwarder(c.cfg, c.clients, c.res, snssqs.ForwarderConfig{
		DB: db.SQL, Dialect: db.Dialect.Outbox, PollInterval: 20 * time.Millisecond, Metrics: c, DeadLetters: c.store,
		Groups: groups,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = f.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// consume runs one handler group on SQS until the test ends.
func (c *cloud) consume(t *testing.T, group string, cfg events.Config, h func(ctx context.Context, e *contracts.TaskUpdated) error) {
	t.Helper()
	tr := snssqs.NewTransport(c.cfg, c.clients, c.res, c.store)
	p, err := events.NewProcessor(tr, []events.HandlerGroup{{
		Name: group, Handlers: []cqrs.GroupEventHandler{cqrs.NewGroupEventHandler(h)},
	}}, cfg, logger())
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
	select {
	case <-p.Running():
	case err := <-done:
		t.Fatalf("processor stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("processor did not start")
	}
}

func (c *cloud) queueDepth(t *testing.T, url string) int {
	t.Helper()
	out, err := c.clients.SQS.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{
			sqstypes.QueueAttributeNameApproximateNumberOfMessages,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := strconv.Atoi(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)])
	b, _ := strconv.Atoi(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible)])
	return a + b
}

// received records what a consumer saw.
type received struct {
	mu     sync.Mutex
	events map[string]*contracts.TaskUpdated
	calls  map[string]int
	meta   map[string]string
}

func newReceived() *received {
	return &received{events: map[string]*contracts.TaskUpdated{}, calls: map[string]int{}}
}

func (r *received) note(e *contracts.TaskUpdated) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events[e.ID] = e
	r.calls[e.ID]++
	return r.calls[e.ID]
}

func (r *received) count(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[id]
}

// An event appended to the outbox in a transaction arrives at a consumer
// over SNS → SQS, whole: payload, name and metadata; the forwarder counts it.
func TestOutboxEventsArriveOverSNSAndSQS(t *testing.T) {
	eventtest.Integration(t)
	eventtest.Dialects(t, func(t *testing.T, open func(testing.TB) *sqlstore.DB) {
		db := open(t)
		c := newCloud(t, db)
		got := newReceived()
		c.consume(t, "probe", events.Config{}, func(ctx context.Context, e *contracts.TaskUpdated) error {
			got.note(e)
			return nil
		})
		c.forward(t, db, "probe")

		var sent []contracts.TaskUpdated
		for i := range 10 {
			e := eventtest.TaskEvent("agg-"+strconv.Itoa(i%3), int64(i+1))
			eventtest.Append(t, db, e)
			sent = append(sent, e)
		}
		eventtest.Eventually(t, 20*time.Second, "10 events at the consumer", func() bool {
			for _, e := range sent {
				if got.count(e.ID) == 0 {
					return false
				}
			}
			return true
		})
		for _, e := range sent {
			g := got.events[e.ID]
			if g.AggregateID != e.AggregateID || g.Sequence != e.Sequence || g.Task.Name != e.Task.Name || g.Type != contracts.NameTaskUpdated {
				t.Errorf("received %+v, sent %+v", g.Meta, e.Meta)
			}
		}
		if n := c.relayed.Load(); n != 10 {
			t.Errorf("relayed = %d, want 10", n)
		}
		q, err := c.res.Queue(context.Background(), "probe")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(q.Name, "-probe") || q.DLQName != q.Name+"-dlq" || q.MaxReceiveCount != 5 {
			t.Errorf("queue = %+v", q)
		}
	})
}

// A handler that fails permanently puts the message in the group's DLQ
// after maxReceiveCount receives; the DLQ watcher collects it (with the
// handler's error) and alerts once; replay sends it back to the queue and
// the fixed handler processes it once. A transient failure heals through
// SQS redelivery. A message delivered twice has one effect.
func TestDeadLetterReplayAndIdempotentRedelivery(t *testing.T) {
	eventtest.Integration(t)
	t.Parallel()
	db := eventtest.SQLite(t)
	eventtest.CreateEffects(t, db)
	c := newCloud(t, db)
	const group = "fragile"
	poison, flaky, twice := eventtest.TaskEvent("p", 1), eventtest.TaskEvent("f", 1), eventtest.TaskEvent("t", 1)
	var fixed atomic.Bool
	got := newReceived()
	c.consume(t, group, events.Config{MaxRetries: -1}, func(ctx context.Context, e *contracts.TaskUpdated) error {
		n := got.note(e)
		switch {
		case e.ID == poison.ID && !fixed.Load():
			return events.Permanent(errors.New("assignee does not exist"))
		case e.ID == flaky.ID && n == 1:
			return errors.New("database restarting")
		}
		return eventtest.Effect(ctx, db, events.GroupFromContext(ctx), e.ID)
	})
	c.forward(t, db, group)
	eventtest.Append(t, db, poison, flaky, twice)
	ctx := context.Background()

	q, err := c.res.Queue(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	eventtest.Eventually(t, 20*time.Second, "the poison message in the DLQ", func() bool {
		return c.queueDepth(t, q.DLQURL) == 1
	})
	if n := got.count(poison.ID); n != q.MaxReceiveCount {
		t.Errorf("poison message received %d times, want maxReceiveCount = %d", n, q.MaxReceiveCount)
	}
	eventtest.Eventually(t, 20*time.Second, "the flaky event healed", func() bool {
		return eventtest.Effects(t, db)[flaky.ID] == 1
	})

	// The same message twice on the queue (SQS delivers at least once).
	dup, err := c.clients.SQS.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(q.URL), MessageBody: aws.String(string(mustJSON(t, twice))),
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{
			"name":                    {DataType: aws.String("String"), StringValue: aws.String(contracts.NameTaskUpdated)},
			"_watermill_message_uuid": {DataType: aws.String("String"), StringValue: aws.String(twice.ID)},
		},
	})
	if err != nil || dup.MessageId == nil {
		t.Fatal(err)
	}
	eventtest.Eventually(t, 20*time.Second, "the duplicate delivered", func() bool { return got.count(twice.ID) == 2 })

	// The watcher drains the DLQ into the table and alerts once.
	alerts := &alerter{}
	w := &events.DLQWatcher{Store: c.store, Collector: snssqs.NewDeadLetterQueues(c.cfg, c.clients, c.res, c.store),
		Alerter: alerts, Logger: logger()}
	if err := w.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if n := c.queueDepth(t, q.DLQURL); n != 0 {
		t.Errorf("DLQ depth after collection = %d, want 0", n)
	}
	if len(alerts.got) != 1 || alerts.got[0].EventID != poison.ID || alerts.got[0].Queue != group ||
		!strings.Contains(alerts.got[0].LastError, "assignee does not exist") {
		t.Fatalf("alerts = %+v, want one for the poison event with its error", alerts.got)
	}

	// Fix, replay: back on the queue, handled once.
	fixed.Store(true)
	replayer := snssqs.NewDeadLetterQueues(c.cfg, c.clients, c.res, c.store)
	n, err := events.Replay(ctx, c.store, replayer, events.DeadLetterFilter{Queue: group}, nil)
	if err != nil || n != 1 {
		t.Fatalf("replay: %d, %v", n, err)
	}
	eventtest.Eventually(t, 20*time.Second, "the replayed event's effect", func() bool {
		return eventtest.Effects(t, db)[poison.ID] == 1
	})
	effects := eventtest.Effects(t, db)
	if effects[twice.ID] != 1 || effects[flaky.ID] != 1 || len(effects) != 3 {
		t.Errorf("effects = %v, want one per event", effects)
	}
	if left, _ := c.store.Count(ctx, events.DeadLetterFilter{}); left != 0 {
		t.Errorf("%d dead letters left after replay", left)
	}
}

type alerter struct {
	mu  sync.Mutex
	got []events.DeadLetter
}

func (a *alerter) Alert(_ context.Context, dl events.DeadLetter) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.got = append(a.got, dl)
	return nil
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
