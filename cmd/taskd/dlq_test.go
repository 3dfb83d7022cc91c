package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/taskd/taskd/adapters/eventtest"
	"github.com/taskd/taskd/adapters/outbox"
	"github.com/taskd/taskd/adapters/snssqs"
	"github.com/taskd/taskd/adapters/sqlstore"
	"github.com/taskd/taskd/modules/tasks/contracts"
)

// runTaskd runs the command line in-process with env as its environment.
func runTaskd(t *testing.T, env map[string]string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut, func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	})
	return out.String(), errOut.String(), err
}

// deadLetter records a dead letter of group in db, as a handler group would.
func deadLetter(t *testing.T, db *sqlstore.DB, group string) contracts.TaskUpdated {
	t.Helper()
	e := eventtest.TaskEvent("dl-task", 1)
	msg, err := outbox.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	store := &outbox.DeadLetters{DB: db.SQL, Dialect: db.Dialect.Outbox}
	if _, err := store.Record(context.Background(), nil, outbox.Failure{
		Queue: group, Msg: msg, Error: "permanent: no such assignee", Dead: true, Attempts: 5, Source: outbox.SourceEmbedded,
	}); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestDLQCommandsEmbedded(t *testing.T) {
	eventtest.Integration(t)
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{"TASKD_DATA_DIR": dir, "TASKD_LOG_LEVEL": "warn"}
	if _, _, err := runTaskd(t, env, "migrate"); err != nil {
		t.Fatal(err)
	}
	db := openSQLite(t, dir)
	e := deadLetter(t, db, "notifications")

	out, _, err := runTaskd(t, env, "dlq", "list")
	if err != nil || !strings.Contains(out, e.ID) || !strings.Contains(out, "notifications") ||
		!strings.Contains(out, "no such assignee") || !strings.Contains(out, "1 dead letters") {
		t.Fatalf("dlq list: %v\n%s", err, out)
	}
	out, _, err = runTaskd(t, env, "dlq", "list", "--queue", "taskd-analytics-dlq", "--json")
	if err != nil || out != "" {
		t.Fatalf("dlq list of another queue: %v %q", err, out)
	}
	out, _, err = runTaskd(t, env, "dlq", "list", "--json")
	var got struct {
		ID, EventID, Queue string
		Payload            json.RawMessage
	}
	if err != nil || json.Unmarshal([]byte(out), &got) != nil || got.Queue != "notifications" || !strings.Contains(string(got.Payload), e.ID) {
		t.Fatalf("dlq list --json: %v\n%s", err, out)
	}
	out, progress, err := runTaskd(t, env, "dlq", "replay", "--id", got.ID)
	if err != nil || !strings.Contains(out, "replayed 1 dead letters") || !strings.Contains(progress, "replayed 1/1") {
		t.Fatalf("dlq replay: %v\n%s\n%s", err, out, progress)
	}
	// Back in the group's redelivery, due now, with fresh attempts.
	var status string
	var attempts int
	if err := db.SQL.QueryRow(`SELECT status, attempts FROM dead_letters WHERE event_id = ?`, e.ID).Scan(&status, &attempts); err != nil {
		t.Fatal(err)
	}
	if status != outbox.StatusRetrying || attempts != 0 {
		t.Errorf("after replay: %s with %d attempts", status, attempts)
	}
	if _, _, err := runTaskd(t, env, "dlq", "replay", "--id", got.ID); err == nil {
		t.Error("replaying a dead letter twice did not fail")
	}
	if _, _, err := runTaskd(t, env, "dlq", "purge"); err == nil {
		t.Error("an unknown dlq subcommand was accepted")
	}
}

// In the cloud, `taskd dlq list` first collects the SQS DLQs, and replay
// sends a dead letter back to its group's queue.
func TestDLQCommandsCloud(t *testing.T) {
	eventtest.Integration(t)
	awsCfg := eventtest.AWS(t)
	if os.Getenv("AWS_ENDPOINT_URL_SQS") == "" {
		for k, v := range map[string]string{
			"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
			"AWS_EC2_METADATA_DISABLED": "true",
			"AWS_ENDPOINT_URL_SNS":      eventtest.DefaultAWSEndpoint, "AWS_ENDPOINT_URL_SQS": eventtest.DefaultAWSEndpoint,
		} {
			t.Setenv(k, v)
		}
	}
	dir := t.TempDir()
	envName := eventtest.Env()
	env := map[string]string{"TASKD_DATA_DIR": dir, "TASKD_LOG_LEVEL": "warn", "TASKD_EVENTS": "aws", "TASKD_ENV": envName}
	if _, _, err := runTaskd(t, env, "migrate"); err != nil {
		t.Fatal(err)
	}
	db := openSQLite(t, dir)

	// A message in the SQS DLQ, as redrive leaves it.
	clients := snssqs.NewClients(awsCfg)
	res := snssqs.NewResources(snssqs.Config{Env: envName, CreateResources: true}, clients)
	ctx := context.Background()
	q, err := res.Queue(ctx, "notifications")
	if err != nil {
		t.Fatal(err)
	}
	e := eventtest.TaskEvent("dl-cloud", 3)
	msg, err := outbox.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := clients.SQS.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(q.DLQURL), MessageBody: aws.String(string(msg.Payload)),
		MessageAttributes: attributes(msg),
	}); err != nil {
		t.Fatal(err)
	}

	out, _, err := runTaskd(t, env, "dlq", "list", "--queue", "notifications")
	if err != nil || !strings.Contains(out, e.ID) || !strings.Contains(out, "sqs") {
		t.Fatalf("dlq list: %v\n%s", err, out)
	}
	out, _, err = runTaskd(t, env, "dlq", "replay", "--queue", q.Name)
	if err != nil || !strings.Contains(out, "replayed 1 dead letters") {
		t.Fatalf("dlq replay: %v\n%s", err, out)
	}
	// It is back on the group's queue, whole.
	var body, name string
	eventtest.Eventually(t, 10*time.Second, "the replayed message on the queue", func() bool {
		got, err := clients.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(q.URL), MessageAttributeNames: []string{"All"}, WaitTimeSeconds: 1,
		})
		if err != nil || len(got.Messages) == 0 {
			return false
		}
		body = aws.ToString(got.Messages[0].Body)
		name = aws.ToString(got.Messages[0].MessageAttributes["name"].StringValue)
		return true
	})
	if !strings.Contains(body, e.ID) || name != contracts.NameTaskUpdated {
		t.Errorf("replayed message: %s %s", name, body)
	}
	var n int
	if err := db.SQL.QueryRow(`SELECT COUNT(*) FROM dead_letters`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d dead letters left after replay (%v)", n, err)
	}
}

func attributes(msg *message.Message) map[string]sqstypes.MessageAttributeValue {
	out := map[string]sqstypes.MessageAttributeValue{}
	for k, v := range msg.Metadata {
		out[k] = sqstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	out["_watermill_message_uuid"] = sqstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(msg.UUID)}
	return out
}
