package snssqs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wsns "github.com/ThreeDotsLabs/watermill-aws/sns"
	wsqs "github.com/ThreeDotsLabs/watermill-aws/sqs"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/taskd/taskd/adapters/outbox"
	"github.com/taskd/taskd/ports/events"
)

// Transport is the cloud's events.Transport: handler group g consumes the
// SQS queue <env>-g, subscribed to the events topic. It is an
// events.Settler: a failed message is made visible again after a backoff
// that grows with its receive count (at once for a Permanent error, so that
// redrive moves it to the DLQ after maxReceiveCount receives without
// waiting); on the last receive before the DLQ the failure and its error
// are recorded in the dead-letter table, for the alert and `taskd dlq`.
type Transport struct {
	cfg     Config
	clients Clients
	res     *Resources
	store   *outbox.DeadLetters
	wlog    watermill.LoggerAdapter
}

var (
	_ events.Transport = (*Transport)(nil)
	_ events.Settler   = (*Transport)(nil)
)

// NewTransport returns the SQS transport. store may be nil (no error text
// with the dead letters then; the DLQ watcher still collects them).
func NewTransport(cfg Config, clients Clients, res *Resources, store *outbox.DeadLetters) *Transport {
	cfg.setDefaults()
	return &Transport{
		cfg: cfg, clients: clients, res: res, store: store,
		// The SQS subscriber logs every failed receive at error level (once
		// a second per worker while SQS is unreachable); a warning is what
		// that is: it retries, and nothing is lost.
		wlog: watermill.NewSlogLoggerWithLevelMapping(cfg.Logger.With("component", "sqs"), map[slog.Level]slog.Level{
			slog.LevelInfo:  slog.LevelDebug,
			slog.LevelError: slog.LevelWarn,
		}),
	}
}

// Subscriber returns group's subscriber. The queue (with DLQ and
// subscription) is resolved when the router subscribes, retrying while AWS
// is unreachable, so a broker outage at start delays consumption instead of
// failing the process (the API keeps writing to the outbox).
func (t *Transport) Subscriber(group string) (message.Subscriber, error) {
	if err := events.ValidGroupName(group); err != nil {
		return nil, err
	}
	return &lazySubscriber{t: t, group: group}, nil
}

// Topic is the logical topic name; the subscriber resolves it to the
// events topic's ARN.
func (t *Transport) Topic(string) string { return outbox.EventsTopic }

// Middlewares: none; SQS needs no transaction around the handler.
func (t *Transport) Middlewares() []message.HandlerMiddleware { return nil }

// Settle implements events.Settler (see the type's comment).
func (t *Transport) Settle(group string, msg *message.Message, err error) error {
	if err == nil {
		return nil
	}
	q, ok := t.res.cached(group)
	receipt := msg.Metadata.Get(MetaReceiptHandle)
	if !ok || receipt == "" {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(msg.Context()), 10*time.Second)
	defer cancel()
	count := atoi(msg.Metadata.Get(MetaReceiveCount))
	var wait time.Duration
	if !events.IsPermanent(err) {
		wait = t.cfg.RedeliveryBackoff(count)
	}
	var errs []error
	if count >= q.MaxReceiveCount {
		// SQS moves it to the DLQ on its next receive: keep the reason with
		// the dead letter, and let that receive come at once.
		wait = 0
		if t.store != nil {
			if _, rerr := t.store.Record(ctx, nil, outbox.Failure{
				Queue: group, Msg: msg, Error: err.Error(), Dead: true, Attempts: count, Source: outbox.SourceSQS,
			}); rerr != nil {
				errs = append(errs, rerr)
			}
		}
	}
	if _, verr := t.clients.SQS.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(q.URL), ReceiptHandle: aws.String(receipt),
		VisibilityTimeout: int32(min(wait, 12*time.Hour).Seconds()),
	}); verr != nil {
		errs = append(errs, fmt.Errorf("changing the visibility of a failed message: %w", verr))
	}
	if len(errs) > 0 {
		t.cfg.Logger.Warn("settling a failed SQS message", slog.String("group", group),
			slog.String("event_id", msg.UUID), slog.String("error", errors.Join(errs...).Error()))
	}
	return err
}

// lazySubscriber resolves its queue in the background: Subscribe returns
// at once, so one group whose queue is missing or unreachable (AWS down at
// start, TASKD_CREATE_RESOURCES=false and no queue yet) delays only itself,
// not the router's other groups nor the process start.
type lazySubscriber struct {
	t     *Transport
	group string

	mu      sync.Mutex
	sub     *wsns.Subscriber
	closed  bool
	closing chan struct{}
	wg      sync.WaitGroup
}

func (s *lazySubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("subscriber closed")
	}
	if s.closing == nil {
		s.closing = make(chan struct{})
	}
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-s.closing:
		case <-ctx.Done():
		}
		cancel()
	}()
	out := make(chan *message.Message)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(out)
		in, err := s.subscribe(ctx, topic)
		if err != nil {
			if ctx.Err() == nil {
				s.t.cfg.Logger.Error("subscribing to SQS", slog.String("group", s.group), slog.String("error", err.Error()))
			}
			return
		}
		// Pass the messages on: they are the same objects, so acks and
		// nacks reach the SQS subscriber.
		for msg := range in {
			select {
			case out <- msg:
			case <-ctx.Done():
				msg.Nack()
			}
		}
	}()
	return out, nil
}

func (s *lazySubscriber) subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	q, err := s.t.resolve(ctx, s.group)
	if err != nil {
		return nil, err
	}
	topicARN, err := s.t.res.TopicARN(ctx)
	if err != nil {
		return nil, err
	}
	sub, err := wsns.NewSubscriber(wsns.SubscriberConfig{
		AWSConfig:     s.t.clients.AWS,
		OptFns:        snsOptions(),
		TopicResolver: fixedTopic(topicARN),
		GenerateSqsQueueName: func(context.Context, wsns.TopicArn) (string, error) {
			return q.Name, nil
		},
		// Resources made the queue, its DLQ and the subscription already.
		DoNotCreateSqsSubscription: true,
	}, wsqs.SubscriberConfig{
		AWSConfig:                   s.t.clients.AWS,
		OptFns:                      sqsOptions(),
		DoNotCreateQueueIfNotExists: true,
		QueueUrlResolver:            fixedQueue{name: q.Name, url: q.URL},
		GenerateReceiveMessageInput: receiveInput(int32(s.t.cfg.WaitTime.Seconds())),
		Unmarshaler:                 receiveUnmarshaler{},
		ConsumeWorkers:              s.t.cfg.ConsumeWorkers,
		ReconnectRetrySleep:         time.Second,
	}, s.t.wlog)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, errors.New("subscriber closed")
	}
	s.sub = sub
	s.mu.Unlock()
	s.t.cfg.Logger.Info("consuming SQS queue", slog.String("group", s.group), slog.String("queue", q.Name))
	return sub.Subscribe(ctx, topic)
}

func (s *lazySubscriber) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	if s.closing != nil {
		close(s.closing)
	}
	sub := s.sub
	s.mu.Unlock()
	var err error
	if sub != nil {
		err = sub.Close()
	}
	s.wg.Wait()
	return err
}

// resolve resolves group's queue, retrying with backoff until ctx ends.
func (t *Transport) resolve(ctx context.Context, group string) (Queue, error) {
	wait := 500 * time.Millisecond
	for {
		q, err := t.res.Queue(ctx, group)
		if err == nil {
			return q, nil
		}
		t.cfg.Logger.Warn("SQS queue not ready; retrying", slog.String("group", group), slog.String("error", err.Error()),
			slog.Duration("retry_in", wait))
		select {
		case <-ctx.Done():
			return Queue{}, fmt.Errorf("resolving the queue of %s: %w", group, errors.Join(err, ctx.Err()))
		case <-time.After(wait):
		}
		wait = min(2*wait, 30*time.Second)
	}
}

type fixedTopic string

func (f fixedTopic) ResolveTopic(context.Context, string) (wsns.TopicArn, error) {
	return wsns.TopicArn(f), nil
}

type fixedQueue struct{ name, url string }

func (f fixedQueue) ResolveQueueUrl(context.Context, wsqs.ResolveQueueUrlParams) (wsqs.QueueUrlResolverResult, error) {
	exists := true
	u := wsqs.QueueURL(f.url)
	return wsqs.QueueUrlResolverResult{QueueName: wsqs.QueueName(f.name), QueueURL: &u, Exists: &exists}, nil
}
