package snssqs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	wsns "github.com/ThreeDotsLabs/watermill-aws/sns"
	wsqs "github.com/ThreeDotsLabs/watermill-aws/sqs"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Queue is a handler group's SQS queue and its DLQ.
type Queue struct {
	Group           string
	Name, URL, ARN  string
	DLQName         string
	DLQURL, DLQARN  string
	MaxReceiveCount int
}

// Resources finds — and unless CreateResources is false, creates — the
// topic and the queues, and remembers them.
//
// Creation order matters: the topic first (real AWS, like the stand-in,
// answers 404 when subscribing to a missing topic), then each DLQ, then the
// queue with a RedrivePolicy naming the DLQ's ARN (the RedrivePolicy JSON
// attribute: real AWS rejects watermill's separate DeadLetterTargetArn and
// MaxReceiveCount attributes), its access policy letting the topic send to
// it, and last the subscription, with raw message delivery.
type Resources struct {
	cfg     Config
	clients Clients

	mu       sync.Mutex
	topicARN string
	queues   map[string]Queue
}

// NewResources returns the resources of cfg.Env.
func NewResources(cfg Config, clients Clients) *Resources {
	cfg.setDefaults()
	return &Resources{cfg: cfg, clients: clients, queues: map[string]Queue{}}
}

// TopicARN returns the ARN of the events topic.
func (r *Resources) TopicARN(ctx context.Context) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.topicLocked(ctx)
}

func (r *Resources) topicLocked(ctx context.Context) (string, error) {
	if r.topicARN != "" {
		return r.topicARN, nil
	}
	name := TopicName(r.cfg.Env)
	if r.cfg.CreateResources {
		// CreateTopic is idempotent and answers the ARN.
		out, err := r.clients.SNS.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
		if err != nil {
			return "", fmt.Errorf("creating SNS topic %s: %w", name, err)
		}
		r.topicARN = aws.ToString(out.TopicArn)
		return r.topicARN, nil
	}
	p := sns.NewListTopicsPaginator(r.clients.SNS, &sns.ListTopicsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("looking for SNS topic %s: %w", name, err)
		}
		for _, t := range page.Topics {
			if arn := aws.ToString(t.TopicArn); strings.HasSuffix(arn, ":"+name) {
				r.topicARN = arn
				return arn, nil
			}
		}
	}
	return "", fmt.Errorf("SNS topic %s does not exist (TASKD_CREATE_RESOURCES=false: create it with the infrastructure code)", name)
}

// Queue returns group's queue, with its DLQ and subscription, creating what
// is missing when allowed.
func (r *Resources) Queue(ctx context.Context, group string) (Queue, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if q, ok := r.queues[group]; ok {
		return q, nil
	}
	topicARN, err := r.topicLocked(ctx)
	if err != nil {
		return Queue{}, err
	}
	q := Queue{Group: group, Name: QueueName(r.cfg.Env, group), DLQName: DLQName(r.cfg.Env, group)}
	if q.DLQURL, q.DLQARN, err = r.ensureQueue(ctx, q.DLQName, map[string]string{
		// The longest SQS keeps anything; the DLQ watcher drains it within
		// seconds anyway.
		"MessageRetentionPeriod": "1209600",
	}); err != nil {
		return Queue{}, err
	}
	redrive, err := json.Marshal(map[string]any{
		"deadLetterTargetArn": q.DLQARN,
		"maxReceiveCount":     r.cfg.MaxReceiveCount,
	})
	if err != nil {
		return Queue{}, err
	}
	if q.URL, q.ARN, err = r.ensureQueue(ctx, q.Name, map[string]string{
		"VisibilityTimeout":      strconv.Itoa(int(r.cfg.VisibilityTimeout.Seconds())),
		"MessageRetentionPeriod": "1209600",
		"RedrivePolicy":          string(redrive),
	}); err != nil {
		return Queue{}, err
	}
	if q.MaxReceiveCount, err = r.redrive(ctx, q, string(redrive)); err != nil {
		return Queue{}, err
	}
	if r.cfg.CreateResources {
		if err := r.ensureSubscription(ctx, topicARN, q); err != nil {
			return Queue{}, err
		}
	}
	r.queues[group] = q
	return q, nil
}

// ensureQueue returns the URL and ARN of queue name, creating it with attrs
// when it is missing and creation is allowed.
func (r *Resources) ensureQueue(ctx context.Context, name string, attrs map[string]string) (url, arn string, err error) {
	got, err := r.clients.SQS.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
	var missing *sqstypes.QueueDoesNotExist
	switch {
	case err == nil:
		url = aws.ToString(got.QueueUrl)
	case errors.As(err, &missing) && r.cfg.CreateResources:
		created, cerr := r.clients.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
		if cerr != nil {
			return "", "", fmt.Errorf("creating SQS queue %s: %w", name, cerr)
		}
		url = aws.ToString(created.QueueUrl)
	case errors.As(err, &missing):
		return "", "", fmt.Errorf("SQS queue %s does not exist (TASKD_CREATE_RESOURCES=false: create it with the infrastructure code)", name)
	default:
		return "", "", fmt.Errorf("looking for SQS queue %s: %w", name, err)
	}
	a, err := r.clients.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return "", "", fmt.Errorf("reading the ARN of SQS queue %s: %w", name, err)
	}
	return url, a.Attributes[string(sqstypes.QueueAttributeNameQueueArn)], nil
}

// redrive makes sure q's RedrivePolicy names its DLQ (setting want when
// allowed: a queue created by an older version, or maxReceiveCount
// changed) and returns the maxReceiveCount in force.
func (r *Resources) redrive(ctx context.Context, q Queue, want string) (int, error) {
	a, err := r.clients.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(q.URL), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameRedrivePolicy},
	})
	if err != nil {
		return 0, fmt.Errorf("reading the RedrivePolicy of %s: %w", q.Name, err)
	}
	var have struct {
		DeadLetterTargetArn string `json:"deadLetterTargetArn"`
		MaxReceiveCount     any    `json:"maxReceiveCount"` // a number or a string
	}
	_ = json.Unmarshal([]byte(a.Attributes[string(sqstypes.QueueAttributeNameRedrivePolicy)]), &have)
	count, _ := strconv.Atoi(strings.Trim(fmt.Sprint(have.MaxReceiveCount), `"`))
	if have.DeadLetterTargetArn == q.DLQARN && count == r.cfg.MaxReceiveCount {
		return count, nil
	}
	if !r.cfg.CreateResources {
		if have.DeadLetterTargetArn != q.DLQARN || count <= 0 {
			return 0, fmt.Errorf("SQS queue %s has no RedrivePolicy to %s", q.Name, q.DLQName)
		}
		return count, nil // the infrastructure's choice
	}
	if _, err := r.clients.SQS.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{
		QueueUrl: aws.String(q.URL), Attributes: map[string]string{"RedrivePolicy": want},
	}); err != nil {
		return 0, fmt.Errorf("setting the RedrivePolicy of %s: %w", q.Name, err)
	}
	return r.cfg.MaxReceiveCount, nil
}

// ensureSubscription lets the topic send to q and subscribes q to it with
// raw message delivery, once.
func (r *Resources) ensureSubscription(ctx context.Context, topicARN string, q Queue) error {
	policy, err := wsns.GenerateQueueAccessPolicyDefault(ctx, wsns.GenerateQueueAccessPolicyParams{
		SqsQueueArn: wsqs.QueueArn(q.ARN), SnsTopicArn: wsns.TopicArn(topicARN), SqsURL: wsqs.QueueURL(q.URL),
	})
	if err != nil {
		return err
	}
	pj, err := json.Marshal(policy)
	if err != nil {
		return err
	}
	if _, err := r.clients.SQS.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{
		QueueUrl: aws.String(q.URL), Attributes: map[string]string{"Policy": string(pj)},
	}); err != nil {
		return fmt.Errorf("setting the access policy of %s: %w", q.Name, err)
	}
	subs, err := r.subscriptions(ctx, topicARN)
	if err != nil {
		return err
	}
	if _, ok := subs[q.ARN]; ok {
		return nil
	}
	_, err = r.clients.SNS.Subscribe(ctx, &sns.SubscribeInput{
		TopicArn: aws.String(topicARN), Protocol: aws.String("sqs"), Endpoint: aws.String(q.ARN),
		// Raw delivery: the SQS body is the event JSON itself and the SNS
		// message attributes become SQS message attributes, exactly the
		// message the embedded transport hands the handlers.
		Attributes:            map[string]string{"RawMessageDelivery": "true"},
		ReturnSubscriptionArn: true,
	})
	if err != nil {
		return fmt.Errorf("subscribing %s to %s: %w", q.Name, topicARN, err)
	}
	return nil
}

// subscriptions returns the SQS endpoints (queue ARNs) subscribed to the
// topic, with their subscription ARNs.
func (r *Resources) subscriptions(ctx context.Context, topicARN string) (map[string]string, error) {
	out := map[string]string{}
	p := sns.NewListSubscriptionsByTopicPaginator(r.clients.SNS, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(topicARN)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing the subscriptions of %s: %w", topicARN, err)
		}
		for _, s := range page.Subscriptions {
			if aws.ToString(s.Protocol) == "sqs" {
				out[aws.ToString(s.Endpoint)] = aws.ToString(s.SubscriptionArn)
			}
		}
	}
	return out, nil
}

// Groups returns the handler groups whose queues are subscribed to the
// topic: the queues named <env>-<group> among the topic's SQS subscribers.
func (r *Resources) Groups(ctx context.Context) ([]string, error) {
	topicARN, err := r.TopicARN(ctx)
	if err != nil {
		return nil, err
	}
	subs, err := r.subscriptions(ctx, topicARN)
	if err != nil {
		return nil, err
	}
	var groups []string
	prefix := r.cfg.Env + "-"
	for arn := range subs {
		name := arn[strings.LastIndex(arn, ":")+1:]
		if g, ok := strings.CutPrefix(name, prefix); ok && g != "" && !strings.HasSuffix(g, "-dlq") {
			groups = append(groups, g)
		}
	}
	return groups, nil
}

// cached returns the queue of group if Queue has resolved it.
func (r *Resources) cached(group string) (Queue, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	q, ok := r.queues[group]
	return q, ok
}
