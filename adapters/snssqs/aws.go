package snssqs

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// LoadAWSConfig loads the SDK's default configuration chain: region,
// credentials and endpoints (AWS_ENDPOINT_URL_SNS, AWS_ENDPOINT_URL_SQS …)
// come from the environment, shared config files or the instance role;
// nothing of ours.
func LoadAWSConfig(ctx context.Context) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return aws.Config{}, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, fmt.Errorf("no AWS region: set AWS_REGION (or a profile's region)")
	}
	return cfg, nil
}

// Request timeouts: SNS calls are short; SQS ReceiveMessage long-polls for
// up to 20 s. Without them a hung connection would stall the forwarder or a
// consumer forever (the SDK sets none by default).
const (
	snsRequestTimeout = 10 * time.Second
	sqsRequestTimeout = 30 * time.Second
)

// forwarderPublishTimeout bounds one Publish of the forwarder, which runs
// inside the outbox reader's transaction (see Forwarder): a hung SNS must
// not hold that transaction long. The forwarder retries by itself (probe,
// restart), so its client does not retry either.
const forwarderPublishTimeout = 3 * time.Second

func forwarderSNSOptions() []func(*sns.Options) {
	return []func(*sns.Options){func(o *sns.Options) {
		o.HTTPClient = awshttp.NewBuildableClient().WithTimeout(forwarderPublishTimeout)
		o.RetryMaxAttempts = 1
	}}
}

func snsOptions() []func(*sns.Options) {
	return []func(*sns.Options){func(o *sns.Options) {
		o.HTTPClient = awshttp.NewBuildableClient().WithTimeout(snsRequestTimeout)
	}}
}

func sqsOptions() []func(*sqs.Options) {
	return []func(*sqs.Options){func(o *sqs.Options) {
		o.HTTPClient = awshttp.NewBuildableClient().WithTimeout(sqsRequestTimeout)
	}}
}

// Clients are the SNS and SQS clients the transport shares.
type Clients struct {
	AWS aws.Config
	SNS *sns.Client
	SQS *sqs.Client
}

// NewClients builds the clients from an AWS configuration.
func NewClients(cfg aws.Config) Clients {
	return Clients{
		AWS: cfg,
		SNS: sns.NewFromConfig(cfg, snsOptions()...),
		SQS: sqs.NewFromConfig(cfg, sqsOptions()...),
	}
}
