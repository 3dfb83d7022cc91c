package snssqs_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/components/cqrs"

	"github.com/taskd/taskd/adapters/eventtest"
	"github.com/taskd/taskd/adapters/outbox"
	"github.com/taskd/taskd/adapters/snssqs"
	"github.com/taskd/taskd/adapters/sqlstore"
	"github.com/taskd/taskd/modules/kernel/event"
	"github.com/taskd/taskd/modules/tasks/contracts"
	"github.com/taskd/taskd/ports/events"
)

// BenchmarkPipeline measures the event backbone end to end on this
// machine: events committed to the outbox (one transaction each, through the
// real writer) until an idempotent consumer (ProcessOnce + one row) has
// handled them, embedded (outbox → handler group) and cloud (outbox →
// forwarder → SNS → SQS → handler group, against the fauxqs stand-in).
//
//	go test -run '^$' -bench Pipeline -benchtime 2000x ./adapters/snssqs/
//
// "drain": b.N events are committed first, then the pipeline starts: the
// rate it empties a backlog (events/s). "latency": events committed one by
// one at a steady 50/s: commit-to-handler latency p50 and p99 (ms).
// Not a timed test: it runs only with -bench.
func BenchmarkPipeline(b *testing.B) {
	for _, mode := range []string{"embedded", "aws"} {
		for _, dialect := range []string{"sqlite", "mysql"} {
			open := eventtest.SQLite
			if dialect == "mysql" {
				open = eventtest.MySQL
			}
			b.Run(mode+"/"+dialect+"/drain", func(b *testing.B) { benchDrain(b, mode, open) })
			b.Run(mode+"/"+dialect+"/latency", func(b *testing.B) { benchLatency(b, mode, open) })
		}
	}
}

// pipeline is a running backbone with one consumer group "bench".
type pipeline struct {
	relayed relayCounter
	db      *sqlstore.DB
	mu      sync.Mutex
	handled map[string]time.Time
	done    chan struct{}
	want    int
}

func (p *pipeline) handle(ctx context.Context, e *contracts.TaskUpdated) error {
	err := eventtest.Effect(ctx, p.db, events.GroupFromContext(ctx), e.ID)
	if err != nil {
		return err
	}
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.handled[e.ID]; !ok {
		p.handled[e.ID] = now
		if len(p.handled) == p.want {
			close(p.done)
		}
	}
	return nil
}

func startPipeline(b *testing.B, mode string, db *sqlstore.DB, want int) (*pipeline, func()) {
	b.Helper()
	eventtest.CreateEffects(b, db)
	p := &pipeline{db: db, handled: map[string]time.Time{}, done: make(chan struct{}), want: want}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	var (
		tr  events.Transport
		fwd interface{ Run(context.Context) error }
	)
	switch mode {
	case "embedded":
		tr = outbox.EmbeddedTransport{DB: db.SQL, Dialect: db.Dialect.Outbox, JoinTx: sqlstore.ContextWithTx,
			PollInterval: 100 * time.Millisecond, DeadLetters: &outbox.DeadLetters{DB: db.SQL, Dialect: db.Dialect.Outbox}}
	case "aws":
		c := newCloud(b, db)
		c.cfg.ConsumeWorkers = 0 // the production default
		tr = snssqs.NewTransport(c.cfg, c.clients, c.res, c.store)
		f, err := snssqs.NewForwarder(c.cfg, c.clients, c.res, snssqs.ForwarderConfig{
			DB: db.SQL, Dialect: db.Dialect.Outbox, Groups: []string{"bench"}, DeadLetters: c.store, Metrics: &p.relayed,
		})
		if err != nil {
			b.Fatal(err)
		}
		fwd = f
	}
	proc, err := events.NewProcessor(tr, []events.HandlerGroup{{
		Name: "bench", Handlers: []cqrs.GroupEventHandler{cqrs.NewGroupEventHandler(p.handle)},
	}}, events.Config{}, logger)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	start := func() {
		wg.Add(1)
		go func() { defer wg.Done(); _ = proc.Run(ctx) }()
		if fwd != nil {
			wg.Add(1)
			go func() { defer wg.Done(); _ = fwd.Run(ctx) }()
		}
		<-proc.Running()
	}
	b.Cleanup(func() {
		cancel()
		_ = proc.Close()
		wg.Wait()
	})
	return p, start
}

func benchDrain(b *testing.B, mode string, open func(testing.TB) *sqlstore.DB) {
	db := open(b)
	p, start := startPipeline(b, mode, db, b.N)
	evs := make([]event.Event, b.N)
	for i := range evs {
		evs[i] = eventtest.TaskEvent(fmt.Sprintf("agg-%d", i%50), int64(i/50+1))
	}
	// Commit in transactions of 10, as a burst of API writes would.
	for i := 0; i < len(evs); i += 10 {
		eventtest.Append(b, db, evs[i:min(i+10, len(evs))]...)
	}
	b.ResetTimer()
	t0 := time.Now()
	start()
	select {
	case <-p.done:
	case <-time.After(10 * time.Minute):
		b.Fatalf("handled %d of %d", len(p.handled), b.N)
	}
	elapsed := time.Since(t0)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	if at := p.relayed.doneAt(b.N); !at.IsZero() {
		b.ReportMetric(float64(b.N)/at.Sub(t0).Seconds(), "relayed/s")
	}
}

func benchLatency(b *testing.B, mode string, open func(testing.TB) *sqlstore.DB) {
	db := open(b)
	p, start := startPipeline(b, mode, db, b.N)
	start()
	committed := make(map[string]time.Time, b.N)
	tick := time.NewTicker(20 * time.Millisecond) // 50 events/s
	defer tick.Stop()
	b.ResetTimer()
	for i := range b.N {
		<-tick.C
		e := eventtest.TaskEvent(fmt.Sprintf("agg-%d", i%50), int64(i/50+1))
		eventtest.Append(b, db, e)
		committed[e.ID] = time.Now()
	}
	select {
	case <-p.done:
	case <-time.After(5 * time.Minute):
		b.Fatalf("handled %d of %d", len(p.handled), b.N)
	}
	b.StopTimer()
	lat := make([]time.Duration, 0, b.N)
	p.mu.Lock()
	for id, at := range p.handled {
		lat = append(lat, at.Sub(committed[id]))
	}
	p.mu.Unlock()
	slices.Sort(lat)
	ms := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))]) / float64(time.Millisecond) }
	b.ReportMetric(ms(0.50), "p50_ms")
	b.ReportMetric(ms(0.99), "p99_ms")
	b.ReportMetric(0, "ns/op")
}

// relayCounter notes when the forwarder has relayed n events.
type relayCounter struct {
	mu    sync.Mutex
	n     int
	times []time.Time
}

func (r *relayCounter) EventsRelayed(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for range n {
		r.n++
		r.times = append(r.times, time.Now())
	}
}

func (r *relayCounter) doneAt(n int) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.times) < n {
		return time.Time{}
	}
	return r.times[n-1]
}
