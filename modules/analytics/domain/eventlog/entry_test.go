package eventlog_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/taskd/taskd/modules/analytics/domain/eventlog"
)

func TestParseEntry(t *testing.T) {
	t.Parallel()
	const task = `{"event_id":"e1","event_type":"TaskUpdated","schema_version":1,"occurred_at":"2026-03-02T09:00:00.1234567Z",` +
		`"actor_id":"u1","aggregate_type":"task","aggregate_id":"t1","sequence":2,` +
		`"task":{"id":"t1","name":"x","status":"waiting","priority":"medium","creator_id":"u1","created_at":"2026-03-02T09:00:00Z","updated_at":"2026-03-02T09:00:00Z","version":2},` +
		`"changes":[{"field":"name","old":"a","new":"x"}],"future_field":true}`
	e, err := eventlog.ParseEntry([]byte(task))
	if err != nil {
		t.Fatal(err)
	}
	if e.Task.Name != "x" || e.Sequence != 2 || e.OccurredAt.Nanosecond() != 123456000 || string(e.Payload) != task {
		t.Errorf("entry = %+v", e)
	}
	if c, ok := e.Change("name"); !ok || c.Old != "a" || c.New != "x" {
		t.Errorf("change = %+v", c)
	}
	const user = `{"event_id":"e2","event_type":"UserRegistered","occurred_at":"2026-03-02T09:00:00Z","aggregate_type":"user","aggregate_id":"u1","sequence":1,"user":{"id":"u1","email":"a@example.com"}}`
	if e, err := eventlog.ParseEntry([]byte(user)); err != nil || e.IsTask() || e.User.Email != "a@example.com" {
		t.Errorf("user event: %+v, %v", e, err)
	}
	for name, bad := range map[string]string{
		"not JSON":        `{`,
		"no id":           strings.Replace(task, `"event_id":"e1"`, `"event_id":""`, 1),
		"an id with #":    strings.Replace(task, `"event_id":"e1"`, `"event_id":"e#1"`, 1),
		"sequence 0":      strings.Replace(task, `"sequence":2`, `"sequence":0`, 1),
		"no time":         strings.Replace(task, `"occurred_at":"2026-03-02T09:00:00.1234567Z",`, ``, 1),
		"no snapshot":     strings.Replace(task, `"task":{`, `"other":{`, 1),
		"another's snap":  strings.Replace(task, `"task":{"id":"t1"`, `"task":{"id":"t2"`, 1),
		"a long actor id": strings.Replace(task, `"actor_id":"u1"`, `"actor_id":"`+strings.Repeat("x", 65)+`"`, 1),
	} {
		if _, err := eventlog.ParseEntry([]byte(bad)); !errors.Is(err, eventlog.ErrMalformedEvent) {
			t.Errorf("%s: %v, want ErrMalformedEvent", name, err)
		}
	}
}
