// Package snssqs is the cloud event transport: the outbox is relayed to one
// Amazon SNS topic, and every handler group consumes its own SQS queue
// subscribed to that topic, with a dead-letter queue, through
// github.com/ThreeDotsLabs/watermill-aws (docs/events.md).
//
//	outbox_messages ──forwarder──▶ SNS <env>-events ──▶ SQS <env>-<group> ──▶ handler group
//	                                                      │ RedrivePolicy (maxReceiveCount)
//	                                                      ▼
//	                                                    SQS <env>-<group>-dlq ──DLQ watcher──▶ dead_letters
//
// Region, credentials and endpoints come only from the AWS SDK's default
// chain (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL_SNS, AWS_ENDPOINT_URL_SQS
// …), so the local stand-ins and real AWS are configured the same way.
package snssqs

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/taskd/taskd/adapters/outbox"
	"github.com/taskd/taskd/deploy/names"
	"github.com/taskd/taskd/ports/events"
)

// ForwarderGroup is the outbox consumer group of the forwarder, and the
// queue name of the dead letters it records (events SNS refused).
const ForwarderGroup = events.ReservedGroupName

// Config is the transport's configuration, filled in by cmd/taskd.
type Config struct {
	// Env prefixes every resource name (TASKD_ENV).
	Env string
	// CreateResources creates missing topics, queues, DLQs, policies and
	// subscriptions at start (TASKD_CREATE_RESOURCES); false only looks
	// them up and fails when one is missing.
	CreateResources bool
	// MaxReceiveCount is the RedrivePolicy's maxReceiveCount: how many
	// receives before SQS moves a message to the DLQ (default 5).
	MaxReceiveCount int
	// VisibilityTimeout of created queues: how long a received message
	// stays hidden while it is handled (default 30s).
	VisibilityTimeout time.Duration
	// RedeliveryBackoff is how long a message that failed on its n-th
	// receive stays hidden before SQS delivers it again (default 10s
	// doubling, at most 10m). Permanent errors are made visible at once.
	RedeliveryBackoff func(receiveCount int) time.Duration
	// WaitTime is the ReceiveMessage long poll (default 20s, the maximum).
	WaitTime time.Duration
	// ConsumeWorkers is how many messages of one group are handled at once
	// (parallel receivers, one message each; default 4).
	ConsumeWorkers int
	Logger         *slog.Logger
}

func (c *Config) setDefaults() {
	if c.MaxReceiveCount <= 0 {
		c.MaxReceiveCount = names.Default().MaxReceiveCount()
	}
	if c.VisibilityTimeout <= 0 {
		c.VisibilityTimeout = 30 * time.Second
	}
	if c.RedeliveryBackoff == nil {
		c.RedeliveryBackoff = outbox.RedeliveryBackoff(10*time.Second, 10*time.Minute)
	}
	if c.WaitTime <= 0 || c.WaitTime > 20*time.Second {
		c.WaitTime = 20 * time.Second
	}
	if c.ConsumeWorkers <= 0 {
		c.ConsumeWorkers = 4
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate checks the names the configuration produces.
func (c Config) Validate() error {
	if c.Env == "" {
		return fmt.Errorf("snssqs: Env (TASKD_ENV) is required")
	}
	n, err := names.For(c.Env)
	if err != nil {
		return err
	}
	return n.Validate()
}

// Resource names come from deploy/names (names.json), which the
// infrastructure code reads too: the binary creates exactly what production
// creates with TASKD_CREATE_RESOURCES=false.
func namesOf(env string) names.Names {
	n, err := names.For(env)
	if err != nil {
		return names.Default()
	}
	return n
}

// TopicName is the SNS topic every event is published to: <env>-events.
func TopicName(env string) string { return namesOf(env).EventsTopic() }

// QueueName is the SQS queue of handler group group: <env>-<group>.
func QueueName(env, group string) string { return namesOf(env).Queue(group) }

// DLQName is the dead-letter queue of group's queue: <env>-<group>-dlq.
func DLQName(env, group string) string { return namesOf(env).DLQ(group) }
