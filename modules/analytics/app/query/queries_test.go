package query_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/taskd/taskd/modules/analytics/app/query"
	"github.com/taskd/taskd/modules/analytics/domain/eventlog"
	"github.com/taskd/taskd/modules/analytics/domain/report"
	"github.com/taskd/taskd/modules/kernel/actor"
	"github.com/taskd/taskd/modules/kernel/decorator"
)

var (
	discard = slog.New(slog.DiscardHandler)
	nop     = decorator.NopMetrics{}
	member  = func(u string) actor.Actor { return actor.Actor{UserID: u, Role: "member"} }
	manager = actor.Actor{UserID: sam.ID, Role: "manager"}
)

func ptr[T any](v T) *T { return &v }

func TestUserReport(t *testing.T) {
	t.Parallel()
	rm := newFakeReadModel()
	a := report.UserScope(alice.ID)
	rm.set("2026-W10", a, report.Counters{report.Completed: 3, report.CompletedOnTime: 2, report.CompletedLate: 1,
		report.Open: 1, report.Overdue: 1, "completed.high": 3, report.CycleCount: 3, report.CycleSecondsSum: 3 * 7200,
		report.HistogramMetric(report.HistogramBucket(2 * time.Hour)): 3})
	rm.set("2026-W09", a, report.Counters{report.Completed: 1})
	rm.facts["2026-W10/"+alice.ID] = map[string]report.Fact{
		"t1": {Name: "b task", Priority: "low", Counts: report.Counters{report.Completed: 1, report.CompletedLate: 1}},
		"t2": {Name: "a task", Priority: "urgent", Counts: report.Counters{report.Assigned: 1}},
	}
	// t3 is open since Tuesday of W10 and overdue since Thursday; t4 opened this week.
	rm.open = []report.OpenTask{
		{TaskID: "t3", Name: "open", Priority: "high", PICID: alice.ID, Deadline: ptr(time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)), Since: time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)},
		{TaskID: "t4", Name: "new", Priority: "low", PICID: alice.ID, Since: time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)},
	}
	h := query.NewUserReportHandler(rm, users, config(), discard, nop)

	r, err := h.Handle(context.Background(), query.UserReport{Actor: member(alice.ID), Kind: report.Week, Period: "2026-W10"})
	if err != nil {
		t.Fatal(err)
	}
	c := r.Counts
	if c.Completed != 3 || c.Open != 2 || c.Overdue != 2 || *c.CompletionRate != 0.6 || *c.OnTimeRate != 2.0/3 {
		t.Errorf("counts = %+v", c)
	}
	if c.ByPriority["high"].Completed != 3 || c.ByPriority["high"].Overdue != 1 || c.CycleTime.Count != 3 || *c.CycleTime.MeanHours != 2 {
		t.Errorf("by priority / cycle time = %+v / %+v", c.ByPriority, c.CycleTime)
	}
	if r.PreviousCounts.Completed != 1 || r.PreviousCounts.Open != 0 || r.Delta.Completed != 2 || r.Delta.OnTimeRate != nil ||
		r.Delta.CompletionRate == nil || *r.Delta.CompletionRate > -0.39 || *r.Delta.CompletionRate < -0.41 || r.Previous.Key != "2026-W09" {
		t.Errorf("previous %+v, delta %+v", r.PreviousCounts, r.Delta)
	}
	if r.User != alice || r.Period.Current || !r.Period.AsOf.Equal(time.Date(2026, 3, 8, 23, 59, 59, 999999000, time.UTC)) {
		t.Errorf("user %+v, period %+v", r.User, r.Period)
	}
	var got []string
	for _, tk := range r.Tasks {
		got = append(got, tk.ID)
	}
	if len(got) != 3 || got[0] != "t2" || got[1] != "t3" || got[2] != "t1" || len(r.Tasks[1].CountedAs) != 2 {
		t.Errorf("tasks = %+v", r.Tasks)
	}

	// This week: open counted now; t4 too.
	cur, err := h.Handle(context.Background(), query.UserReport{Actor: member(alice.ID)})
	if err != nil || cur.Period.Key != "2026-W11" || !cur.Period.Current || cur.Counts.Open != 2 || cur.Counts.Overdue != 1 {
		t.Errorf("this week: %+v, %v", cur.Counts, err)
	}
	// A manager reads alice's month by e-mail.
	if m, err := h.Handle(context.Background(), query.UserReport{Actor: manager, Kind: report.Month, Period: "2026-03", User: "alice@example.com"}); err != nil || m.User.ID != alice.ID {
		t.Errorf("a manager's view: %+v, %v", m.User, err)
	}
}

func TestUserReportRefusals(t *testing.T) {
	t.Parallel()
	h := query.NewUserReportHandler(newFakeReadModel(), users, config(), discard, nop)
	for _, c := range []struct {
		name string
		q    query.UserReport
		want error
	}{
		{"another's", query.UserReport{Actor: member(alice.ID), User: bob.Email}, query.ErrReportForbidden},
		{"another's by id", query.UserReport{Actor: member(alice.ID), User: bob.ID}, query.ErrReportForbidden},
		{"nobody, a member", query.UserReport{Actor: member(alice.ID), User: "nobody@example.com"}, query.ErrReportForbidden},
		{"nobody, a manager", query.UserReport{Actor: manager, User: "nobody@example.com"}, query.ErrUserNotFound},
		{"not a reference", query.UserReport{Actor: manager, User: "bob"}, query.ErrInvalidUserRef},
		{"week 54", query.UserReport{Actor: manager, Kind: report.Week, Period: "2026-W54"}, report.ErrInvalidWeek},
		{"month 13", query.UserReport{Actor: manager, Kind: report.Month, Period: "2026-13"}, report.ErrInvalidMonth},
		{"next week", query.UserReport{Actor: manager, Kind: report.Week, Period: "2026-W12"}, report.ErrPeriodInFuture},
	} {
		if _, err := h.Handle(context.Background(), c.q); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := h.Handle(context.Background(), query.UserReport{Actor: member(alice.ID), User: "ME"}); err != nil {
		t.Errorf("ME: %v", err)
	}
}

func TestTeamReport(t *testing.T) {
	t.Parallel()
	rm := newFakeReadModel()
	rm.set("2026-W10", report.UserScope(bob.ID), report.Counters{report.Completed: 2})
	rm.set("2026-W10", report.UserScope(alice.ID), report.Counters{report.Completed: 1})
	rm.set("2026-W09", report.UserScope(sam.ID), report.Counters{report.Created: 4})
	rm.set("2026-W10", report.TeamScope, report.Counters{report.Completed: 3, report.Created: 5})
	rm.set("2026-W10", report.PairScope(sam.ID, alice.ID), report.Counters{report.Completed: 1})
	rm.set("2026-W10", report.SupervisorScope(sam.ID), report.Counters{report.Completed: 1})
	rm.open = []report.OpenTask{{TaskID: "t9", PICID: bob.ID, SupervisorID: sam.ID, Since: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}}
	h := query.NewTeamReportHandler(rm, users, config(), discard, nop)

	r, err := h.Handle(context.Background(), query.TeamReport{Actor: manager, Period: "2026-W10"})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Rows) != 3 || r.Rows[0].User.Name != "Alice" || r.Rows[1].User.Name != "Bob" || r.Rows[2].User.Name != "Sam" {
		t.Fatalf("rows = %+v", r.Rows)
	}
	if r.Rows[1].Counts.Completed != 2 || r.Rows[1].Counts.Open != 1 || r.Rows[2].Previous.Created != 4 || r.Rows[2].Delta.Created != -4 {
		t.Errorf("bob's and sam's rows = %+v / %+v", r.Rows[1], r.Rows[2])
	}
	if r.Totals.Counts.Completed != 3 || r.Totals.Counts.Open != 1 || r.Supervisor != nil {
		t.Errorf("totals = %+v", r.Totals)
	}

	// Sam's people: alice (counters) and bob (an open task Sam supervises).
	mine, err := h.Handle(context.Background(), query.TeamReport{Actor: member(sam.ID), Period: "2026-W10", Supervisor: "me"})
	if err != nil {
		t.Fatal(err)
	}
	if mine.Supervisor == nil || mine.Supervisor.ID != sam.ID || len(mine.Rows) != 2 || mine.Totals.Counts.Completed != 1 || mine.Totals.Counts.Open != 1 {
		t.Errorf("sam's people: %+v", mine)
	}
	for _, q := range []query.TeamReport{
		{Actor: member(alice.ID)},
		{Actor: member(alice.ID), Supervisor: sam.Email},
	} {
		if _, err := h.Handle(context.Background(), q); !errors.Is(err, query.ErrTeamForbidden) {
			t.Errorf("%+v: %v", q, err)
		}
	}
	if _, err := h.Handle(context.Background(), query.TeamReport{Actor: manager, Supervisor: "nobody@example.com"}); !errors.Is(err, query.ErrUserNotFound) {
		t.Errorf("nobody's people: %v", err)
	}
}

func entryAt(id string, seq int64, actorID string, at time.Time) eventlog.Entry {
	return eventlog.Entry{EventID: id + "-" + string(rune('0'+seq)), Type: "TaskUpdated", OccurredAt: at, ActorID: actorID,
		AggregateType: "task", AggregateID: id, Sequence: seq, Changes: []eventlog.Change{{Field: "name", Old: "a", New: "b"}}}
}

func TestTaskHistory(t *testing.T) {
	t.Parallel()
	rm := newFakeReadModel()
	for seq := int64(1); seq <= 3; seq++ {
		rm.entries = append(rm.entries, entryAt("live", seq, alice.ID, now.Add(time.Duration(seq)*time.Hour)))
		rm.entries = append(rm.entries, entryAt("gone", seq, bob.ID, now))
	}
	h := query.NewTaskHistoryHandler(rm, fakeTasks{"live": true, "new": true}, discard, nop)
	ctx := context.Background()
	page, err := h.Handle(ctx, query.TaskHistory{Actor: member(bob.ID), TaskID: "live", Limit: 2})
	if err != nil || len(page.Entries) != 2 || page.NextAfter != 2 || page.Deleted || page.Entries[0].Changes[0].New != "b" {
		t.Fatalf("first page: %+v, %v", page, err)
	}
	page, err = h.Handle(ctx, query.TaskHistory{Actor: member(bob.ID), TaskID: "live", AfterSequence: 2})
	if err != nil || len(page.Entries) != 1 || page.NextAfter != 0 {
		t.Errorf("second page: %+v, %v", page, err)
	}
	if p, err := h.Handle(ctx, query.TaskHistory{Actor: member(bob.ID), TaskID: "new"}); err != nil || len(p.Entries) != 0 {
		t.Errorf("a task whose events are not logged yet: %+v, %v", p, err)
	}
	if _, err := h.Handle(ctx, query.TaskHistory{Actor: member(bob.ID), TaskID: "gone"}); !errors.Is(err, query.ErrTaskNotFound) {
		t.Errorf("a deleted task, a member: %v", err)
	}
	if p, err := h.Handle(ctx, query.TaskHistory{Actor: manager, TaskID: "gone"}); err != nil || !p.Deleted || len(p.Entries) != 3 {
		t.Errorf("a deleted task, a manager: %+v, %v", p, err)
	}
	if _, err := h.Handle(ctx, query.TaskHistory{Actor: manager, TaskID: "never"}); !errors.Is(err, query.ErrTaskNotFound) {
		t.Errorf("no such task: %v", err)
	}
	if _, err := h.Handle(ctx, query.TaskHistory{Actor: manager, TaskID: "live", Limit: 1001}); !errors.Is(err, query.ErrInvalidLimit) {
		t.Errorf("limit 1001: %v", err)
	}
}

func TestActivity(t *testing.T) {
	t.Parallel()
	rm := newFakeReadModel()
	for seq := int64(1); seq <= 5; seq++ {
		who := alice.ID
		if seq%2 == 0 {
			who = bob.ID
		}
		rm.entries = append(rm.entries, entryAt("t", seq, who, now.Add(-time.Duration(10-seq)*time.Hour)))
	}
	h := query.NewActivityHandler(rm, users, config(), discard, nop)
	ctx := context.Background()
	page, err := h.Handle(ctx, query.Activity{Actor: member(alice.ID), User: "me", Limit: 2})
	if err != nil || len(page.Entries) != 2 || page.NextCursor == "" {
		t.Fatalf("alice's first page: %+v, %v", page, err)
	}
	page, err = h.Handle(ctx, query.Activity{Actor: member(alice.ID), User: "me", Limit: 2, Cursor: page.NextCursor})
	if err != nil || len(page.Entries) != 1 || page.NextCursor != "" || page.Entries[0].Sequence != 5 {
		t.Errorf("alice's second page: %+v, %v", page, err)
	}
	if all, err := h.Handle(ctx, query.Activity{Actor: manager}); err != nil || len(all.Entries) != 5 {
		t.Errorf("everyone's: %d, %v", len(all.Entries), err)
	}
	for name, c := range map[string]struct {
		q    query.Activity
		want error
	}{
		"everyone's, a member": {query.Activity{Actor: member(alice.ID)}, query.ErrReportForbidden},
		"bob's, alice":         {query.Activity{Actor: member(alice.ID), User: bob.Email}, query.ErrReportForbidden},
		"a bad cursor":         {query.Activity{Actor: manager, Cursor: "!!"}, query.ErrInvalidCursor},
		"from after to":        {query.Activity{Actor: manager, From: now, To: now.Add(-time.Hour)}, query.ErrInvalidRange},
		"two years":            {query.Activity{Actor: manager, From: now.AddDate(-2, 0, 0), To: now}, query.ErrInvalidRange},
		"limit 2000":           {query.Activity{Actor: manager, Limit: 2000}, query.ErrInvalidLimit},
	} {
		if _, err := h.Handle(ctx, c.q); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
}
