package names_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/taskd/taskd/deploy/names"
)

// The names the issues fix. A rename in names.json must be deliberate: it
// renames production queues and tables.
func TestDefaultNames(t *testing.T) {
	n := names.Default()
	want := []string{
		"taskd-events", "taskd-alarms",
		"taskd-analytics", "taskd-analytics-dlq",
		"taskd-notifications", "taskd-notifications-dlq",
		"taskd-event-log", "taskd-report-counters", "taskd-processed-events",
	}
	if got := n.All(); !slices.Equal(got, want) {
		t.Fatalf("All() = %q\nwant     %q", got, want)
	}
	if n.MaxReceiveCount() != 5 {
		t.Errorf("MaxReceiveCount = %d, want 5", n.MaxReceiveCount())
	}
	if got := n.TableName(names.TableProcessedEvents); got != "taskd-processed-events" {
		t.Errorf("TableName(processedEvents) = %q", got)
	}
	if got := n.ConsumerGroups(); !slices.Equal(got, []string{names.GroupAnalytics, names.GroupNotifications}) {
		t.Errorf("ConsumerGroups = %q", got)
	}
}

func TestForEnv(t *testing.T) {
	n, err := names.For("staging")
	if err != nil {
		t.Fatal(err)
	}
	if n.EventsTopic() != "staging-events" || n.DLQ("analytics") != "staging-analytics-dlq" {
		t.Fatalf("got %q %q", n.EventsTopic(), n.DLQ("analytics"))
	}
	if err := n.Validate(); err != nil {
		t.Fatal(err)
	}
	d, err := names.For("")
	if err != nil || d.Env() != "taskd" {
		t.Fatalf("For(\"\") = %v, %v", d.Env(), err)
	}
	for _, bad := range []string{"has space", "dots.are.bad", strings.Repeat("x", 41)} {
		if _, err := names.For(bad); err == nil {
			t.Errorf("For(%q) accepted", bad)
		}
	}
	// 40 characters is allowed by TASKD_ENV; the longest name must still fit SQS's 80.
	long, err := names.For(strings.Repeat("e", 40))
	if err != nil {
		t.Fatal(err)
	}
	if err := long.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestRedrivePolicy(t *testing.T) {
	p := names.Default().RedrivePolicy("arn:aws:sqs:eu-west-1:123456789012:taskd-analytics-dlq")
	var v map[string]string
	if err := json.Unmarshal([]byte(p), &v); err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	if v["deadLetterTargetArn"] != "arn:aws:sqs:eu-west-1:123456789012:taskd-analytics-dlq" || v["maxReceiveCount"] != "5" {
		t.Fatalf("RedrivePolicy = %s", p)
	}
}

func TestTablesHaveKeys(t *testing.T) {
	for _, tb := range names.Spec().Tables {
		if tb.PartitionKey == "" {
			t.Errorf("table %s has no partition key", tb.Suffix)
		}
	}
}
