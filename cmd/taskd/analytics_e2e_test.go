package main

// Component tests of the analytics module (issue 5, "Done when"): the whole
// binary's graph (run(…), as main does) with real adapters, driven over
// HTTP. Creating, starting and completing tasks shows in the PIC's weekly
// and monthly reports, the supervisor's view and the team report within a
// second (embedded), and `taskd analytics rebuild` reproduces the numbers.
// The cloud walk runs the same over MariaDB + SNS/SQS (fauxqs) + DynamoDB
// Local; it skips under -short or without the stand-ins, unless
// TASKD_TEST_REQUIRE_SERVICES=1.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/taskd/taskd/adapters/dynamodb"
	"github.com/taskd/taskd/adapters/eventtest"
)

// e2eAnalyticsWalk is the walk of both modes. within bounds how long the
// numbers may take to show.
func e2eAnalyticsWalk(t *testing.T, env map[string]string, within time.Duration) {
	s := e2eStart(t, env)
	alice := e2eSignUpAndIn(t, s, "alice")
	sam := e2eSignUpAndIn(t, s, "sam")
	mike := e2eSignUpAndIn(t, s, "mike")
	if out, err := e2eRun(t, env, "users", "promote", mike.email, "manager"); err != nil {
		t.Fatalf("taskd users promote: %q, %v", out, err)
	}
	mike.token = e2eSignIn(t, s, mike.email, e2ePassword)

	// Sam creates two tasks for alice, supervised by himself; alice starts
	// and completes the first.
	create := func(name string) string {
		return s.expect(t, http.StatusCreated, "POST", "/api/tasks", sam.token, map[string]string{
			"Task_name": name, "Deadline": time.Now().AddDate(0, 0, 7).Format(time.DateOnly), "PIC": alice.email,
			"Supervisor": sam.email, "Task_priority": "high",
		}).str(t, "Task_id")
	}
	done, open := create("ship the report"), create("plan the next one")
	s.expect(t, http.StatusOK, "POST", "/api/tasks/"+done+"/status", alice.token, map[string]string{"Task_status": "in_progress"})
	s.expect(t, http.StatusOK, "POST", "/api/tasks/"+done+"/status", alice.token, map[string]string{"Task_status": "done"})
	changed := time.Now()

	// Alice's weekly report shows them.
	var weekly map[string]any
	for {
		weekly = s.expect(t, http.StatusOK, "GET", "/api/reports/weekly", alice.token, nil).obj(t)
		if weekly["completed"] == 1.0 || time.Since(changed) > within {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	took := time.Since(changed)
	if weekly["completed"] != 1.0 {
		t.Fatalf("alice's weekly report %s after the changes: %v", took.Round(time.Millisecond), weekly)
	}
	t.Logf("the PIC's weekly report showed the completion %s after it", took.Round(time.Millisecond))
	for k, want := range map[string]float64{"assigned": 2, "started": 1, "completed": 1, "completed_on_time": 1, "open": 1, "overdue": 0} {
		if weekly[k] != want {
			t.Errorf("weekly %s = %v, want %v", k, weekly[k], want)
		}
	}
	if hp := weekly["by_priority"].(map[string]any)["high"].(map[string]any); hp["completed"] != 1.0 {
		t.Errorf("weekly by_priority.high = %v", hp)
	}
	var tasks []string
	for _, x := range weekly["tasks"].([]any) {
		tasks = append(tasks, x.(map[string]any)["link"].(string))
	}
	if len(tasks) != 2 || !strings.Contains(strings.Join(tasks, " "), "/api/tasks/"+done) || !strings.Contains(strings.Join(tasks, " "), "/api/tasks/"+open) {
		t.Errorf("weekly tasks = %v", tasks)
	}
	monthly := s.expect(t, http.StatusOK, "GET", "/api/reports/monthly", alice.token, nil).obj(t)
	if monthly["completed"] != 1.0 || monthly["assigned"] != 2.0 {
		t.Errorf("alice's monthly report: %v", monthly)
	}
	people := s.expect(t, http.StatusOK, "GET", "/api/reports/team?supervisor=me", sam.token, nil).obj(t)
	if rows := people["rows"].([]any); len(rows) != 1 || rows[0].(map[string]any)["completed"] != 1.0 {
		t.Errorf("sam's people: %v", people)
	}
	team := s.expect(t, http.StatusOK, "GET", "/api/reports/team", mike.token, nil).obj(t)
	if tot := team["totals"].(map[string]any); tot["created"] != 2.0 || tot["completed"] != 1.0 {
		t.Errorf("team totals: %v", tot)
	}
	csv := s.expect(t, http.StatusOK, "GET", "/api/reports/team", mike.token, nil, "Accept", "text/csv")
	if !strings.HasPrefix(csv.header.Get("Content-Type"), "text/csv") || !strings.Contains(string(csv.body), alice.email) {
		t.Errorf("team CSV: %s %s", csv.header.Get("Content-Type"), csv.body)
	}
	if r := s.send(t, "GET", "/api/reports/team", alice.token, nil); r.status != http.StatusForbidden || r.errorCode(t) != "report_forbidden" {
		t.Errorf("the team report for a member: %d %s", r.status, r.body)
	}
	if r := s.send(t, "GET", "/api/reports/weekly?user="+url.QueryEscape(sam.email), alice.token, nil); r.status != http.StatusForbidden {
		t.Errorf("another's report for a member: %d %s", r.status, r.body)
	}
	if r := s.send(t, "GET", "/api/reports/weekly?week=2026-W54", alice.token, nil); r.status != http.StatusBadRequest || r.errorCode(t) != "invalid_week" {
		t.Errorf("week 54: %d %s", r.status, r.body)
	}
	h := s.expect(t, http.StatusOK, "GET", "/api/tasks/"+done+"/history", alice.token, nil).obj(t)
	var evs []string
	for _, e := range h["history"].([]any) {
		evs = append(evs, e.(map[string]any)["event"].(string))
	}
	if strings.Join(evs, ",") != "TaskCreated,TaskStatusChanged,TaskStatusChanged,TaskCompleted" {
		t.Errorf("history = %v", evs)
	}

	// A rebuild, the server running, gives the same numbers.
	before := map[string]map[string]any{
		"weekly": weekly, "monthly": monthly, "people": people, "team": team,
	}
	out, err := e2eRun(t, env, "analytics", "rebuild")
	if err != nil || !strings.Contains(out, "rebuilt the analytics read models") || !strings.Contains(out, "100%") {
		t.Fatalf("taskd analytics rebuild: %q, %v", out, err)
	}
	t.Logf("taskd analytics rebuild: %s", strings.TrimSpace(out[strings.LastIndex(out, "\r")+1:]))
	after := map[string]map[string]any{
		"weekly":  s.expect(t, http.StatusOK, "GET", "/api/reports/weekly", alice.token, nil).obj(t),
		"monthly": s.expect(t, http.StatusOK, "GET", "/api/reports/monthly", alice.token, nil).obj(t),
		"people":  s.expect(t, http.StatusOK, "GET", "/api/reports/team?supervisor=me", sam.token, nil).obj(t),
		"team":    s.expect(t, http.StatusOK, "GET", "/api/reports/team", mike.token, nil).obj(t),
	}
	for name := range before {
		if a, b := e2eWithoutAsOf(before[name]), e2eWithoutAsOf(after[name]); !reflect.DeepEqual(a, b) {
			ja, _ := json.Marshal(a)
			jb, _ := json.Marshal(b)
			t.Errorf("%s before the rebuild:\n%s\nafter:\n%s", name, ja, jb)
		}
	}
}

// e2eWithoutAsOf drops the as_of instants (the clock moved) of a report.
func e2eWithoutAsOf(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, v := range x {
			if k != "as_of" {
				out[k] = e2eWithoutAsOf(v)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, v := range x {
			out[i] = e2eWithoutAsOf(v)
		}
		return out
	}
	return v
}

func TestE2EAnalyticsEmbedded(t *testing.T) {
	t.Parallel()
	e2eAnalyticsWalk(t, e2eSQLite(t).env, time.Second)
}

// TestE2EAnalyticsCloud is the walk in cloud mode: MariaDB for the write
// store, SNS → SQS (fauxqs) for the events, DynamoDB Local for the log and
// the read models, each AWS resource under a TASKD_ENV of its own.
func TestE2EAnalyticsCloud(t *testing.T) {
	t.Parallel()
	eventtest.AWS(t) // skips (or fails) without the SNS/SQS stand-in
	if os.Getenv("AWS_ENDPOINT_URL_DYNAMODB") == "" {
		if eventtest.Required() {
			t.Fatal("AWS_ENDPOINT_URL_DYNAMODB is required (TASKD_TEST_REQUIRE_SERVICES=1)")
		}
		t.Skip("AWS_ENDPOINT_URL_DYNAMODB is not set (eval \"$(bash deploy/local/standins.sh env)\"): skipping")
	}
	b := e2eMySQL(t)
	prefix := eventtest.Env()
	env := e2eMerge(b.env, map[string]string{
		"TASKD_MODE": "cloud", "TASKD_EMAIL": "none", "TASKD_SMS": "none", "TASKD_ENV": prefix,
		"TASKD_AUTO_MIGRATE": "true", "TASKD_EVENTS_VISIBILITY_TIMEOUT": "5s", "TASKD_EVENTS_REDELIVERY_BACKOFF": "1s",
	})
	for _, k := range []string{"AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_EC2_METADATA_DISABLED",
		"AWS_ENDPOINT_URL_SNS", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_DYNAMODB"} {
		if v, ok := os.LookupEnv(k); ok {
			env[k] = v
		}
	}
	t.Cleanup(func() { e2eDropTables(t, prefix) })
	e2eAnalyticsWalk(t, env, 15*time.Second)
}

// e2eDropTables deletes the DynamoDB tables of a test's TASKD_ENV.
func e2eDropTables(t *testing.T, env string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, err := dynamodb.LoadClient(ctx)
	if err != nil {
		t.Logf("dropping the tables of %s: %v", env, err)
		return
	}
	s, err := dynamodb.New(client, dynamodb.Config{Env: env})
	if err != nil {
		return
	}
	a, b, c := s.Tables()
	for _, name := range []string{a, b, c} {
		if _, err := client.DeleteTable(ctx, &awsdynamodb.DeleteTableInput{TableName: aws.String(name)}); err != nil {
			t.Logf("deleting table %s: %v", name, err)
		}
	}
}
