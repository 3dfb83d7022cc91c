// Package names is the one source of truth for the names of taskd's AWS
// resources: the SNS topic that carries every domain event, one SQS queue (and
// its dead-letter queue) per consumer group, and the DynamoDB tables.
//
// The names live in names.json beside this file, which the Go code embeds and
// the AWS CDK app in deploy/aws reads, so the binary (when it creates missing
// resources) and the infrastructure code (in production) use the same names.
// A rename changes the file, and the tests on both sides follow it.
//
// Every name is "<env>-<suffix>", where env is TASKD_ENV (default "taskd").
package names

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
)

//go:embed names.json
var namesJSON []byte

// File is the decoded names.json.
type File struct {
	DefaultEnv         string   `json:"defaultEnv"`
	EventsTopic        string   `json:"eventsTopic"`
	AlarmTopic         string   `json:"alarmTopic"`
	ConsumerGroups     []string `json:"consumerGroups"`
	DLQSuffix          string   `json:"dlqSuffix"`
	MaxReceiveCount    int      `json:"maxReceiveCount"`
	RawMessageDelivery bool     `json:"rawMessageDelivery"`
	Tables             []Table  `json:"tables"`
}

// Table describes one DynamoDB table: its suffix and key schema (all keys are
// strings). The DynamoDB adapter and the CDK app both build tables from it.
type Table struct {
	Key          string `json:"key"`
	Suffix       string `json:"suffix"`
	PartitionKey string `json:"partitionKey"`
	SortKey      string `json:"sortKey,omitempty"`
	TTLAttribute string `json:"ttlAttribute,omitempty"`
}

// Keys of Table.Key, for Names.Table.
const (
	TableEventLog        = "eventLog"
	TableReportCounters  = "reportCounters"
	TableProcessedEvents = "processedEvents"
)

// Consumer groups.
const (
	GroupAnalytics     = "analytics"
	GroupNotifications = "notifications"
)

var file = mustParse(namesJSON)

// Spec returns a copy of the decoded names.json.
func Spec() File {
	f := file
	f.ConsumerGroups = slices.Clone(file.ConsumerGroups)
	f.Tables = slices.Clone(file.Tables)
	return f
}

func mustParse(b []byte) File {
	var f File
	if err := json.Unmarshal(b, &f); err != nil {
		panic(fmt.Sprintf("deploy/names: names.json: %v", err))
	}
	if err := f.validate(); err != nil {
		panic(fmt.Sprintf("deploy/names: names.json: %v", err))
	}
	return f
}

// Names are the resource names of one environment.
type Names struct {
	env string
	f   *File
}

// envPattern is what cmd/taskd accepts for TASKD_ENV.
var envPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,40}$`)

// For returns the names for TASKD_ENV=env ("" means the default, "taskd").
func For(env string) (Names, error) {
	if env == "" {
		env = file.DefaultEnv
	}
	if !envPattern.MatchString(env) {
		return Names{}, fmt.Errorf("TASKD_ENV %q: must be 1–40 letters, digits, - or _", env)
	}
	return Names{env: env, f: &file}, nil
}

// Default returns the names for the default environment.
func Default() Names { return Names{env: file.DefaultEnv, f: &file} }

// Env is the prefix of every name.
func (n Names) Env() string { return n.env }

// EventsTopic is the SNS topic that carries every domain event.
func (n Names) EventsTopic() string { return n.env + "-" + n.f.EventsTopic }

// AlarmTopic is the SNS topic that CloudWatch alarms notify.
func (n Names) AlarmTopic() string { return n.env + "-" + n.f.AlarmTopic }

// ConsumerGroups lists the consumer groups, each with its own queue.
func (n Names) ConsumerGroups() []string { return slices.Clone(n.f.ConsumerGroups) }

// Queue is the SQS queue of a consumer group.
func (n Names) Queue(group string) string { return n.env + "-" + group }

// DLQ is the dead-letter queue of a consumer group's queue.
func (n Names) DLQ(group string) string { return n.Queue(group) + n.f.DLQSuffix }

// MaxReceiveCount is the RedrivePolicy's maxReceiveCount of every queue.
func (n Names) MaxReceiveCount() int { return n.f.MaxReceiveCount }

// RedrivePolicy is the JSON value of the SQS RedrivePolicy attribute for a
// queue whose dead-letter queue has the ARN dlqARN.
func (n Names) RedrivePolicy(dlqARN string) string {
	b, _ := json.Marshal(struct {
		DeadLetterTargetArn string `json:"deadLetterTargetArn"`
		MaxReceiveCount     string `json:"maxReceiveCount"`
	}{dlqARN, fmt.Sprint(n.f.MaxReceiveCount)})
	return string(b)
}

// Table returns the name and schema of the table with the given key
// (TableEventLog, …); ok is false for an unknown key.
func (n Names) Table(key string) (name string, schema Table, ok bool) {
	for _, t := range n.f.Tables {
		if t.Key == key {
			return n.env + "-" + t.Suffix, t, true
		}
	}
	return "", Table{}, false
}

// TableName is Table without the schema; it panics on an unknown key, which
// only a programming error can cause.
func (n Names) TableName(key string) string {
	name, _, ok := n.Table(key)
	if !ok {
		panic("deploy/names: unknown table key " + key)
	}
	return name
}

// Tables returns every table name in names.json order.
func (n Names) Tables() []string {
	out := make([]string, 0, len(n.f.Tables))
	for _, t := range n.f.Tables {
		out = append(out, n.env+"-"+t.Suffix)
	}
	return out
}

// All returns every topic, queue and table name of the environment.
func (n Names) All() []string {
	out := []string{n.EventsTopic(), n.AlarmTopic()}
	for _, g := range n.f.ConsumerGroups {
		out = append(out, n.Queue(g), n.DLQ(g))
	}
	return append(out, n.Tables()...)
}

// SNS topic and SQS queue names: letters, digits, - and _, at most 80.
// DynamoDB table names: letters, digits, _ - and ., 3 to 255.
var (
	snsSQSName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)
	tableName  = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)
)

// Validate reports names that AWS would reject.
func (n Names) Validate() error {
	check := func(re *regexp.Regexp, s string) error {
		if !re.MatchString(s) {
			return fmt.Errorf("%q is not a valid AWS resource name", s)
		}
		return nil
	}
	for _, s := range []string{n.EventsTopic(), n.AlarmTopic()} {
		if err := check(snsSQSName, s); err != nil {
			return err
		}
	}
	for _, g := range n.f.ConsumerGroups {
		for _, s := range []string{n.Queue(g), n.DLQ(g)} {
			if err := check(snsSQSName, s); err != nil {
				return err
			}
		}
	}
	for _, s := range n.Tables() {
		if err := check(tableName, s); err != nil {
			return err
		}
	}
	return nil
}

func (f File) validate() error {
	switch {
	case f.DefaultEnv == "" || f.EventsTopic == "" || f.AlarmTopic == "" || f.DLQSuffix == "":
		return fmt.Errorf("defaultEnv, eventsTopic, alarmTopic and dlqSuffix are required")
	case len(f.ConsumerGroups) == 0:
		return fmt.Errorf("consumerGroups is empty")
	case f.MaxReceiveCount < 1 || f.MaxReceiveCount > 1000:
		return fmt.Errorf("maxReceiveCount %d: SQS allows 1 to 1000", f.MaxReceiveCount)
	}
	seen := map[string]bool{}
	for _, t := range f.Tables {
		if t.Key == "" || t.Suffix == "" || t.PartitionKey == "" {
			return fmt.Errorf("table %+v: key, suffix and partitionKey are required", t)
		}
		if seen[t.Key] {
			return fmt.Errorf("table key %q twice", t.Key)
		}
		seen[t.Key] = true
	}
	return Names{env: f.DefaultEnv, f: &f}.Validate()
}
