package dynamodb_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/taskd/taskd/adapters/contracttest"
	"github.com/taskd/taskd/adapters/dynamodb"
)

// The tests run against DynamoDB Local (deploy/local/standins.sh start,
// then eval "$(bash deploy/local/standins.sh env)"), found through
// AWS_ENDPOINT_URL_DYNAMODB as the SDK reads it. Without it, or when it
// does not answer, they are skipped, unless TASKD_TEST_REQUIRE_SERVICES=1
// (CI), where that fails. They never run against real AWS: an unset
// endpoint skips them. Each env gets tables of its own (a random
// TASKD_ENV), deleted at the end.

var (
	clientOnce sync.Once
	client     *awsdynamodb.Client
	clientErr  error
)

func requireDynamoDB(t testing.TB) *awsdynamodb.Client {
	t.Helper()
	if testing.Short() {
		t.Skip("DynamoDB Local tests skipped in -short mode")
	}
	fail := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("TASKD_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatalf("DynamoDB Local is required (TASKD_TEST_REQUIRE_SERVICES=1): "+format, args...)
		}
		t.Skipf("DynamoDB Local unavailable, skipping: "+format, args...)
	}
	if os.Getenv("AWS_ENDPOINT_URL_DYNAMODB") == "" {
		fail("AWS_ENDPOINT_URL_DYNAMODB is not set (eval \"$(bash deploy/local/standins.sh env)\")")
	}
	clientOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		client, clientErr = dynamodb.LoadClient(ctx)
		if clientErr == nil {
			_, clientErr = client.ListTables(ctx, &awsdynamodb.ListTablesInput{Limit: aws.Int32(1)})
		}
	})
	if clientErr != nil {
		fail("%v", clientErr)
	}
	return client
}

// newStore creates a store with tables of its own, deleted when t ends.
func newStore(t testing.TB) *dynamodb.Store {
	t.Helper()
	c := requireDynamoDB(t)
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	s, err := dynamodb.New(c, dynamodb.Config{Env: "t" + hex.EncodeToString(b), CreateResources: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.EnsureTables(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		a, b, c := s.Tables()
		for _, name := range []string{a, b, c} {
			if _, err := client.DeleteTable(ctx, &awsdynamodb.DeleteTableInput{TableName: aws.String(name)}); err != nil {
				t.Logf("deleting table %s: %v", name, err)
			}
		}
	})
	return s
}

func newEnv(t testing.TB) contracttest.AnalyticsEnv {
	s := newStore(t)
	return contracttest.AnalyticsEnv{Store: s, Dump: s.DumpReadModels}
}

func TestAnalyticsContract(t *testing.T) {
	requireDynamoDB(t)
	contracttest.Analytics(t, newEnv)
}

func TestEnsureTablesWithoutCreating(t *testing.T) {
	c := requireDynamoDB(t)
	s, err := dynamodb.New(c, dynamodb.Config{Env: "missing-" + hex.EncodeToString([]byte(time.Now().Format("150405.000"))), CreateResources: false})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureTables(t.Context()); err == nil {
		t.Fatal("missing tables were not reported with TASKD_CREATE_RESOURCES=false")
	}
}
