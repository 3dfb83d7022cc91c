package contracttest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/taskd/taskd/modules/analytics"
	analyticsapp "github.com/taskd/taskd/modules/analytics/app"
	"github.com/taskd/taskd/modules/analytics/app/command"
	"github.com/taskd/taskd/modules/analytics/app/query"
	analyticscontracts "github.com/taskd/taskd/modules/analytics/contracts"
	"github.com/taskd/taskd/modules/analytics/domain/eventlog"
	"github.com/taskd/taskd/modules/analytics/domain/report"
	"github.com/taskd/taskd/modules/kernel/actor"
	"github.com/taskd/taskd/modules/kernel/event"
	taskcontracts "github.com/taskd/taskd/modules/tasks/contracts"
	"github.com/taskd/taskd/modules/tasks/domain/task"
)

// AnalyticsEnv is one adapter's analytics storage, over a store of its own
// (the suite rebuilds and counts team-wide, so it cannot share one).
type AnalyticsEnv struct {
	Store analytics.Store
	// Dump returns every task state, counter and report task.
	Dump func(ctx context.Context) ([]report.TaskState, report.Effects, error)
	// Tx, when set, runs fn in one transaction the store joins: how the
	// embedded event transport runs a handler (in the transaction that
	// acknowledges the event). The benchmarks record events in it.
	Tx func(ctx context.Context, fn func(ctx context.Context) error) error
}

// record records e as a handler of env does.
func (env AnalyticsEnv) record(ctx context.Context, app analyticsapp.Application, e event.Event) error {
	handle := func(ctx context.Context) error {
		return app.Commands.RecordEvent.Handle(ctx, command.RecordEvent{Event: e})
	}
	if env.Tx != nil {
		return env.Tx(ctx, handle)
	}
	return handle(ctx)
}

// Analytics is the contract of the analytics storage port (analytics.Store):
// the event log, the conditional projection commit, the read models and
// the rebuild, and the application over them.
func Analytics(t *testing.T, newEnv func(t testing.TB) AnalyticsEnv) {
	t.Run("log stores an event once, also when delivered concurrently", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		e := anEntry(t, anTask(), 1, "", at(0))
		var appended sync.Map
		for i, err := range parallel(8, func(i int) error {
			ok, err := env.Store.Append(ctxOf(t), e)
			appended.Store(i, ok)
			return err
		}) {
			if err != nil {
				t.Fatalf("append %d: %v", i, err)
			}
		}
		n := 0
		appended.Range(func(_, v any) bool {
			if v.(bool) {
				n++
			}
			return true
		})
		equal(t, "appends that stored the event", n, 1)
		got, err := env.Store.Entries(ctxOf(t), eventlog.AggregateTask, e.AggregateID, 0, 10)
		must(t, err)
		equal(t, "entries", len(got), 1)
		equal(t, "payload", string(got[0].Payload), string(e.Payload))
		equal(t, "entry", anComparable(got[0]), anComparable(e))
	})

	t.Run("log refuses another event with a logged sequence", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		id := anTask()
		_, err := env.Store.Append(ctxOf(t), anEntry(t, id, 1, "", at(0)))
		must(t, err)
		_, err = env.Store.Append(ctxOf(t), anEntry(t, id, 1, "", at(time.Second)))
		wantErr(t, err, eventlog.ErrSequenceConflict)
	})

	t.Run("log reads an aggregate in sequence order, by actor and by time", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		id, alice, bob := anTask(), newID(), newID()
		var all []eventlog.Entry
		// Appended out of order, over two days; alice makes the odd ones.
		for _, seq := range []int64{3, 1, 5, 2, 4, 6} {
			who := bob
			if seq%2 == 1 {
				who = alice
			}
			e := anEntry(t, id, seq, who, at(time.Duration(seq)*7*time.Hour))
			all = append(all, e)
			_, err := env.Store.Append(ctxOf(t), e)
			must(t, err)
		}
		got, err := env.Store.Entries(ctxOf(t), eventlog.AggregateTask, id, 0, 100)
		must(t, err)
		equal(t, "sequences", anSeqs(got), []int64{1, 2, 3, 4, 5, 6})
		got, err = env.Store.Entries(ctxOf(t), eventlog.AggregateTask, id, 2, 2)
		must(t, err)
		equal(t, "sequences after 2, two", anSeqs(got), []int64{3, 4})
		got, err = env.Store.Entries(ctxOf(t), eventlog.AggregateUser, id, 0, 100)
		must(t, err)
		equal(t, "entries of another aggregate type", len(got), 0)

		// By actor: alice's in time order, paged by position.
		q := eventlog.Query{ActorID: alice, From: at(0), To: at(1000 * time.Hour), Limit: 2}
		page, err := env.Store.Events(ctxOf(t), q)
		must(t, err)
		equal(t, "alice's first page", anSeqs(page), []int64{1, 3})
		pos := eventlog.PositionOf(page[1])
		q.After = &pos
		page, err = env.Store.Events(ctxOf(t), q)
		must(t, err)
		equal(t, "alice's second page", anSeqs(page), []int64{5})
		// By time: [14h, 35h) holds sequences 2 to 4.
		page, err = env.Store.Events(ctxOf(t), eventlog.Query{From: at(14 * time.Hour), To: at(35 * time.Hour), Limit: 10})
		must(t, err)
		equal(t, "by time", anSeqs(page), []int64{2, 3, 4})
	})

	t.Run("commit moves a state only from the one it was computed from", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		s := env.Store
		id := anTask()
		st, err := s.TaskState(ctxOf(t), id)
		must(t, err)
		equal(t, "state of an unseen task", st.LastSeq, int64(0))
		one := anState(id, 1, "waiting")
		c := report.Commit{Before: report.TaskState{TaskID: id}, After: one, EventIDs: []string{NewEventID()}, Effects: report.NewEffects()}
		// Concurrent commits of the same step: exactly one wins.
		errs := parallel(6, func(i int) error {
			c := c
			c.EventIDs = []string{NewEventID()}
			return s.Commit(ctxOf(t), c)
		})
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, report.ErrStaleState):
				t.Fatalf("a losing commit: %v, want ErrStaleState", err)
			}
		}
		equal(t, "commits that won", won, 1)
		two := anState(id, 2, "in_progress")
		wantErr(t, s.Commit(ctxOf(t), report.Commit{Before: report.TaskState{TaskID: id}, After: two, EventIDs: []string{NewEventID()}}), report.ErrStaleState)
		must(t, s.Commit(ctxOf(t), report.Commit{Before: one, After: two, EventIDs: []string{NewEventID()}}))
		wantErr(t, s.Commit(ctxOf(t), report.Commit{Before: one, After: anState(id, 3, "done"), EventIDs: []string{NewEventID()}}), report.ErrStaleState)
		got, err := s.TaskState(ctxOf(t), id)
		must(t, err)
		equal(t, "state", anState(got.TaskID, got.LastSeq, got.Status), two)
		sameTime(t, "deadline", got.Deadline, two.Deadline)
	})

	t.Run("commit adds counters and report tasks, read by key and by prefix", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		s := env.Store
		id, pic, sup := anTask(), newID(), newID()
		eff := report.NewEffects()
		week := "2026-W10"
		ck := func(sc report.Scope) report.CounterKey { return report.CounterKey{Period: week, Scope: sc} }
		eff.Counters[ck(report.UserScope(pic))] = report.Counters{report.Completed: 1, "completed.high": 1, report.HistogramMetric(7): 1}
		eff.Counters[ck(report.PairScope(sup, pic))] = report.Counters{report.Completed: 1}
		eff.Counters[ck(report.TeamScope)] = report.Counters{report.Completed: 1}
		eff.Facts[report.FactKey{Period: week, UserID: pic, TaskID: id}] = report.Fact{Name: "보고서 ✍️", Priority: "high", Counts: report.Counters{report.Completed: 1}}
		one := anState(id, 1, "waiting")
		must(t, s.Commit(ctxOf(t), report.Commit{Before: report.TaskState{TaskID: id}, After: one, EventIDs: []string{NewEventID()}, Effects: eff}))
		eff2 := report.NewEffects()
		eff2.Counters[ck(report.UserScope(pic))] = report.Counters{report.Completed: 2, report.CycleSecondsSum: 3600}
		eff2.Facts[report.FactKey{Period: week, UserID: pic, TaskID: id}] = report.Fact{Name: "renamed", Priority: "low", Counts: report.Counters{report.CompletedLate: 1}}
		must(t, s.Commit(ctxOf(t), report.Commit{Before: one, After: anState(id, 2, "done"), EventIDs: []string{NewEventID()}, Effects: eff2}))

		got, err := s.Counters(ctxOf(t), []report.CounterKey{ck(report.UserScope(pic)), ck(report.UserScope(newID())), {Period: "2026-W11", Scope: report.UserScope(pic)}})
		must(t, err)
		equal(t, "counters", got, map[report.CounterKey]report.Counters{
			ck(report.UserScope(pic)): {report.Completed: 3, "completed.high": 1, report.HistogramMetric(7): 1, report.CycleSecondsSum: 3600},
		})
		byPrefix, err := s.CountersByPrefix(ctxOf(t), week, report.PairScopePrefix(sup))
		must(t, err)
		equal(t, "a supervisor's people", byPrefix, map[report.Scope]report.Counters{report.PairScope(sup, pic): {report.Completed: 1}})
		byPrefix, err = s.CountersByPrefix(ctxOf(t), week, report.UserScopePrefix)
		must(t, err)
		equal(t, "users", slices.Collect(maps.Keys(byPrefix)), []report.Scope{report.UserScope(pic)})
		facts, err := s.Facts(ctxOf(t), week, pic)
		must(t, err)
		equal(t, "report tasks", facts, map[string]report.Fact{id: {Name: "renamed", Priority: "low", Counts: report.Counters{report.Completed: 1, report.CompletedLate: 1}}})
	})

	t.Run("open tasks follow the state's PIC, supervisor and status", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		s := env.Store
		id, pic, sup, other := anTask(), newID(), newID(), newID()
		one := anState(id, 1, "waiting")
		one.PICID, one.SupervisorID = pic, sup
		must(t, s.Commit(ctxOf(t), report.Commit{Before: report.TaskState{TaskID: id}, After: one, EventIDs: []string{NewEventID()}}))
		wantOpen := func(scope report.Scope, want ...string) {
			t.Helper()
			got, err := s.OpenTasks(ctxOf(t), scope)
			must(t, err)
			var ids []string
			for _, o := range got {
				ids = append(ids, o.TaskID)
				if o.TaskID == id {
					equal(t, "open task name", o.Name, one.Name)
					sameTime(t, "open task deadline", o.Deadline, one.Deadline)
					sameTime(t, "open task since", &o.Since, &one.Since)
				}
			}
			sort.Strings(ids)
			if want == nil {
				want = []string(nil)
			}
			equal(t, "open tasks of "+string(scope), ids, want)
		}
		wantOpen(report.UserScope(pic), id)
		wantOpen(report.SupervisorScope(sup), id)
		wantOpen(report.TeamScope, id)
		two := one
		two.LastSeq, two.PICID = 2, other
		must(t, s.Commit(ctxOf(t), report.Commit{Before: one, After: two, EventIDs: []string{NewEventID()}}))
		wantOpen(report.UserScope(pic))
		wantOpen(report.UserScope(other), id)
		three := two
		three.LastSeq, three.Status = 3, report.StatusDone
		must(t, s.Commit(ctxOf(t), report.Commit{Before: two, After: three, EventIDs: []string{NewEventID()}}))
		wantOpen(report.UserScope(other))
		wantOpen(report.SupervisorScope(sup))
		wantOpen(report.TeamScope)
	})

	t.Run("open tasks are counted by PIC and priority at an instant", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		s := env.Store
		sup, alice, bob := newID(), newID(), newID()
		add := func(pic, priority string, since time.Time, deadline *time.Time) {
			st := report.TaskState{TaskID: anTask(), LastSeq: 1, Since: since, Name: "t", Status: report.StatusWaiting,
				Priority: priority, Deadline: deadline, PICID: pic, SupervisorID: sup, CreatorID: "c"}
			must(t, s.Commit(ctxOf(t), report.Commit{Before: report.TaskState{TaskID: st.TaskID}, After: st, EventIDs: []string{NewEventID()}}))
		}
		instant := at(100 * time.Hour)
		add(alice, "high", at(0), ptr(at(50*time.Hour)))             // open, overdue
		add(alice, "high", at(10*time.Hour), ptr(at(200*time.Hour))) // open
		add(alice, "low", at(0), nil)                                // open
		add(bob, "high", at(0), ptr(at(100*time.Hour)))              // open; due at the instant, not past it
		add(bob, "high", at(150*time.Hour), ptr(at(0)))              // not yet in this state at the instant
		got, err := s.OpenSummary(ctxOf(t), report.SupervisorScope(sup), instant)
		must(t, err)
		want := []report.OpenGroup{{PICID: alice, Priority: "high", Open: 2, Overdue: 1}, {PICID: alice, Priority: "low", Open: 1}, {PICID: bob, Priority: "high", Open: 1}}
		if alice > bob {
			want = []report.OpenGroup{want[2], want[0], want[1]}
		}
		equal(t, "open tasks by PIC and priority", got, want)
		tasks, err := s.OpenTasks(ctxOf(t), report.SupervisorScope(sup))
		must(t, err)
		equal(t, "the same, summarised from the tasks", report.SummarizeOpen(tasks, instant), want)
	})

	t.Run("a rebuild stops live commits and finds the lagging tasks", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		s := env.Store
		must(t, s.SetTimeZone(ctxOf(t), "UTC"))
		must(t, s.SetTimeZone(ctxOf(t), "Asia/Seoul")) // only a rebuild changes it
		meta, err := s.Meta(ctxOf(t))
		must(t, err)
		equal(t, "time zone", meta.TimeZone, "UTC")
		gen := meta.Generation
		id := anTask()
		_, err = s.Append(ctxOf(t), anEntry(t, id, 1, "", at(0)))
		must(t, err)
		must(t, s.BeginRebuild(ctxOf(t), "Asia/Seoul"))
		meta, err = s.Meta(ctxOf(t))
		must(t, err)
		equal(t, "meta while rebuilding", meta, report.Meta{Generation: gen + 1, Rebuilding: true, TimeZone: "Asia/Seoul"})
		wantErr(t, s.Commit(ctxOf(t), report.Commit{Before: report.TaskState{TaskID: id}, After: anState(id, 1, "waiting"), EventIDs: []string{NewEventID()}}), report.ErrRebuilding)
		must(t, s.EndRebuild(ctxOf(t)))
		lagging, err := s.LaggingTasks(ctxOf(t))
		must(t, err)
		equal(t, "lagging tasks", lagging, []string{id})
		must(t, s.Commit(ctxOf(t), report.Commit{Before: report.TaskState{TaskID: id}, After: anState(id, 1, "waiting"), EventIDs: []string{NewEventID()}}))
		lagging, err = s.LaggingTasks(ctxOf(t))
		must(t, err)
		equal(t, "lagging tasks after the catch-up", len(lagging), 0)
	})

	t.Run("an event ending a state that spanned years counts every period end, once", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		app := anApp(t, env, nil)
		h := newAnHistory(t, app)
		start := time.Date(2020, 1, 1, 12, 0, 0, 0, time.UTC)
		due := start.Add(24 * time.Hour)
		id := h.create(newID(), newID(), newID(), "high", &due, start)
		h.deliver()
		h.rename(id, h.tasks[id].CreatorID(), "still open", start.AddDate(3, 0, 0))
		events := h.pending
		h.deliver()
		_, eff, err := env.Dump(ctxOf(t))
		must(t, err)
		weeks := len(report.Ends(report.Week, start, start.AddDate(3, 0, 0), time.UTC))
		months := len(report.Ends(report.Month, start, start.AddDate(3, 0, 0), time.UTC))
		overdue := 0
		for k, c := range eff.Counters {
			if k.Scope == report.TeamScope && c.Get(report.Overdue) == 1 && c.Get(report.Open) == 1 {
				overdue++
			}
		}
		equal(t, "period ends counted open and overdue", overdue, weeks+months)
		// Delivered again: nothing changes.
		for _, e := range events {
			must(t, app.Commands.RecordEvent.Handle(ctxOf(t), command.RecordEvent{Event: e}))
		}
		_, again, err := env.Dump(ctxOf(t))
		must(t, err)
		equal(t, "counters after a redelivery", again.Counters, eff.Counters)
	})

	t.Run("reports count a known week", func(t *testing.T) {
		t.Parallel()
		analyticsKnownWeek(t, newEnv(t))
	})

	t.Run("shuffled, duplicated delivery projects what in-order delivery does, and a rebuild reproduces it", func(t *testing.T) {
		t.Parallel()
		w := GenerateWorkload(WorkloadConfig{Events: 600, Users: 8, Seed: 7, Span: 5 * 7 * 24 * time.Hour})
		inOrder, shuffled := newEnv(t), newEnv(t)
		a, b := anApp(t, inOrder, nil), anApp(t, shuffled, nil)
		for _, e := range w.Events {
			must(t, a.Commands.RecordEvent.Handle(ctxOf(t), command.RecordEvent{Event: e}))
		}
		// Concurrent deliveries, as from several SQS consumers.
		events := w.Shuffled(3, 40, 0.1)
		ch := make(chan event.Event)
		var wg sync.WaitGroup
		var failed sync.Once
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for e := range ch {
					// A failed delivery is delivered again, as SQS does
					// (a transaction that lost to a concurrent one, say).
					var err error
					for attempt := 0; attempt < 5; attempt++ {
						if err = b.Commands.RecordEvent.Handle(context.Background(), command.RecordEvent{Event: e}); err == nil {
							break
						}
						time.Sleep(time.Duration(attempt+1) * 20 * time.Millisecond)
					}
					if err != nil {
						failed.Do(func() { t.Errorf("delivering %s: %v", e.EventMeta().ID, err) })
					}
				}
			}()
		}
		for _, e := range events {
			ch <- e
		}
		close(ch)
		wg.Wait()
		want := anDump(t, inOrder)
		equal(t, "tasks projected", len(want.states), anTaskCount(w))
		anSameDump(t, "shuffled delivery", anDump(t, shuffled), want)

		var last [2]int64
		must(t, b.Commands.RebuildReadModels.Handle(ctxOf(t), command.RebuildReadModels{Progress: func(done, total int64) { last = [2]int64{done, total} }}))
		equal(t, "rebuild progress at the end", last, [2]int64{int64(len(w.Events)), int64(len(w.Events))})
		anSameDump(t, "rebuilt", anDump(t, shuffled), want)
		meta, err := shuffled.Store.Meta(ctxOf(t))
		must(t, err)
		equal(t, "rebuilding after the rebuild", meta.Rebuilding, false)
		// Redelivering everything after the rebuild changes nothing.
		for _, e := range w.Events[:200] {
			must(t, b.Commands.RecordEvent.Handle(ctxOf(t), command.RecordEvent{Event: e}))
		}
		anSameDump(t, "redelivered after the rebuild", anDump(t, shuffled), want)
	})

	t.Run("a rebuild catches up events logged while it ran", func(t *testing.T) {
		t.Parallel()
		w := GenerateWorkload(WorkloadConfig{Events: 200, Users: 5, Seed: 11})
		ref, env := newEnv(t), newEnv(t)
		a, b := anApp(t, ref, nil), anApp(t, env, nil)
		for _, e := range w.Events {
			must(t, a.Commands.RecordEvent.Handle(ctxOf(t), command.RecordEvent{Event: e}))
		}
		half := len(w.Events) / 2
		for _, e := range w.Events[:half] {
			must(t, b.Commands.RecordEvent.Handle(ctxOf(t), command.RecordEvent{Event: e}))
		}
		// The second half arrives while the read models are flagged: logged,
		// not projected; the end of a rebuild projects them.
		must(t, env.Store.BeginRebuild(ctxOf(t), "UTC"))
		for _, e := range w.Events[half:] {
			must(t, b.Commands.RecordEvent.Handle(ctxOf(t), command.RecordEvent{Event: e}))
		}
		must(t, b.Commands.RebuildReadModels.Handle(ctxOf(t), command.RebuildReadModels{}))
		anSameDump(t, "rebuilt with late events", anDump(t, env), anDump(t, ref))
	})
}

// anTask returns a new task id.
func anTask() string { return newID() }

// anEntry makes a logged TaskUpdated (TaskCreated for sequence 1) of task id.
func anEntry(t testing.TB, id string, seq int64, actorID string, when time.Time) eventlog.Entry {
	t.Helper()
	name := taskcontracts.NameTaskUpdated
	if seq == 1 {
		name = taskcontracts.NameTaskCreated
	}
	e := taskcontracts.TaskEvent{
		Meta: event.Meta{ID: NewEventID(), Type: name, SchemaVersion: 1, OccurredAt: when, ActorID: actorID,
			AggregateType: taskcontracts.AggregateType, AggregateID: id, Sequence: seq},
		Task: taskcontracts.Snapshot{ID: id, Name: fmt.Sprint("task ", seq), Status: "waiting", Priority: "medium",
			CreatorID: actorID, CreatedAt: when, UpdatedAt: when, Version: seq},
		Changes: []event.Change{{Field: "name", Old: nil, New: fmt.Sprint("task ", seq)}},
	}
	b, err := json.Marshal(e)
	must(t, err)
	entry, err := eventlog.ParseEntry(b)
	must(t, err)
	return entry
}

// anComparable drops the raw payload (compared separately).
func anComparable(e eventlog.Entry) eventlog.Entry {
	e.Payload = nil
	return e
}

func anSeqs(es []eventlog.Entry) []int64 {
	out := make([]int64, 0, len(es))
	for _, e := range es {
		out = append(out, e.Sequence)
	}
	return out
}

func anState(id string, seq int64, status string) report.TaskState {
	d := base.Add(72 * time.Hour)
	return report.TaskState{
		TaskID: id, LastSeq: seq, Since: base.Add(time.Duration(seq) * time.Hour), Name: "보고서 " + fmt.Sprint(seq),
		Status: status, Priority: "high", Deadline: &d, CreatorID: "creator",
	}
}

// anUsers is a user directory of a fixed set of users.
type anUsers map[string]analyticscontracts.UserInfo

func (u anUsers) ResolveUser(_ context.Context, ref string) (analyticscontracts.UserInfo, error) {
	for _, x := range u {
		if x.ID == ref || x.Email == ref {
			return x, nil
		}
	}
	return analyticscontracts.UserInfo{}, query.ErrUserNotFound
}

func (u anUsers) UsersByIDs(_ context.Context, ids []string) (map[string]analyticscontracts.UserInfo, error) {
	out := map[string]analyticscontracts.UserInfo{}
	for _, id := range ids {
		if x, ok := u[id]; ok {
			out[id] = x
		}
	}
	return out, nil
}

type anTasks struct{}

func (anTasks) TaskExists(context.Context, string) (bool, error) { return true, nil }

// anApp is the analytics application over env, in UTC, at clock (nil: base
// plus a year, so every generated period is over).
func anApp(t testing.TB, env AnalyticsEnv, clock func() time.Time) analyticsapp.Application {
	t.Helper()
	return anAppWith(t, env, clock, anUsers{}, time.UTC)
}

func anAppWith(t testing.TB, env AnalyticsEnv, clock func() time.Time, users anUsers, loc *time.Location) analyticsapp.Application {
	t.Helper()
	return anAppBatch(t, env, clock, users, loc, 97) // small batches: a rebuild writes many
}

func anAppBatch(t testing.TB, env AnalyticsEnv, clock func() time.Time, users anUsers, loc *time.Location, batch int) analyticsapp.Application {
	t.Helper()
	if clock == nil {
		clock = func() time.Time { return base.AddDate(1, 0, 0) }
	}
	a, err := analytics.NewApplication(analytics.Deps{
		Store: env.Store, Users: users, Tasks: anTasks{}, Settings: analytics.Settings{Location: loc, RebuildBatch: batch},
		Clock: clock,
	})
	must(t, err)
	return a
}

type anDumped struct {
	states []report.TaskState
	eff    report.Effects
}

func anDump(t testing.TB, env AnalyticsEnv) anDumped {
	t.Helper()
	states, eff, err := env.Dump(ctxOf(t))
	must(t, err)
	for i := range states {
		states[i] = anNormal(states[i])
	}
	sort.Slice(states, func(i, j int) bool { return states[i].TaskID < states[j].TaskID })
	return anDumped{states: states, eff: eff}
}

// anNormal makes times comparable with reflect.DeepEqual.
func anNormal(s report.TaskState) report.TaskState {
	s.Since = s.Since.UTC()
	if s.Deadline != nil {
		d := s.Deadline.UTC()
		s.Deadline = &d
	}
	if s.StartedAt != nil {
		d := s.StartedAt.UTC()
		s.StartedAt = &d
	}
	return s
}

func anSameDump(t testing.TB, what string, got, want anDumped) {
	t.Helper()
	if len(got.states) != len(want.states) {
		t.Fatalf("%s: %d task states, want %d", what, len(got.states), len(want.states))
	}
	for i := range got.states {
		if !reflect.DeepEqual(got.states[i], want.states[i]) {
			t.Fatalf("%s: task state %+v, want %+v", what, got.states[i], want.states[i])
		}
	}
	for k, c := range want.eff.Counters {
		if !reflect.DeepEqual(got.eff.Counters[k], c) {
			t.Fatalf("%s: counters %v = %v, want %v", what, k, got.eff.Counters[k], c)
		}
	}
	if len(got.eff.Counters) != len(want.eff.Counters) {
		t.Fatalf("%s: %d counter rows, want %d", what, len(got.eff.Counters), len(want.eff.Counters))
	}
	for k, f := range want.eff.Facts {
		if !reflect.DeepEqual(got.eff.Facts[k], f) {
			t.Fatalf("%s: report task %v = %+v, want %+v", what, k, got.eff.Facts[k], f)
		}
	}
	if len(got.eff.Facts) != len(want.eff.Facts) {
		t.Fatalf("%s: %d report tasks, want %d", what, len(got.eff.Facts), len(want.eff.Facts))
	}
}

func anTaskCount(w Workload) int {
	ids := map[string]bool{}
	for _, e := range w.Events {
		ids[e.EventMeta().AggregateID] = true
	}
	return len(ids)
}

// analyticsKnownWeek walks a week with known numbers through the
// application and checks the reports.
func analyticsKnownWeek(t *testing.T, env AnalyticsEnv) {
	// Week 2026-W10 runs from Monday 2 March to Monday 9 March (UTC).
	mon := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	day := func(d int, h int) time.Time {
		return mon.Add(time.Duration(d)*24*time.Hour + time.Duration(h)*time.Hour)
	}
	now := day(9, 12) // Wednesday of the next week
	alice := analyticscontracts.UserInfo{ID: newID(), Email: "alice@example.com", Name: "Alice"}
	sam := analyticscontracts.UserInfo{ID: newID(), Email: "sam@example.com", Name: "Sam"}
	carl := analyticscontracts.UserInfo{ID: newID(), Email: "carl@example.com", Name: "Carl"}
	users := anUsers{alice.ID: alice, sam.ID: sam, carl.ID: carl}
	clock := func() time.Time { return now }
	app := anAppWith(t, env, clock, users, time.UTC)
	h := newAnHistory(t, app)

	deadline := func(tm time.Time) *time.Time { return &tm }
	// T1: high, due Wednesday, started Monday 10:00, done Tuesday 10:00: on time, 24 h.
	t1 := h.create(carl.ID, alice.ID, sam.ID, "high", deadline(day(2, 23)), day(0, 9))
	h.status(t1, alice.ID, "in_progress", day(0, 10))
	h.status(t1, alice.ID, "done", day(1, 10))
	// T2: due Tuesday noon, started Monday noon, done Thursday noon: late, 72 h.
	t2 := h.create(carl.ID, alice.ID, sam.ID, "medium", deadline(day(1, 12)), day(0, 9))
	h.status(t2, alice.ID, "in_progress", day(0, 12))
	h.status(t2, alice.ID, "done", day(3, 12))
	// T3: due Wednesday noon, never started: open and overdue at the end.
	t3 := h.create(carl.ID, alice.ID, sam.ID, "urgent", deadline(day(2, 12)), day(0, 9))
	// T4: no deadline, done straight from waiting on Tuesday, reopened Wednesday.
	t4 := h.create(carl.ID, alice.ID, "", "low", nil, day(0, 9))
	h.status(t4, alice.ID, "done", day(1, 9))
	h.status(t4, alice.ID, "in_progress", day(2, 9))
	// T5: the week before: created, assigned and done (no deadline).
	t5 := h.create(carl.ID, alice.ID, sam.ID, "medium", nil, day(-3, 9))
	h.status(t5, alice.ID, "done", day(-3, 11))
	// T6: created without a PIC, deleted on Friday: counts as created only.
	t6 := h.create(carl.ID, "", sam.ID, "medium", nil, day(0, 9))
	h.delete(t6, carl.ID, day(4, 9))
	h.deliver()

	rep, err := app.Queries.UserReport.Handle(ctxOf(t), query.UserReport{
		Actor: actor.Actor{UserID: alice.ID, Role: "member"}, Kind: report.Week, Period: "2026-W10",
	})
	must(t, err)
	c := rep.Counts
	got := [9]int64{c.Created, c.Assigned, c.Started, c.Completed, c.CompletedOnTime, c.CompletedLate, c.Reopened, c.Open, c.Overdue}
	equal(t, "alice's week (created assigned started completed on-time late reopened open overdue)", got, [9]int64{0, 4, 3, 3, 1, 1, 1, 2, 1})
	equal(t, "completion rate", *c.CompletionRate, 0.6)
	equal(t, "on-time rate", *c.OnTimeRate, 0.5)
	equal(t, "cycle times counted", c.CycleTime.Count, int64(3))
	equal(t, "mean cycle time (24 h, 72 h, 0 h)", *c.CycleTime.MeanHours, 32.0)
	if m := *c.CycleTime.MedianHours; m < 24/1.1 || m > 24*1.1 {
		t.Errorf("median cycle time %.2f h, want 24 h ± 10%%", m)
	}
	equal(t, "urgent overdue", c.ByPriority["urgent"].Overdue, int64(1))
	equal(t, "high on time", c.ByPriority["high"].CompletedOnTime, int64(1))
	equal(t, "previous week completed", rep.PreviousCounts.Completed, int64(1))
	equal(t, "delta completed", rep.Delta.Completed, int64(2))
	equal(t, "period", rep.Period.Key, "2026-W10")
	equal(t, "period is over", rep.Period.Current, false)
	var tasks []string
	for _, tk := range rep.Tasks {
		tasks = append(tasks, tk.ID+" "+fmt.Sprint(tk.CountedAs))
	}
	equal(t, "tasks behind the numbers", tasks, []string{
		t3 + " [assigned open overdue]",
		t1 + " [assigned started completed completed_on_time]",
		t2 + " [assigned started completed completed_late]",
		t4 + " [assigned started completed reopened open]",
	})

	// This week: nothing happened yet; T3 and T4 are open, T3 overdue now.
	cur, err := app.Queries.UserReport.Handle(ctxOf(t), query.UserReport{Actor: actor.Actor{UserID: alice.ID, Role: "member"}, Kind: report.Week})
	must(t, err)
	equal(t, "this week", [3]int64{cur.Counts.Completed, cur.Counts.Open, cur.Counts.Overdue}, [3]int64{0, 2, 1})
	equal(t, "this week is current", cur.Period.Current, true)

	// An event on T3 this week ends the state that spanned the end of
	// W10: the week's numbers stay the same, now from the counters.
	h.rename(t3, sam.ID, "T3 renamed", day(8, 9))
	h.deliver()
	again, err := app.Queries.UserReport.Handle(ctxOf(t), query.UserReport{Actor: actor.Actor{UserID: alice.ID, Role: "member"}, Kind: report.Week, Period: "2026-W10"})
	must(t, err)
	equal(t, "W10 after T3 changed", again.Counts, rep.Counts)

	creator, err := app.Queries.UserReport.Handle(ctxOf(t), query.UserReport{Actor: actor.Actor{UserID: sam.ID, Role: "manager"}, Kind: report.Month, Period: "2026-03", User: "carl@example.com"})
	must(t, err)
	equal(t, "carl created in March", creator.Counts.Created, int64(5))

	team, err := app.Queries.TeamReport.Handle(ctxOf(t), query.TeamReport{Actor: actor.Actor{UserID: carl.ID, Role: "manager"}, Kind: report.Week, Period: "2026-W10"})
	must(t, err)
	equal(t, "team created", team.Totals.Counts.Created, int64(5))
	equal(t, "team completed", team.Totals.Counts.Completed, int64(3))
	equal(t, "team open at the end", team.Totals.Counts.Open, int64(2))
	equal(t, "team rows", len(team.Rows), 2) // alice (PIC) and carl (creator)
	equal(t, "first row", team.Rows[0].User.Name, "Alice")

	supView, err := app.Queries.TeamReport.Handle(ctxOf(t), query.TeamReport{Actor: actor.Actor{UserID: sam.ID, Role: "member"}, Kind: report.Week, Period: "2026-W10", Supervisor: "me"})
	must(t, err)
	equal(t, "sam's people", len(supView.Rows), 1)
	equal(t, "alice under sam: completed, overdue", [2]int64{supView.Rows[0].Counts.Completed, supView.Rows[0].Counts.Overdue}, [2]int64{2, 1})
	equal(t, "sam's tasks created", supView.Totals.Counts.Created, int64(4))
}

// anHistory makes events with the tasks module's aggregate.
type anHistory struct {
	t       testing.TB
	app     analyticsapp.Application
	tasks   map[string]*task.Task
	pending []event.Event
}

func newAnHistory(t testing.TB, app analyticsapp.Application) *anHistory {
	return &anHistory{t: t, app: app, tasks: map[string]*task.Task{}}
}

func (h *anHistory) create(creator, pic, sup, priority string, deadline *time.Time, when time.Time) string {
	h.t.Helper()
	p, err := task.PriorityFromString(priority)
	must(h.t, err)
	tk, err := task.NewTask(task.NewTaskParams{
		ID: newID(), Name: "task " + priority, CreatorID: creator, PICID: pic, SupervisorID: sup, Priority: p, Deadline: deadline,
	}, when, NewEventID)
	must(h.t, err)
	h.tasks[tk.ID()] = tk
	h.pending = append(h.pending, tk.PendingEvents()...)
	return tk.ID()
}

func (h *anHistory) status(id, by, status string, when time.Time) {
	h.t.Helper()
	st, err := task.StatusFromString(status)
	must(h.t, err)
	tk := h.tasks[id]
	must(h.t, tk.ChangeStatus(member(by), st, when))
	h.saved(tk)
}

func (h *anHistory) rename(id, by, name string, when time.Time) {
	h.t.Helper()
	tk := h.tasks[id]
	must(h.t, tk.Update(member(by), task.Edit{Name: &name}, when))
	h.saved(tk)
}

func (h *anHistory) delete(id, by string, when time.Time) {
	h.t.Helper()
	tk := h.tasks[id]
	must(h.t, tk.Delete(member(by), when))
	h.saved(tk)
}

// deliver records the pending events, newest first (the worst order).
func (h *anHistory) deliver() {
	h.t.Helper()
	for i := len(h.pending) - 1; i >= 0; i-- {
		must(h.t, h.app.Commands.RecordEvent.Handle(ctxOf(h.t), command.RecordEvent{Event: h.pending[i]}))
	}
	h.pending = nil
}

// saved takes a command's events as the repository publishes them.
func (h *anHistory) saved(tk *task.Task) {
	tk.BumpVersion()
	h.pending = append(h.pending, tk.PendingEvents()...)
}
