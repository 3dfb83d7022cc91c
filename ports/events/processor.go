// Package events is the driving side for events: a watermill router whose
// handler groups call the modules' event handlers. Which transport feeds it
// (the outbox itself when embedded, SQS queues in the cloud) is decided by
// the composition root and handed in as a Transport; the handlers, the
// middleware and the guarantees are the same on both (docs/events.md).
package events

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/components/cqrs"
	"github.com/ThreeDotsLabs/watermill/message"
)

// HandlerGroup is one consumer: one SQS queue (and its DLQ) in the cloud,
// one outbox offset when embedded. Its Name is persistent — it names the
// queue, the offset, the processed-event keys and the dead letters — so
// never derive it from Go identifiers. Letters, digits, '-' and '_' only.
type HandlerGroup struct {
	Name     string
	Handlers []cqrs.GroupEventHandler
}

// Transport hands each group its subscriber.
type Transport interface {
	// Subscriber returns the subscriber that feeds group.
	Subscriber(group string) (message.Subscriber, error)
	// Topic is the topic group subscribes to.
	Topic(group string) string
	// Middlewares run around every handler attempt, innermost (e.g. joining
	// the transaction that acknowledges an outbox message).
	Middlewares() []message.HandlerMiddleware
}

// Settler is implemented by transports that decide what becomes of a
// delivery once the in-process retries are over. Settle is called once per
// delivery with the group, the message and the handler's final error (nil
// on success); what it returns is what the transport sees: nil acks, an
// error nacks. The SQS transport makes a failed message visible again after
// a backoff (at once for a permanent error, so redrive moves it to the DLQ
// after maxReceiveCount receives without waiting); the embedded transport
// moves it out of the group's stream into its dead-letter table and acks, so
// one poison event never blocks the events behind it.
//
// A transport that is not a Settler gets plain ack/nack.
type Settler interface {
	Settle(group string, msg *message.Message, err error) error
}

// Marshaler decodes events by the stable name in the "name" metadata: every
// contracts event type has a Name() method.
var Marshaler = cqrs.JSONMarshaler{GenerateName: cqrs.NamedStruct(cqrs.StructName)}

// Config tunes retries and observability; zero values take defaults.
type Config struct {
	// MaxRetries is how often a failing handler is retried in-process (with
	// exponential backoff) before the delivery is settled as failed. Keep it
	// small: when embedded the attempt holds the database transaction that
	// acknowledges the message. Default 3.
	MaxRetries int
	// InitialInterval is the first in-process backoff (default 50ms),
	// doubling up to MaxInterval (default 500ms).
	InitialInterval time.Duration
	MaxInterval     time.Duration
	// Metrics receives consumed and retry counts; nil counts nothing.
	Metrics ConsumerMetrics
	// CloseTimeout bounds how long Close waits for handlers in flight
	// (default 15s).
	CloseTimeout time.Duration
}

func (c *Config) setDefaults() {
	if c.MaxRetries == 0 {
		c.MaxRetries = 3
	}
	if c.MaxRetries < 0 {
		c.MaxRetries = 0
	}
	if c.InitialInterval == 0 {
		c.InitialInterval = 50 * time.Millisecond
	}
	if c.MaxInterval == 0 {
		c.MaxInterval = 500 * time.Millisecond
	}
	if c.Metrics == nil {
		c.Metrics = NopMetrics{}
	}
	if c.CloseTimeout == 0 {
		c.CloseTimeout = 15 * time.Second
	}
}

// Processor runs the handler groups.
type Processor struct {
	router *message.Router
}

// NewProcessor builds a router and registers every group on t. Around every
// delivery, outermost first:
//
//	correlation id → settle (failure log; the transport's Settler) →
//	consumed metrics → retry with backoff (not for Permanent errors) →
//	recoverer (a panic is a Permanent error) → the transport's
//	middlewares → the handler.
func NewProcessor(t Transport, groups []HandlerGroup, cfg Config, logger *slog.Logger) (*Processor, error) {
	cfg.setDefaults()
	wlog := quietHandlerErrors{watermill.NewSlogLoggerWithLevelMapping(logger.With("component", "events"), map[slog.Level]slog.Level{
		slog.LevelInfo: slog.LevelDebug,
	})}
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: cfg.CloseTimeout}, wlog)
	if err != nil {
		return nil, err
	}
	router.AddMiddleware(
		CorrelationID,
		settle(t, logger),
		observe(cfg.Metrics),
		retry(cfg),
		Recoverer,
	)
	for _, mw := range t.Middlewares() {
		router.AddMiddleware(mw)
	}
	gp, err := cqrs.NewEventGroupProcessorWithConfig(router, cqrs.EventGroupProcessorConfig{
		GenerateSubscribeTopic: func(p cqrs.EventGroupProcessorGenerateSubscribeTopicParams) (string, error) {
			return t.Topic(p.EventGroupName), nil
		},
		SubscriberConstructor: func(p cqrs.EventGroupProcessorSubscriberConstructorParams) (message.Subscriber, error) {
			return t.Subscriber(p.EventGroupName)
		},
		AckOnUnknownEvent: true,
		Marshaler:         Marshaler,
		Logger:            wlog,
	})
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, g := range groups {
		if err := ValidGroupName(g.Name); err != nil {
			return nil, err
		}
		if seen[g.Name] {
			return nil, fmt.Errorf("handler group %s is registered twice", g.Name)
		}
		seen[g.Name] = true
		if err := gp.AddHandlersGroup(g.Name, g.Handlers...); err != nil {
			return nil, fmt.Errorf("handler group %s: %w", g.Name, err)
		}
	}
	return &Processor{router: router}, nil
}

// ReservedGroupName is the outbox consumer group of the cloud's forwarder
// (and the queue of the dead letters it records): no handler group may
// take it.
const ReservedGroupName = "forwarder"

// ValidGroupName checks that name can name an SQS queue with its "-dlq"
// twin under a prefix of up to 40 characters (80 characters at most).
func ValidGroupName(name string) error {
	if name == ReservedGroupName {
		return fmt.Errorf("handler group name %q is reserved for the outbox forwarder", name)
	}
	if name == "" || len(name) > 30 {
		return fmt.Errorf("handler group name %q: 1 to 30 characters", name)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return fmt.Errorf("handler group name %q: letters, digits, '-' and '_' only", name)
		}
	}
	return nil
}

// Run blocks until ctx ends or the router stops.
func (p *Processor) Run(ctx context.Context) error { return p.router.Run(ctx) }

// Running is closed once every handler is subscribed.
func (p *Processor) Running() chan struct{} { return p.router.Running() }

// Close stops the router, waiting for handlers in flight.
func (p *Processor) Close() error { return p.router.Close() }

// quietHandlerErrors logs the router's "Handler returned error" at debug
// level: the settle middleware has logged that failure already, once per
// delivery, with the event's name, id and correlation id.
type quietHandlerErrors struct{ watermill.LoggerAdapter }

func (q quietHandlerErrors) Error(msg string, err error, fields watermill.LogFields) {
	if msg == "Handler returned error" {
		q.LoggerAdapter.Debug(msg, fields.Add(watermill.LogFields{"error": err}))
		return
	}
	q.LoggerAdapter.Error(msg, err, fields)
}

func (q quietHandlerErrors) With(fields watermill.LogFields) watermill.LoggerAdapter {
	return quietHandlerErrors{q.LoggerAdapter.With(fields)}
}
