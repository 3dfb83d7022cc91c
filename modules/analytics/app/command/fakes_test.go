package command_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/taskd/taskd/modules/analytics/domain/eventlog"
	"github.com/taskd/taskd/modules/analytics/domain/report"
	"github.com/taskd/taskd/modules/kernel/event"
	tasks "github.com/taskd/taskd/modules/tasks/contracts"
)

// fakeStore is the analytics storage in memory, with knobs to lose races.
type fakeStore struct {
	mu       sync.Mutex
	log      map[string]eventlog.Entry // by event id
	states   map[string]report.TaskState
	eff      report.Effects
	meta     report.Meta
	commits  int
	appended int
	// staleOnce makes the next commit fail with ErrStaleState.
	staleOnce bool
}

func newFakeStore() *fakeStore {
	return &fakeStore{log: map[string]eventlog.Entry{}, states: map[string]report.TaskState{}, eff: report.NewEffects(), meta: report.Meta{Generation: 1}}
}

func (s *fakeStore) Append(_ context.Context, e eventlog.Entry) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.log[e.EventID]; ok {
		return false, nil
	}
	for _, o := range s.log {
		if o.AggregateID == e.AggregateID && o.Sequence == e.Sequence {
			return false, eventlog.ErrSequenceConflict
		}
	}
	s.log[e.EventID] = e
	s.appended++
	return true, nil
}

func (s *fakeStore) entries(aggregateID string, after int64) []eventlog.Entry {
	var out []eventlog.Entry
	for _, e := range s.log {
		if e.AggregateID == aggregateID && e.Sequence > after {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b eventlog.Entry) int { return int(a.Sequence - b.Sequence) })
	return out
}

func (s *fakeStore) Entries(_ context.Context, _, aggregateID string, afterSeq int64, limit int) ([]eventlog.Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.entries(aggregateID, afterSeq)
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (s *fakeStore) Events(context.Context, eventlog.Query) ([]eventlog.Entry, error) {
	return nil, nil
}

func (s *fakeStore) TaskState(_ context.Context, id string) (report.TaskState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.states[id]
	if !ok {
		return report.TaskState{TaskID: id}, nil
	}
	return st, nil
}

func (s *fakeStore) Commit(_ context.Context, c report.Commit) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.meta.Rebuilding {
		return report.ErrRebuilding
	}
	if s.staleOnce {
		s.staleOnce = false
		return report.ErrStaleState
	}
	if s.states[c.After.TaskID].LastSeq != c.Before.LastSeq {
		return report.ErrStaleState
	}
	s.states[c.After.TaskID] = c.After
	s.eff.Merge(c.Effects)
	s.commits++
	return nil
}

func (s *fakeStore) Meta(context.Context) (report.Meta, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.meta, nil
}

func (s *fakeStore) SetTimeZone(_ context.Context, tz string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.meta.TimeZone == "" {
		s.meta.TimeZone = tz
	}
	return nil
}

func (s *fakeStore) BeginRebuild(_ context.Context, tz string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.meta = report.Meta{Generation: s.meta.Generation + 1, Rebuilding: true, TimeZone: tz}
	s.states, s.eff = map[string]report.TaskState{}, report.NewEffects()
	return nil
}

func (s *fakeStore) WriteRebuilt(_ context.Context, states []report.TaskState, eff report.Effects) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range states {
		s.states[st.TaskID] = st
	}
	s.eff.Merge(eff)
	return nil
}

func (s *fakeStore) EndRebuild(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.meta.Rebuilding = false
	return nil
}

func (s *fakeStore) LaggingTasks(context.Context) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	seen := map[string]bool{}
	for _, e := range s.log {
		if e.IsTask() && !seen[e.AggregateID] && s.states[e.AggregateID].LastSeq < e.Sequence {
			seen[e.AggregateID] = true
			out = append(out, e.AggregateID)
		}
	}
	return out, nil
}

func (s *fakeStore) ScanTasks(_ context.Context, total func(int64), fn func(string, []eventlog.Entry) error) error {
	s.mu.Lock()
	byTask := map[string][]eventlog.Entry{}
	var n int64
	for _, e := range s.log {
		if e.IsTask() {
			byTask[e.AggregateID] = nil
			n++
		}
	}
	for id := range byTask {
		byTask[id] = s.entries(id, 0)
	}
	s.mu.Unlock()
	total(n)
	for id, es := range byTask {
		if err := fn(id, es); err != nil {
			return err
		}
	}
	return nil
}

// snapshot returns the states and effects (copies).
func (s *fakeStore) snapshot() (map[string]report.TaskState, report.Effects) {
	s.mu.Lock()
	defer s.mu.Unlock()
	states := map[string]report.TaskState{}
	for k, v := range s.states {
		states[k] = v
	}
	eff := report.NewEffects()
	eff.Merge(s.eff)
	return states, eff
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// life is a task's events: created for alice, started, completed.
func life(id string) []event.Event {
	snap := tasks.Snapshot{ID: id, Name: "task " + id, Status: "waiting", Priority: "high", PICID: "alice", CreatorID: "carl", CreatedAt: t0}
	mk := func(seq int64, name string, at time.Time, s tasks.Snapshot) tasks.TaskEvent {
		return tasks.TaskEvent{Meta: event.Meta{ID: fmt.Sprintf("%s-%d", id, seq), Type: name, SchemaVersion: 1, OccurredAt: at,
			ActorID: "alice", AggregateType: tasks.AggregateType, AggregateID: id, Sequence: seq}, Task: s}
	}
	started := snap
	started.Status, started.StartedAt = "in_progress", &[]time.Time{t0.Add(time.Hour)}[0]
	done := started
	done.Status, done.CompletedAt = "done", &[]time.Time{t0.Add(5 * time.Hour)}[0]
	return []event.Event{
		tasks.TaskCreated{TaskEvent: mk(1, tasks.NameTaskCreated, t0, snap)},
		tasks.TaskStatusChanged{TaskEvent: mk(2, tasks.NameTaskStatusChanged, t0.Add(time.Hour), started)},
		tasks.TaskStatusChanged{TaskEvent: mk(3, tasks.NameTaskStatusChanged, t0.Add(5*time.Hour), done)},
		tasks.TaskCompleted{TaskEvent: mk(4, tasks.NameTaskCompleted, t0.Add(5*time.Hour), done)},
	}
}
