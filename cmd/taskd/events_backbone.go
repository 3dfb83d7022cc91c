package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"go.uber.org/fx"

	"github.com/taskd/taskd/adapters/outbox"
	"github.com/taskd/taskd/adapters/prometheus"
	"github.com/taskd/taskd/adapters/snssqs"
	"github.com/taskd/taskd/adapters/sqlstore"
	"github.com/taskd/taskd/ports/events"
)

// EventsConfig tunes the event backbone (docs/events.md). LoadConfig fills
// Config.EventsTuning with parseEventsConfig.
type EventsConfig struct {
	// MaxReceiveCount is how many failed deliveries make a dead letter: the
	// SQS RedrivePolicy's maxReceiveCount, and the embedded twin of it
	// (TASKD_EVENTS_MAX_RECEIVE_COUNT, default 5).
	MaxReceiveCount int
	// RedeliveryBackoff is the wait before the first redelivery of a failed
	// event, doubling after each failure up to 10 minutes
	// (TASKD_EVENTS_REDELIVERY_BACKOFF, default 10s).
	RedeliveryBackoff time.Duration
	// VisibilityTimeout of the SQS queues taskd creates: how long a received
	// message stays hidden while it is handled, and so how soon a message
	// held by a crashed process is delivered again
	// (TASKD_EVENTS_VISIBILITY_TIMEOUT, default 30s).
	VisibilityTimeout time.Duration
	// DLQWatchInterval is how often the dead letters are looked at
	// (TASKD_DLQ_WATCH_INTERVAL, default 10s).
	DLQWatchInterval time.Duration
	// Probe runs the diagnostic handler group "probe", which records every
	// event it handles in event_probe (TASKD_EVENTS_PROBE, default false).
	Probe bool
}

// parseEventsConfig reads the TASKD_EVENTS_* tuning; LoadConfig calls it.
func parseEventsConfig(p *parser) EventsConfig {
	ec := EventsConfig{
		MaxReceiveCount:   p.integer("TASKD_EVENTS_MAX_RECEIVE_COUNT", 5),
		RedeliveryBackoff: p.duration("TASKD_EVENTS_REDELIVERY_BACKOFF", 10*time.Second),
		VisibilityTimeout: p.duration("TASKD_EVENTS_VISIBILITY_TIMEOUT", 30*time.Second),
		DLQWatchInterval:  p.duration("TASKD_DLQ_WATCH_INTERVAL", 10*time.Second),
		Probe:             p.boolean("TASKD_EVENTS_PROBE", false),
	}
	if ec.MaxReceiveCount < 1 || ec.MaxReceiveCount > 1000 {
		p.fail("TASKD_EVENTS_MAX_RECEIVE_COUNT", "must be between 1 and 1000 (SQS's limits)")
	}
	if ec.RedeliveryBackoff < 0 || ec.RedeliveryBackoff > 12*time.Hour {
		p.fail("TASKD_EVENTS_REDELIVERY_BACKOFF", "must be between 0s and 12h")
	}
	if ec.VisibilityTimeout < 5*time.Second || ec.VisibilityTimeout > 12*time.Hour {
		p.fail("TASKD_EVENTS_VISIBILITY_TIMEOUT", "must be between 5s and 12h")
	}
	if ec.DLQWatchInterval < 100*time.Millisecond {
		p.fail("TASKD_DLQ_WATCH_INTERVAL", "must be at least 100ms")
	}
	return ec
}

// withEventsOutbox fits db's outbox writer to the event transport: in the
// cloud the forwarder finds outbox rows by their relayed mark, so MySQL
// writers need not serialise on the outbox write lock; readers by offset
// (embedded) need it (adapters/outbox.Writer).
func withEventsOutbox(cfg Config, db *sqlstore.DB) *sqlstore.DB {
	if cfg.Events == "aws" {
		db.Outbox = db.Outbox.NoWriteLock()
	}
	return db
}

// eventBackbone is the event plumbing of one process: the transport the
// handler groups consume, the dead-letter store with its collector and
// replayer, and in the cloud the outbox → SNS forwarder.
type eventBackbone struct {
	store     *outbox.DeadLetters
	transport events.Transport
	collector events.DeadLetterCollector // nil when embedded
	replayer  events.DeadLetterReplayer
	forwarder *snssqs.Forwarder // nil when embedded
}

// newEventBackbone builds the backbone that cfg names. groups are the
// handler groups this process runs (their DLQs are collected even before
// their queues are found subscribed).
func newEventBackbone(ctx context.Context, cfg Config, db *sqlstore.DB, groups []string, m events.Metrics, logger *slog.Logger) (*eventBackbone, error) {
	tuning := cfg.EventsTuning
	backoff := outbox.RedeliveryBackoff(tuning.RedeliveryBackoff, 10*time.Minute)
	b := &eventBackbone{store: &outbox.DeadLetters{DB: db.SQL, Dialect: db.Dialect.Outbox}}
	switch cfg.Events {
	case "embedded":
		b.transport = outbox.EmbeddedTransport{
			DB: db.SQL, Dialect: db.Dialect.Outbox, JoinTx: sqlstore.ContextWithTx,
			PollInterval: 100 * time.Millisecond,
			Logger:       watermill.NewSlogLogger(logger.With("component", "outbox")),
			DeadLetters:  b.store, MaxAttempts: tuning.MaxReceiveCount, Backoff: backoff,
		}
		b.replayer = b.store
		return b, nil
	case "aws":
		awsCfg, err := snssqs.LoadAWSConfig(ctx)
		if err != nil {
			return nil, err
		}
		sc := snssqs.Config{
			Env: cfg.Env, CreateResources: cfg.CreateResources, MaxReceiveCount: tuning.MaxReceiveCount,
			VisibilityTimeout: tuning.VisibilityTimeout, RedeliveryBackoff: backoff,
			Logger: logger.With("component", "snssqs"),
		}
		if err := sc.Validate(); err != nil {
			return nil, err
		}
		clients := snssqs.NewClients(awsCfg)
		res := snssqs.NewResources(sc, clients)
		b.transport = snssqs.NewTransport(sc, clients, res, b.store)
		dlqs := snssqs.NewDeadLetterQueues(sc, clients, res, b.store)
		dlqs.Groups = groups
		b.collector, b.replayer = dlqs, dlqs
		b.forwarder, err = snssqs.NewForwarder(sc, clients, res, snssqs.ForwarderConfig{
			DB: db.SQL, Dialect: db.Dialect.Outbox, DeadLetters: b.store, Metrics: m, Logger: logger, Groups: groups,
		})
		if err != nil {
			return nil, err
		}
		return b, nil
	}
	return nil, fmt.Errorf("TASKD_EVENTS=%q: want embedded or aws", cfg.Events)
}

// eventBackboneIn is what the events module takes from the graph. Metrics
// and the dead-letter alerter are optional: without them nothing is
// counted and dead letters are logged at error level.
type eventBackboneIn struct {
	fx.In
	Lifecycle  fx.Lifecycle
	Shutdowner fx.Shutdowner
	Groups     []events.HandlerGroup `group:"event_groups"`
	DB         *sqlstore.DB
	Logger     *slog.Logger
	Metrics    events.Metrics           `optional:"true"`
	Alerter    events.DeadLetterAlerter `optional:"true"`
}

// eventBackboneModule runs, in a worker process: the handler groups on the
// configured transport, the outbox → SNS forwarder (cloud) and the
// dead-letter watcher. With TASKD_EVENTS_PROBE it adds the probe group.
func eventBackboneModule(cfg Config) fx.Option {
	opts := []fx.Option{
		// The Prometheus adapter (ops module) implements every hook.
		fx.Provide(func(m *prometheus.Metrics) events.Metrics { return m }),
		fx.Invoke(func(in eventBackboneIn) error { return startEventBackbone(cfg, in) }),
	}
	if cfg.EventsTuning.Probe {
		opts = append(opts, fx.Provide(fx.Annotate(probeGroup, fx.ResultTags(`group:"event_groups"`))))
	}
	return fx.Module("events", opts...)
}

func startEventBackbone(cfg Config, in eventBackboneIn) error {
	m := in.Metrics
	if m == nil {
		m = events.NopMetrics{}
	}
	alerter := in.Alerter
	if alerter == nil {
		alerter = events.LogAlerter{Logger: in.Logger.With("component", "dlq")}
	}
	names := make([]string, 0, len(in.Groups))
	for _, g := range in.Groups {
		names = append(names, g.Name)
	}
	b, err := newEventBackbone(context.Background(), cfg, in.DB, names, m, in.Logger)
	if err != nil {
		return err
	}
	var p *events.Processor
	if len(in.Groups) > 0 {
		if p, err = events.NewProcessor(b.transport, in.Groups, events.Config{Metrics: m}, in.Logger); err != nil {
			return err
		}
	}
	watcher := &events.DLQWatcher{
		Store: b.store, Collector: b.collector, Alerter: alerter, Metrics: m,
		Logger: in.Logger.With("component", "dlq"), Interval: cfg.EventsTuning.DLQWatchInterval,
	}
	// Long-running work gets an application context, not the start one.
	runCtx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	goRun := func(name string, run func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(runCtx); err != nil && runCtx.Err() == nil {
				in.Logger.Error(name+" stopped", slog.String("error", err.Error()))
				_ = in.Shutdowner.Shutdown(fx.ExitCode(1))
			}
		}()
	}
	in.Lifecycle.Append(fx.Hook{
		OnStart: func(context.Context) error {
			if p != nil {
				goRun("event processor", p.Run)
			}
			if b.forwarder != nil {
				goRun("outbox forwarder", b.forwarder.Run)
			}
			goRun("dead-letter watcher", watcher.Run)
			if om, ok := m.(events.OutboxMetrics); ok {
				goRun("outbox backlog sampler", func(ctx context.Context) error {
					sampleOutboxBacklog(ctx, in.DB, b.forwarder != nil, names, om, in.Logger)
					return nil
				})
			}
			in.Logger.Info("event backbone started", slog.String("transport", cfg.Events), slog.Int("groups", len(in.Groups)),
				slog.Int("max_receive_count", cfg.EventsTuning.MaxReceiveCount))
			return nil
		},
		OnStop: func(ctx context.Context) error {
			cancel()
			var errs []error
			if p != nil {
				errs = append(errs, p.Close())
			}
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			select {
			case <-done:
			case <-ctx.Done():
				errs = append(errs, errors.New("event backbone: stop timed out"))
			}
			return errors.Join(errs...)
		},
	})
	return nil
}

// sampleOutboxBacklog reports the outbox backlog every 15 seconds (the
// outboxAge alarm watches its oldest row's age): what the forwarder has not
// relayed (cloud), or what the slowest handler group has not consumed.
func sampleOutboxBacklog(ctx context.Context, db *sqlstore.DB, relay bool, groups []string, m events.OutboxMetrics, logger *slog.Logger) {
	t := time.NewTicker(15 * time.Second)
	defer t.Stop()
	for {
		var (
			n   int
			age time.Duration
			err error
		)
		if relay {
			n, age, err = outbox.RelayBacklog(ctx, db.SQL, db.Dialect.Outbox, snssqs.ForwarderGroup, time.Now())
		} else {
			n, age, err = outbox.Backlog(ctx, db.SQL, db.Dialect.Outbox, groups, time.Now())
		}
		if err != nil && ctx.Err() == nil {
			logger.Warn("sampling the outbox backlog", slog.String("error", err.Error()))
		} else if err == nil {
			m.SetOutbox(n, age)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
