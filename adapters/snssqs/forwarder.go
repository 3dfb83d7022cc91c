package snssqs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wsns "github.com/ThreeDotsLabs/watermill-aws/sns"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/components/forwarder"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"

	"github.com/taskd/taskd/adapters/outbox"
	"github.com/taskd/taskd/ports/events"
)

// ForwarderConfig configures the outbox → SNS relay.
type ForwarderConfig struct {
	DB      *sql.DB
	Dialect outbox.Dialect
	// ConsumerGroup is the forwarder's outbox offset (default "forwarder").
	ConsumerGroup string
	// PollInterval is how long an idle forwarder waits before reading the
	// outbox again (default 100ms).
	PollInterval time.Duration
	// AckDeadline bounds one publish (default 15s).
	AckDeadline time.Duration
	// ProbeInterval is how often an unreachable SNS is probed (default 1s).
	ProbeInterval time.Duration
	// Groups are the handler groups whose queues must be subscribed to the
	// topic before anything is relayed (SNS drops what reaches a topic
	// before a queue subscribes: on a first start, events would be lost).
	Groups []string
	// DeadLetters records events SNS refuses for good (too big, invalid);
	// nil logs them and retries forever.
	DeadLetters *outbox.DeadLetters
	Metrics     events.RelayMetrics
	Logger      *slog.Logger
}

// Forwarder relays the outbox to the events topic with watermill's
// components/forwarder: a watermill-sql subscriber reads the outbox
// (consumer group "forwarder", offsets in outbox_offsets), unwraps each
// envelope and publishes the event to SNS. An event leaves the outbox only
// once SNS has accepted it, so a crash or an SNS outage loses nothing (it
// is published again: consumers are idempotent).
//
// On MySQL it reads the rows not yet marked relayed FOR UPDATE SKIP LOCKED
// and marks them in the same transaction once published, so rows committed
// late are found later and several forwarders share the work
// (outbox.RelaySchemaAdapter); on SQLite it reads by offset without a
// transaction (see autocommit). Either way the forwarder must not sit
// retrying while SNS is unreachable: on the first failed publish it stops,
// the offset of what was published is saved, the API keeps writing to the
// outbox, and the forwarder probes SNS and starts again when it answers.
type Forwarder struct {
	cfg     Config
	fc      ForwarderConfig
	clients Clients
	res     *Resources
	logger  *slog.Logger
	wlog    watermill.LoggerAdapter
}

// NewForwarder returns the relay; Run runs it.
func NewForwarder(cfg Config, clients Clients, res *Resources, fc ForwarderConfig) (*Forwarder, error) {
	cfg.setDefaults()
	if fc.DB == nil {
		return nil, errors.New("snssqs: the forwarder needs the database")
	}
	if fc.ConsumerGroup == "" {
		fc.ConsumerGroup = ForwarderGroup
	}
	if fc.PollInterval <= 0 {
		fc.PollInterval = 100 * time.Millisecond
	}
	if fc.AckDeadline <= 0 {
		fc.AckDeadline = 15 * time.Second
	}
	if fc.ProbeInterval <= 0 {
		fc.ProbeInterval = time.Second
	}
	if fc.Metrics == nil {
		fc.Metrics = events.NopMetrics{}
	}
	logger := fc.Logger
	if logger == nil {
		logger = cfg.Logger
	}
	logger = logger.With("component", "forwarder")
	return &Forwarder{
		cfg: cfg, fc: fc, clients: clients, res: res, logger: logger,
		wlog: watermill.NewSlogLoggerWithLevelMapping(logger, map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug}),
	}, nil
}

// Run relays until ctx ends.
func (f *Forwarder) Run(ctx context.Context) error {
	down := false
	for ctx.Err() == nil {
		topicARN, err := f.probe(ctx)
		if err != nil {
			if !down {
				f.logger.Warn("SNS unreachable; events wait in the outbox", slog.String("error", err.Error()))
				down = true
			}
			select {
			case <-ctx.Done():
			case <-time.After(f.fc.ProbeInterval):
			}
			continue
		}
		if down {
			f.logger.Info("SNS reachable again; relaying the outbox")
			down = false
		}
		if err := f.runOnce(ctx, topicARN); err != nil && ctx.Err() == nil {
			f.logger.Warn("forwarder paused", slog.String("error", err.Error()))
			down = true
			select {
			case <-ctx.Done():
			case <-time.After(f.fc.ProbeInterval):
			}
		}
	}
	return nil
}

// probe resolves the topic and the groups' queues (creating them when
// allowed) and checks that SNS answers.
func (f *Forwarder) probe(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, snsRequestTimeout)
	defer cancel()
	arn, err := f.res.TopicARN(ctx)
	if err != nil {
		return "", err
	}
	for _, g := range f.fc.Groups {
		if _, err := f.res.Queue(ctx, g); err != nil {
			return "", fmt.Errorf("queue of %s not ready: %w", g, err)
		}
	}
	if _, err := f.clients.SNS.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(arn)}); err != nil {
		return "", err
	}
	return arn, nil
}

// runOnce runs a watermill forwarder until ctx ends (nil) or a publish
// fails for a reason other than the event itself (the error).
func (f *Forwarder) runOnce(ctx context.Context, topicARN string) error {
	deadline := f.fc.AckDeadline
	var db wsql.Beginner = wsql.BeginnerFromStdSQL(f.fc.DB)
	if f.fc.Dialect == outbox.SQLite {
		db = autocommit{f.fc.DB}
	}
	sub, err := wsql.NewSubscriber(db, wsql.SubscriberConfig{
		ConsumerGroup:  f.fc.ConsumerGroup,
		PollInterval:   f.fc.PollInterval,
		ResendInterval: f.fc.PollInterval,
		RetryInterval:  time.Second,
		AckDeadline:    &deadline,
		SchemaAdapter:  outbox.RelaySchemaAdapter(f.fc.Dialect),
		OffsetsAdapter: outbox.RelayOffsetsAdapter(f.fc.Dialect),
	}, f.wlog)
	if err != nil {
		return fmt.Errorf("outbox reader: %w", err)
	}
	pub, err := wsns.NewPublisher(wsns.PublisherConfig{
		AWSConfig:                   f.clients.AWS,
		OptFns:                      forwarderSNSOptions(),
		TopicResolver:               fixedTopic(topicARN),
		Marshaler:                   publishMarshaler{},
		DoNotCreateTopicIfNotExists: true, // Resources made it
	}, f.wlog)
	if err != nil {
		return err
	}
	failed := make(chan error, 1)
	guard := &guardedPublisher{next: pub, f: f, failed: failed}
	fwd, err := forwarder.NewForwarder(sub, guard, f.wlog, forwarder.Config{
		ForwarderTopic: outbox.Topic,
		// A row that is not an envelope can never be relayed: skip it
		// rather than block the outbox behind it (it is logged).
		AckWhenCannotUnwrap: true,
		CloseTimeout:        snsRequestTimeout + 5*time.Second,
	})
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- fwd.Run(runCtx) }()
	var result error
	select {
	case <-ctx.Done():
	case result = <-failed:
	case result = <-done:
		if result == nil {
			result = errors.New("forwarder stopped")
		}
		return result
	}
	// Closing makes the outbox reader give up the message in flight; its
	// transaction commits the offsets of what was published before.
	if err := fwd.Close(); err != nil {
		f.logger.Warn("closing the forwarder", slog.String("error", err.Error()))
	}
	<-done
	return result
}

// autocommit is a watermill-sql Beginner whose transactions are not: each
// statement runs on its own. The SQLite forwarder reads with it. SQLite
// transactions take the database's one write lock at BEGIN, and the reader
// would hold it while it publishes a whole batch to SNS — seconds when SNS is
// slow, during which no API request can write. Without a transaction the
// batch is read from a snapshot (one statement), published, and the offset
// saved by one short write: a crash in between publishes the batch again
// (consumers are idempotent). Nothing is skipped: SQLite commits rows in
// offset order (one writer at a time), and only one process forwards an
// SQLite database.
type autocommit struct{ db *sql.DB }

func (a autocommit) BeginTx(context.Context, *sql.TxOptions) (wsql.Tx, error) { return a, nil }

func (a autocommit) ExecContext(ctx context.Context, q string, args ...any) (wsql.Result, error) {
	return a.db.ExecContext(ctx, q, args...)
}

func (a autocommit) QueryContext(ctx context.Context, q string, args ...any) (wsql.Rows, error) {
	return a.db.QueryContext(ctx, q, args...)
}

func (a autocommit) Commit() error   { return nil }
func (a autocommit) Rollback() error { return nil }

// guardedPublisher publishes to SNS, counts, records events SNS refuses for
// good as dead letters, and on any other failure reports it once and fails
// every later publish at once, so the forwarder can stop quickly.
type guardedPublisher struct {
	next   message.Publisher
	f      *Forwarder
	failed chan<- error

	mu   sync.Mutex
	down error
}

func (g *guardedPublisher) Publish(topic string, msgs ...*message.Message) error {
	g.mu.Lock()
	down := g.down
	g.mu.Unlock()
	if down != nil {
		return down
	}
	for _, m := range msgs {
		err := g.next.Publish(topic, m)
		if err == nil {
			g.f.fc.Metrics.EventsRelayed(1)
			continue
		}
		if refused(err) && g.f.fc.DeadLetters != nil {
			g.f.logger.Error("SNS refused an event; recorded as a dead letter of the forwarder",
				slog.String("event_id", m.UUID), slog.String("event", m.Metadata.Get(outbox.MetaName)),
				slog.String("error", err.Error()))
			if _, rerr := g.f.fc.DeadLetters.Record(context.Background(), nil, outbox.Failure{
				Queue: ForwarderGroup, Msg: m, Error: err.Error(), Dead: true, Attempts: 1, Source: outbox.SourceSNS,
			}); rerr == nil {
				continue
			}
		}
		g.mu.Lock()
		if g.down == nil {
			g.down = err
			g.failed <- err
		}
		g.mu.Unlock()
		return err
	}
	return nil
}

func (g *guardedPublisher) Close() error { return g.next.Close() }

// refused tells whether SNS rejected the message itself (no retry helps),
// as opposed to being unreachable, throttling or misconfigured.
func refused(err error) bool {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return false
	}
	switch api.ErrorCode() {
	case "InvalidParameter", "InvalidParameterValue", "ParameterValueInvalid", "ValidationError":
		return true
	}
	return false
}
