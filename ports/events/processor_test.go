package events_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/components/cqrs"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	"github.com/taskd/taskd/modules/kernel/event"
	"github.com/taskd/taskd/ports/events"
)

// pinged is a test event.
type pinged struct {
	event.Meta
	N int `json:"n"`
}

func (pinged) Name() string { return "Pinged" }

// chanTransport feeds every group from one in-memory topic and records
// what the processor settles.
type chanTransport struct {
	pubsub *gochannel.GoChannel

	mu      sync.Mutex
	settled []settlement
	settle  func(err error) error
}

type settlement struct {
	group string
	id    string
	err   error
}

func newChanTransport() *chanTransport {
	return &chanTransport{pubsub: gochannel.NewGoChannel(gochannel.Config{}, watermill.NopLogger{})}
}

func (t *chanTransport) Subscriber(string) (message.Subscriber, error) { return t.pubsub, nil }
func (t *chanTransport) Topic(string) string                           { return "events" }
func (t *chanTransport) Middlewares() []message.HandlerMiddleware      { return nil }

func (t *chanTransport) Settle(group string, msg *message.Message, err error) error {
	t.mu.Lock()
	t.settled = append(t.settled, settlement{group, msg.UUID, err})
	t.mu.Unlock()
	if t.settle != nil {
		return t.settle(err)
	}
	return nil // take charge: ack
}

func (t *chanTransport) settlements() []settlement {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]settlement(nil), t.settled...)
}

type countingMetrics struct {
	mu       sync.Mutex
	consumed map[string]int
	retried  map[string]int
}

func newCountingMetrics() *countingMetrics {
	return &countingMetrics{consumed: map[string]int{}, retried: map[string]int{}}
}

func (m *countingMetrics) EventConsumed(group, ev string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.consumed[group+"/"+ev]++
}

func (m *countingMetrics) EventRetried(group string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.retried[group]++
}

func (m *countingMetrics) get(which map[string]int, k string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return which[k]
}

func publish(t *testing.T, tr *chanTransport, id string, n int) {
	t.Helper()
	e := pinged{Meta: event.Meta{ID: id, Type: "Pinged", AggregateID: "a1", Sequence: int64(n)}, N: n}
	b, err := events.Marshaler.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	b.UUID = id
	if err := tr.pubsub.Publish("events", b); err != nil {
		t.Fatal(err)
	}
}

func runProcessor(t *testing.T, tr events.Transport, cfg events.Config, handle func(ctx context.Context, e *pinged) error) {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	p, err := events.NewProcessor(tr, []events.HandlerGroup{{
		Name:     "test-group",
		Handlers: []cqrs.GroupEventHandler{cqrs.NewGroupEventHandler(handle)},
	}}, cfg, logger)
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
	case <-time.After(5 * time.Second):
		t.Fatal("processor did not start")
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestProcessorRetriesTransientErrorsThenSucceeds(t *testing.T) {
	t.Parallel()
	tr := newChanTransport()
	m := newCountingMetrics()
	var (
		mu       sync.Mutex
		attempts int
		gotCID   string
		gotGroup string
	)
	runProcessor(t, tr, events.Config{InitialInterval: time.Millisecond, Metrics: m}, func(ctx context.Context, e *pinged) error {
		mu.Lock()
		defer mu.Unlock()
		attempts++
		gotCID, gotGroup = events.CorrelationIDFromContext(ctx), events.GroupFromContext(ctx)
		if attempts < 3 {
			return errors.New("database hiccup")
		}
		return nil
	})
	publish(t, tr, "ev-1", 1)
	waitFor(t, "settlement", func() bool { return len(tr.settlements()) == 1 })
	s := tr.settlements()[0]
	if s.err != nil || s.group != "test-group" || s.id != "ev-1" {
		t.Fatalf("settled %+v, want success of ev-1 in test-group", s)
	}
	mu.Lock()
	defer mu.Unlock()
	if attempts != 3 {
		t.Errorf("attempts = %d, want 3", attempts)
	}
	if gotCID != "ev-1" || gotGroup != "test-group" {
		t.Errorf("correlation id %q, group %q; want the event id and the group", gotCID, gotGroup)
	}
	if n := m.get(m.retried, "test-group"); n != 2 {
		t.Errorf("retries counted = %d, want 2", n)
	}
	if n := m.get(m.consumed, "test-group/Pinged"); n != 1 {
		t.Errorf("consumed counted = %d, want 1", n)
	}
}

func TestProcessorGivesUpAfterMaxRetries(t *testing.T) {
	t.Parallel()
	tr := newChanTransport()
	m := newCountingMetrics()
	var mu sync.Mutex
	attempts := 0
	runProcessor(t, tr, events.Config{MaxRetries: 2, InitialInterval: time.Millisecond, Metrics: m}, func(ctx context.Context, e *pinged) error {
		mu.Lock()
		defer mu.Unlock()
		attempts++
		return errors.New("still down")
	})
	publish(t, tr, "ev-2", 1)
	waitFor(t, "settlement", func() bool { return len(tr.settlements()) == 1 })
	if s := tr.settlements()[0]; s.err == nil || events.IsPermanent(s.err) {
		t.Fatalf("settled with %v, want the transient error", s.err)
	}
	mu.Lock()
	defer mu.Unlock()
	if attempts != 3 {
		t.Errorf("attempts = %d, want 1 + 2 retries", attempts)
	}
	if n := m.get(m.consumed, "test-group/Pinged"); n != 0 {
		t.Errorf("a failed event was counted consumed")
	}
}

func TestProcessorDoesNotRetryPermanentErrorsAndPanics(t *testing.T) {
	t.Parallel()
	tr := newChanTransport()
	var mu sync.Mutex
	attempts := map[int]int{}
	runProcessor(t, tr, events.Config{InitialInterval: time.Millisecond}, func(ctx context.Context, e *pinged) error {
		mu.Lock()
		attempts[e.N]++
		mu.Unlock()
		if e.N == 1 {
			return events.Permanent(errors.New("no such user"))
		}
		var m map[string]int
		m["boom"]++ // a bug: nil map
		return nil
	})
	publish(t, tr, "ev-3", 1)
	publish(t, tr, "ev-4", 2)
	waitFor(t, "settlements", func() bool { return len(tr.settlements()) == 2 })
	for _, s := range tr.settlements() {
		if !events.IsPermanent(s.err) {
			t.Errorf("%s settled with %v, want a permanent error", s.id, s.err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if attempts[1] != 1 || attempts[2] != 1 {
		t.Errorf("attempts = %v, want one each", attempts)
	}
}

func TestProcessorNacksWhatTheTransportDoesNotSettle(t *testing.T) {
	t.Parallel()
	tr := newChanTransport()
	tr.settle = func(err error) error { return err } // give it back
	var mu sync.Mutex
	calls := 0
	runProcessor(t, tr, events.Config{MaxRetries: -1}, func(ctx context.Context, e *pinged) error {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			return errors.New("first delivery fails")
		}
		return nil
	})
	publish(t, tr, "ev-5", 1)
	// gochannel redelivers a nacked message: the second delivery succeeds.
	waitFor(t, "redelivery", func() bool {
		s := tr.settlements()
		return len(s) == 2 && s[1].err == nil
	})
}

func TestValidGroupName(t *testing.T) {
	t.Parallel()
	for name, ok := range map[string]bool{
		"notifications": true, "analytics-log": true, "a_b": true,
		"": false, "has space": false, "dots.no": false, "forwarder": false, "this-name-is-far-too-long-for-a-queue": false,
	} {
		if err := events.ValidGroupName(name); (err == nil) != ok {
			t.Errorf("ValidGroupName(%q) = %v", name, err)
		}
	}
}
