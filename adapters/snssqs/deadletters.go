package snssqs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	wsns "github.com/ThreeDotsLabs/watermill-aws/sns"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/taskd/taskd/adapters/outbox"
	"github.com/taskd/taskd/ports/events"
)

// DeadLetterQueues collects the SQS dead-letter queues into the
// dead-letter table (events.DeadLetterCollector) and replays dead letters
// to their groups' queues (events.DeadLetterReplayer).
//
// Why drain the DLQs into the database instead of leaving the messages
// there: one store for both modes (`taskd dlq` and the alerts work the same
// embedded and in the cloud), each dead letter alerted exactly once, the
// handler's last error kept with it, and nothing lost when SQS retention (at
// most 14 days) runs out. The SQS DLQ therefore stays near empty; its depth
// growing means the watcher is not running (the cloud alarm watches that).
type DeadLetterQueues struct {
	cfg     Config
	clients Clients
	res     *Resources
	store   *outbox.DeadLetters
	// Groups lists the handler groups whose DLQs to collect besides those
	// found subscribed to the topic (optional).
	Groups []string
	// MaxPerQueue bounds the messages collected from one DLQ per call
	// (default 1000).
	MaxPerQueue int
}

var (
	_ events.DeadLetterCollector = (*DeadLetterQueues)(nil)
	_ events.DeadLetterReplayer  = (*DeadLetterQueues)(nil)
)

// NewDeadLetterQueues returns the collector and replayer.
func NewDeadLetterQueues(cfg Config, clients Clients, res *Resources, store *outbox.DeadLetters) *DeadLetterQueues {
	cfg.setDefaults()
	return &DeadLetterQueues{cfg: cfg, clients: clients, res: res, store: store, MaxPerQueue: 1000}
}

// CollectDeadLetters moves every message of every group's DLQ into the
// dead-letter table and returns how many it moved. A message is deleted
// from the DLQ only after it is recorded (or found recorded already).
func (d *DeadLetterQueues) CollectDeadLetters(ctx context.Context) (int, error) {
	groups, err := d.res.Groups(ctx)
	if err != nil {
		return 0, err
	}
	seen := map[string]bool{}
	var (
		total int
		errs  []error
	)
	for _, g := range append(groups, d.Groups...) {
		if seen[g] {
			continue
		}
		seen[g] = true
		n, err := d.collect(ctx, g)
		total += n
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", DLQName(d.cfg.Env, g), err))
		}
	}
	return total, errors.Join(errs...)
}

func (d *DeadLetterQueues) collect(ctx context.Context, group string) (int, error) {
	q, err := d.res.Queue(ctx, group)
	if err != nil {
		return 0, err
	}
	n := 0
	for n < d.MaxPerQueue {
		out, err := d.clients.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:              aws.String(q.DLQURL),
			MaxNumberOfMessages:   10,
			WaitTimeSeconds:       0,
			VisibilityTimeout:     60,
			MessageAttributeNames: []string{"All"},
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{
				sqstypes.MessageSystemAttributeNameApproximateReceiveCount,
			},
		})
		if err != nil {
			return n, err
		}
		if len(out.Messages) == 0 {
			return n, nil
		}
		for _, m := range out.Messages {
			msg, err := receiveUnmarshaler{}.Unmarshal(&m)
			if err != nil {
				return n, err
			}
			inserted, err := d.store.Record(ctx, nil, outbox.Failure{
				Queue: group, Msg: msg, Dead: true, Attempts: q.MaxReceiveCount, Source: outbox.SourceSQS,
				Error: "moved to " + q.DLQName + " by SQS after " + strconv.Itoa(q.MaxReceiveCount) + " receives",
			})
			if err != nil {
				return n, err
			}
			if _, err := d.clients.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{
				QueueUrl: aws.String(q.DLQURL), ReceiptHandle: m.ReceiptHandle,
			}); err != nil {
				return n, fmt.Errorf("deleting a collected dead letter: %w", err)
			}
			if inserted {
				n++
			}
			d.cfg.Logger.Debug("collected a dead letter", slog.String("queue", q.DLQName),
				slog.String("event_id", msg.UUID), slog.Bool("new", inserted))
		}
	}
	return n, nil
}

// Replay sends the dead letter back to its group's queue (or, for the
// forwarder's, publishes it to the topic again) and then removes it from
// the table. A crash in between delivers it twice: consumers are
// idempotent.
func (d *DeadLetterQueues) Replay(ctx context.Context, dl events.DeadLetter) error {
	if dl.Queue == ForwarderGroup {
		arn, err := d.res.TopicARN(ctx)
		if err != nil {
			return err
		}
		msg := message.NewMessage(dl.EventID, dl.Payload)
		for k, v := range dl.Metadata {
			msg.Metadata.Set(k, v)
		}
		if _, err := d.clients.SNS.Publish(ctx, publishMarshaler{}.Marshal(wsns.TopicArn(arn), msg)); err != nil {
			return fmt.Errorf("publishing to %s: %w", arn, err)
		}
		return d.store.Delete(ctx, dl.ID)
	}
	q, err := d.res.Queue(ctx, dl.Queue)
	if err != nil {
		return err
	}
	if _, err := d.clients.SQS.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:          aws.String(q.URL),
		MessageBody:       aws.String(string(dl.Payload)),
		MessageAttributes: sendAttributes(dl.EventID, dl.Metadata),
	}); err != nil {
		return fmt.Errorf("sending to %s: %w", q.Name, err)
	}
	return d.store.Delete(ctx, dl.ID)
}
