package report_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/taskd/taskd/modules/analytics/domain/eventlog"
	"github.com/taskd/taskd/modules/analytics/domain/report"
)

var (
	mon = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) // Monday of 2026-W10
	p   = report.Projector{Loc: time.UTC}
)

func at(d time.Duration) time.Time { return mon.Add(d) }

func ptr(t time.Time) *time.Time { return &t }

// task is the snapshot the events carry.
type task struct {
	status, priority, pic, sup string
	deadline, started, done    *time.Time
}

func entry(seq int64, typ string, when time.Time, s task) eventlog.Entry {
	return eventlog.Entry{
		EventID: "e" + string(rune('0'+seq)), Type: typ, OccurredAt: when, AggregateType: eventlog.AggregateTask,
		AggregateID: "t1", Sequence: seq,
		Task: &eventlog.TaskSnapshot{ID: "t1", Name: "the task", Status: s.status, Priority: s.priority, Deadline: s.deadline,
			PICID: s.pic, SupervisorID: s.sup, CreatorID: "carl", StartedAt: s.started, CompletedAt: s.done},
	}
}

// apply folds the entries and returns all effects merged.
func apply(t *testing.T, entries ...eventlog.Entry) (report.TaskState, report.Effects) {
	t.Helper()
	st := report.TaskState{}
	all := report.NewEffects()
	for _, e := range entries {
		next, eff, err := p.Apply(st, e)
		if err != nil {
			t.Fatalf("applying %s %d: %v", e.Type, e.Sequence, err)
		}
		all.Merge(eff)
		st = next
	}
	return st, all
}

func get(eff report.Effects, period string, scope report.Scope, metric string) int64 {
	return eff.Counters[report.CounterKey{Period: period, Scope: scope}].Get(metric)
}

func TestProjectorCountsALife(t *testing.T) {
	t.Parallel()
	due := ptr(at(50 * time.Hour))
	open := task{status: "waiting", priority: "high", pic: "alice", sup: "sam", deadline: due}
	started := open
	started.status, started.started = "in_progress", ptr(at(time.Hour))
	done := started
	done.status, done.done = "done", ptr(at(25*time.Hour))
	st, eff := apply(t,
		entry(1, eventlog.TaskCreated, at(0), open),
		entry(2, eventlog.TaskStatusChanged, at(time.Hour), started),
		entry(3, eventlog.TaskStatusChanged, at(25*time.Hour), done),
		entry(4, eventlog.TaskCompleted, at(25*time.Hour), done),
	)
	w, m := "2026-W10", "2026-03"
	alice, sam, pair := report.UserScope("alice"), report.SupervisorScope("sam"), report.PairScope("sam", "alice")
	for _, c := range []struct {
		period string
		scope  report.Scope
		metric string
		want   int64
	}{
		{w, report.UserScope("carl"), report.Created, 1},
		{w, alice, report.Created, 0},
		{w, sam, report.Created, 1}, {w, pair, report.Created, 1}, {m, report.TeamScope, report.Created, 1},
		{w, alice, report.Assigned, 1}, {w, alice, "assigned.high", 1},
		{w, alice, report.Started, 1}, {m, pair, report.Started, 1},
		{w, alice, report.Completed, 1}, {w, sam, report.Completed, 1}, {w, report.TeamScope, "completed.high", 1},
		{w, alice, report.CompletedOnTime, 1}, {w, alice, report.CompletedLate, 0},
		{w, alice, report.CycleCount, 1}, {w, alice, report.CycleSecondsSum, 24 * 3600},
		{w, alice, report.HistogramMetric(report.HistogramBucket(24 * time.Hour)), 1},
		{w, report.UserScope("carl"), report.Completed, 0},
	} {
		if got := get(eff, c.period, c.scope, c.metric); got != c.want {
			t.Errorf("%s %s %s = %d, want %d", c.period, c.scope, c.metric, got, c.want)
		}
	}
	f := eff.Facts[report.FactKey{Period: w, UserID: "alice", TaskID: "t1"}]
	if f.Name != "the task" || f.Counts.Get(report.Completed) != 1 || f.Counts.Get(report.Assigned) != 1 || f.Counts.Get(report.CompletedOnTime) != 1 {
		t.Errorf("alice's fact = %+v", f)
	}
	if st.LastSeq != 4 || st.IsOpen() || st.Status != "done" || !st.Since.Equal(at(25*time.Hour)) {
		t.Errorf("state = %+v", st)
	}
}

func TestProjectorLateReopenedAndWithoutDeadline(t *testing.T) {
	t.Parallel()
	s := task{status: "done", priority: "low", pic: "alice", deadline: ptr(at(time.Hour)), started: ptr(at(0)), done: ptr(at(2 * time.Hour))}
	reopened := s
	reopened.status, reopened.done = "in_progress", nil
	again := reopened
	again.status, again.done, again.deadline = "done", ptr(at(30*time.Hour)), nil
	_, eff := apply(t,
		entry(1, eventlog.TaskCreated, at(0), s), // created done: started and completed at once
		entry(2, eventlog.TaskCompleted, at(0), s),
		entry(3, eventlog.TaskStatusChanged, at(10*time.Hour), reopened),
		entry(4, eventlog.TaskReopened, at(10*time.Hour), reopened),
		entry(5, eventlog.TaskStatusChanged, at(30*time.Hour), again),
		entry(6, eventlog.TaskCompleted, at(30*time.Hour), again),
	)
	alice := report.UserScope("alice")
	w := "2026-W10"
	for metric, want := range map[string]int64{
		report.Started: 1, report.Completed: 2, report.CompletedLate: 1, report.CompletedOnTime: 0, report.Reopened: 1,
		report.CycleCount: 2, "reopened.low": 1,
	} {
		if got := get(eff, w, alice, metric); got != want {
			t.Errorf("%s = %d, want %d", metric, got, want)
		}
	}
}

func TestProjectorCountsOpenAndOverdueAtPeriodEnds(t *testing.T) {
	t.Parallel()
	// Created Monday of W10 due Wednesday, untouched until Tuesday of W12
	// (17 March), when it is reassigned from alice to bob.
	s := task{status: "waiting", priority: "urgent", pic: "alice", sup: "sam", deadline: ptr(at(48 * time.Hour))}
	moved := s
	moved.pic = "bob"
	st, eff := apply(t,
		entry(1, eventlog.TaskCreated, at(0), s),
		entry(2, eventlog.TaskAssigned, at(15*24*time.Hour), moved),
	)
	alice := report.UserScope("alice")
	for _, w := range []string{"2026-W10", "2026-W11"} {
		if get(eff, w, alice, report.Open) != 1 || get(eff, w, alice, report.Overdue) != 1 || get(eff, w, report.SupervisorScope("sam"), "overdue.urgent") != 1 {
			t.Errorf("%s: open %d overdue %d", w, get(eff, w, alice, report.Open), get(eff, w, alice, report.Overdue))
		}
		if f := eff.Facts[report.FactKey{Period: w, UserID: "alice", TaskID: "t1"}]; f.Counts.Get(report.Overdue) != 1 {
			t.Errorf("%s: alice's fact %+v", w, f)
		}
	}
	// W12 ends after the reassignment: that end belongs to bob's state,
	// still open; it is counted at query time, not here.
	if get(eff, "2026-W12", alice, report.Open) != 0 || get(eff, "2026-W12", report.UserScope("bob"), report.Open) != 0 {
		t.Errorf("W12 counted early: %v", eff.Counters)
	}
	if get(eff, "2026-03", alice, report.Open) != 0 {
		t.Error("March has not ended")
	}
	if get(eff, "2026-W12", report.UserScope("bob"), report.Assigned) != 1 {
		t.Error("the reassignment is not counted for bob")
	}
	open, overdue := st.OpenTask().At(at(20 * 24 * time.Hour))
	if !open || !overdue || st.PICID != "bob" {
		t.Errorf("state %+v: open %v, overdue %v", st, open, overdue)
	}
	// Before its state began, the open task does not count.
	if o, _ := st.OpenTask().At(at(24 * time.Hour)); o {
		t.Error("an open task counts before its state began")
	}
}

func TestProjectorRefusesOutOfOrderAndForeignEvents(t *testing.T) {
	t.Parallel()
	s := task{status: "waiting", priority: "medium"}
	if _, _, err := p.Apply(report.TaskState{}, entry(2, eventlog.TaskUpdated, at(0), s)); !errors.Is(err, report.ErrOutOfOrder) {
		t.Errorf("event 2 first: %v", err)
	}
	user := eventlog.Entry{EventID: "u", Type: "UserRegistered", AggregateType: eventlog.AggregateUser, AggregateID: "u1", Sequence: 1, OccurredAt: at(0)}
	if _, _, err := p.Apply(report.TaskState{}, user); !errors.Is(err, eventlog.ErrMalformedEvent) {
		t.Errorf("a user event: %v", err)
	}
	st, _ := apply(t, entry(1, eventlog.TaskCreated, at(0), s), entry(2, eventlog.TaskDeleted, at(time.Hour), s))
	if !st.Deleted || st.IsOpen() {
		t.Errorf("deleted state %+v", st)
	}
}

func TestMedianFromTheHistogram(t *testing.T) {
	t.Parallel()
	for _, durations := range [][]time.Duration{
		{time.Hour},
		{0, 24 * time.Hour, 72 * time.Hour},
		{30 * time.Minute, 2 * time.Hour, 3 * time.Hour, 5 * time.Hour, 100 * time.Hour},
		{10 * time.Second, 20 * time.Second, 30 * time.Second},
	} {
		c := report.Counters{}
		for _, d := range durations {
			c.Add(report.HistogramMetric(report.HistogramBucket(d)), 1)
			c.Add(report.CycleCount, 1)
			c.Add(report.CycleSecondsSum, int64(d.Seconds()))
		}
		want := durations[len(durations)/2].Hours()
		got := c.CycleTime().MedianHours
		if want >= 1.0/60 && math.Abs(got-want)/want > 0.095 {
			t.Errorf("median of %v = %.3f h, want %.3f h ± 9%%", durations, got, want)
		}
		if want < 1.0/60 && got > 1.0/60*1.1 {
			t.Errorf("median of %v = %.3f h, want under a minute", durations, got)
		}
	}
	if (report.Counters{}).CycleTime().Count != 0 {
		t.Error("no cycle times: a count")
	}
}
