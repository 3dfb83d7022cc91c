// Package dynamodb is the analytics module's storage on Amazon DynamoDB
// (cloud mode, TASKD_ANALYTICS_STORE=dynamodb): the event log, the
// projected task states and the report read models, in the three tables
// deploy/names names (<env>-event-log, <env>-report-counters,
// <env>-processed-events). The items are described in docs/analytics.md.
//
// The same contract suite as the SQL adapter runs against it on DynamoDB
// Local (adapters/contracttest.Analytics).
package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/taskd/taskd/deploy/names"
	"github.com/taskd/taskd/modules/analytics"
)

// Config configures the store.
type Config struct {
	// Env is TASKD_ENV, the prefix of the table names.
	Env string
	// CreateResources creates missing tables (TASKD_CREATE_RESOURCES).
	CreateResources bool
	// ProcessedTTL is how long processed-event records are kept (the
	// table's TTL attribute expires_at; default 30 days, well beyond SQS's
	// 14-day retention).
	ProcessedTTL time.Duration
	// Now stamps records (default time.Now).
	Now func() time.Time
}

// Store implements analytics.Store on DynamoDB.
type Store struct {
	client    *dynamodb.Client
	cfg       Config
	log       string // event log table
	models    string // report read models table (report-counters)
	processed string // processed events table
	// generation caches the read models' generation (0: unknown); every
	// commit checks it in its transaction, so a stale cache only costs a
	// retry.
	generation atomic.Int64
}

var _ analytics.Store = (*Store)(nil)

// LoadClient builds a DynamoDB client from the SDK's default configuration
// chain: region, credentials and AWS_ENDPOINT_URL_DYNAMODB (DynamoDB Local)
// come from the environment, shared files or the instance role.
func LoadClient(ctx context.Context) (*dynamodb.Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, errors.New("no AWS region: set AWS_REGION (or a profile's region)")
	}
	return NewClient(cfg), nil
}

// requestTimeout bounds one DynamoDB call (the SDK sets none).
const requestTimeout = 10 * time.Second

// NewClient builds a client from an AWS configuration.
func NewClient(cfg aws.Config) *dynamodb.Client {
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.HTTPClient = awshttp.NewBuildableClient().WithTimeout(requestTimeout)
	})
}

// New returns the store of environment cfg.Env. Call EnsureTables before use.
func New(client *dynamodb.Client, cfg Config) (*Store, error) {
	n, err := names.For(cfg.Env)
	if err != nil {
		return nil, err
	}
	if cfg.ProcessedTTL <= 0 {
		cfg.ProcessedTTL = 30 * 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Store{
		client: client, cfg: cfg,
		log:       n.TableName(names.TableEventLog),
		models:    n.TableName(names.TableReportCounters),
		processed: n.TableName(names.TableProcessedEvents),
	}, nil
}

// Tables returns the names of the store's tables: event log, read models,
// processed events.
func (s *Store) Tables() (eventLog, readModels, processedEvents string) {
	return s.log, s.models, s.processed
}

// EnsureTables checks that the tables exist, creating missing ones (on
// demand capacity, keys as deploy/names describes them, TTL on the
// processed-events table) when CreateResources is set, and that the meta
// item of the read models exists.
func (s *Store) EnsureTables(ctx context.Context) error {
	n, _ := names.For(s.cfg.Env)
	for _, key := range []string{names.TableEventLog, names.TableReportCounters, names.TableProcessedEvents} {
		name, schema, _ := n.Table(key)
		if err := s.ensureTable(ctx, name, schema); err != nil {
			return err
		}
	}
	return s.ensureMeta(ctx)
}

func (s *Store) ensureTable(ctx context.Context, name string, schema names.Table) error {
	_, err := s.client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	var nf *types.ResourceNotFoundException
	switch {
	case err == nil:
		return nil
	case !errors.As(err, &nf):
		return fmt.Errorf("DynamoDB table %s: %w", name, err)
	case !s.cfg.CreateResources:
		return fmt.Errorf("DynamoDB table %s does not exist (TASKD_CREATE_RESOURCES=false: create it with the infrastructure code)", name)
	}
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(schema.PartitionKey), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String(schema.PartitionKey), KeyType: types.KeyTypeHash}},
	}
	if schema.SortKey != "" {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String(schema.SortKey), AttributeType: types.ScalarAttributeTypeS})
		in.KeySchema = append(in.KeySchema, types.KeySchemaElement{AttributeName: aws.String(schema.SortKey), KeyType: types.KeyTypeRange})
	}
	_, err = s.client.CreateTable(ctx, in)
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) { // another process created it first
		return fmt.Errorf("creating DynamoDB table %s: %w", name, err)
	}
	if err := dynamodb.NewTableExistsWaiter(s.client).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 2*time.Minute); err != nil {
		return fmt.Errorf("waiting for DynamoDB table %s: %w", name, err)
	}
	if schema.TTLAttribute != "" {
		if _, err := s.client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
			TableName:               aws.String(name),
			TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(schema.TTLAttribute), Enabled: aws.Bool(true)},
		}); err != nil {
			return fmt.Errorf("enabling TTL on DynamoDB table %s: %w", name, err)
		}
	}
	return nil
}
