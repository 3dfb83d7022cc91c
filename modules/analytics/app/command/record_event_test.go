package command_test

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/taskd/taskd/modules/analytics/app/command"
	"github.com/taskd/taskd/modules/analytics/domain/eventlog"
	"github.com/taskd/taskd/modules/analytics/domain/report"
	identity "github.com/taskd/taskd/modules/identity/contracts"
	"github.com/taskd/taskd/modules/kernel/decorator"
	"github.com/taskd/taskd/modules/kernel/event"
)

func newHandlers(s *fakeStore) (command.RecordEventHandler, command.RebuildReadModelsHandler, command.CheckTimeZoneHandler) {
	p := &command.Projection{Log: s, Store: s, Projector: report.Projector{Loc: time.UTC}}
	log, m := slog.New(slog.DiscardHandler), decorator.NopMetrics{}
	return command.NewRecordEventHandler(s, p, log, m), command.NewRebuildReadModelsHandler(s, p, 2, log, m), command.NewCheckTimeZoneHandler(s, p, log, m)
}

func record(t *testing.T, h command.RecordEventHandler, evs ...event.Event) {
	t.Helper()
	for _, e := range evs {
		if err := h.Handle(context.Background(), command.RecordEvent{Event: e}); err != nil {
			t.Fatalf("recording %s: %v", e.EventMeta().ID, err)
		}
	}
}

func completedOf(s *fakeStore) int64 {
	_, eff := s.snapshot()
	return eff.Counters[report.CounterKey{Period: "2026-W10", Scope: report.UserScope("alice")}].Get(report.Completed)
}

func TestRecordEventIsIdempotent(t *testing.T) {
	t.Parallel()
	s := newFakeStore()
	h, _, _ := newHandlers(s)
	evs := life("t1")
	record(t, h, evs...)
	_, before := s.snapshot()
	record(t, h, evs...)     // redelivered
	record(t, h, evs[2:]...) // and again
	_, after := s.snapshot()
	if !reflect.DeepEqual(before, after) || s.commits != 4 || s.appended != 4 {
		t.Errorf("a redelivery changed the read models (%d commits, %d appended)", s.commits, s.appended)
	}
	if completedOf(s) != 1 {
		t.Errorf("completed = %d", completedOf(s))
	}
}

func TestRecordEventWaitsForAMissingPredecessor(t *testing.T) {
	t.Parallel()
	s := newFakeStore()
	h, _, _ := newHandlers(s)
	evs := life("t1")
	record(t, h, evs[3], evs[1], evs[2]) // 4, 2, 3 arrive before 1
	if st, _ := s.TaskState(context.Background(), "t1"); st.LastSeq != 0 || s.commits != 0 {
		t.Fatalf("projected before event 1: %+v", st)
	}
	record(t, h, evs[0])
	if st, _ := s.TaskState(context.Background(), "t1"); st.LastSeq != 4 || completedOf(s) != 1 {
		t.Fatalf("after event 1: state %+v, completed %d", st, completedOf(s))
	}
}

func TestRecordEventStartsOverAfterLosingARace(t *testing.T) {
	t.Parallel()
	s := newFakeStore()
	h, _, _ := newHandlers(s)
	evs := life("t1")
	record(t, h, evs[0])
	s.staleOnce = true
	record(t, h, evs[1])
	if st, _ := s.TaskState(context.Background(), "t1"); st.LastSeq != 2 {
		t.Errorf("state after a lost race: %+v", st)
	}
}

func TestRecordEventDuringARebuildOnlyLogs(t *testing.T) {
	t.Parallel()
	s := newFakeStore()
	h, _, _ := newHandlers(s)
	s.meta.Rebuilding = true
	record(t, h, life("t1")...)
	if s.appended != 4 || s.commits != 0 {
		t.Errorf("during a rebuild: %d appended, %d commits", s.appended, s.commits)
	}
}

func TestRecordEventLogsUserEventsAndRefusesMalformedOnes(t *testing.T) {
	t.Parallel()
	s := newFakeStore()
	h, _, _ := newHandlers(s)
	u := identity.UserRegistered{UserEvent: identity.UserEvent{
		Meta: event.Meta{ID: "u-1", Type: identity.NameUserRegistered, OccurredAt: t0, AggregateType: identity.AggregateType, AggregateID: "u", Sequence: 1},
		User: identity.User{ID: "u", Email: "u@example.com"},
	}}
	record(t, h, u)
	if s.appended != 1 || s.commits != 0 {
		t.Errorf("a user event: %d appended, %d commits", s.appended, s.commits)
	}
	err := h.Handle(context.Background(), command.RecordEvent{Payload: []byte(`{"event_id":"x","event_type":"TaskCreated","aggregate_type":"task","aggregate_id":"t2","sequence":1}`)})
	if !errors.Is(err, eventlog.ErrMalformedEvent) {
		t.Errorf("a task event without time or snapshot: %v", err)
	}
	if err := h.Handle(context.Background(), command.RecordEvent{}); !errors.Is(err, eventlog.ErrMalformedEvent) {
		t.Errorf("no event: %v", err)
	}
}

func TestRebuildReproducesTheLiveReadModels(t *testing.T) {
	t.Parallel()
	s := newFakeStore()
	h, rebuild, _ := newHandlers(s)
	for _, id := range []string{"a", "b", "c"} {
		record(t, h, life(id)...)
	}
	// d's first event is missing: logged, waiting.
	record(t, h, life("d")[1:]...)
	wantStates, wantEff := s.snapshot()
	var calls int
	var last [2]int64
	if err := rebuild.Handle(context.Background(), command.RebuildReadModels{Progress: func(done, total int64) { calls++; last = [2]int64{done, total} }}); err != nil {
		t.Fatal(err)
	}
	gotStates, gotEff := s.snapshot()
	if !reflect.DeepEqual(gotStates, wantStates) || !reflect.DeepEqual(gotEff, wantEff) {
		t.Errorf("rebuilt read models differ:\n%v\n%v", gotEff.Counters, wantEff.Counters)
	}
	if last != [2]int64{15, 15} || calls < 3 || s.meta.Rebuilding || s.meta.Generation != 2 {
		t.Errorf("progress %v after %d calls, meta %+v", last, calls, s.meta)
	}
	// d's missing event arrives after the rebuild: all of d is projected.
	record(t, h, life("d")[0])
	if st, _ := s.TaskState(context.Background(), "d"); st.LastSeq != 4 {
		t.Errorf("d after its first event: %+v", st)
	}
}

func TestCheckTimeZone(t *testing.T) {
	t.Parallel()
	s := newFakeStore()
	_, _, check := newHandlers(s)
	if err := check.Handle(context.Background(), command.CheckTimeZone{}); err != nil || s.meta.TimeZone != "UTC" {
		t.Fatalf("fresh read models: %v, %q", err, s.meta.TimeZone)
	}
	if err := check.Handle(context.Background(), command.CheckTimeZone{}); err != nil {
		t.Fatal(err)
	}
	s.meta.TimeZone = "Asia/Seoul"
	if err := check.Handle(context.Background(), command.CheckTimeZone{}); !errors.Is(err, command.ErrTimeZoneChanged) {
		t.Errorf("another zone: %v", err)
	}
}
