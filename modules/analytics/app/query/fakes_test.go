package query_test

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/taskd/taskd/modules/analytics/app/query"
	"github.com/taskd/taskd/modules/analytics/contracts"
	"github.com/taskd/taskd/modules/analytics/domain/eventlog"
	"github.com/taskd/taskd/modules/analytics/domain/report"
)

// fakeReadModel serves counters, open tasks and facts from maps.
type fakeReadModel struct {
	counters map[report.CounterKey]report.Counters
	open     []report.OpenTask
	facts    map[string]map[string]report.Fact // period/user → task → fact
	entries  []eventlog.Entry
}

func newFakeReadModel() *fakeReadModel {
	return &fakeReadModel{counters: map[report.CounterKey]report.Counters{}, facts: map[string]map[string]report.Fact{}}
}

func (m *fakeReadModel) set(period string, scope report.Scope, c report.Counters) {
	m.counters[report.CounterKey{Period: period, Scope: scope}] = c
}

func (m *fakeReadModel) Counters(_ context.Context, keys []report.CounterKey) (map[report.CounterKey]report.Counters, error) {
	out := map[report.CounterKey]report.Counters{}
	for _, k := range keys {
		if c, ok := m.counters[k]; ok {
			out[k] = c
		}
	}
	return out, nil
}

func (m *fakeReadModel) CountersByPrefix(_ context.Context, period, prefix string) (map[report.Scope]report.Counters, error) {
	out := map[report.Scope]report.Counters{}
	for k, c := range m.counters {
		if k.Period == period && strings.HasPrefix(string(k.Scope), prefix) {
			out[k.Scope] = c
		}
	}
	return out, nil
}

func (m *fakeReadModel) OpenTasks(_ context.Context, scope report.Scope) ([]report.OpenTask, error) {
	var out []report.OpenTask
	for _, t := range m.open {
		switch {
		case scope == report.TeamScope,
			scope.SupervisorID() != "" && t.SupervisorID == scope.SupervisorID(),
			scope.SupervisorID() == "" && scope.UserID() != "" && t.PICID == scope.UserID():
			out = append(out, t)
		}
	}
	return out, nil
}

func (m *fakeReadModel) OpenSummary(ctx context.Context, scope report.Scope, instant time.Time) ([]report.OpenGroup, error) {
	tasks, _ := m.OpenTasks(ctx, scope)
	return report.SummarizeOpen(tasks, instant), nil
}

func (m *fakeReadModel) Facts(_ context.Context, period, userID string) (map[string]report.Fact, error) {
	return m.facts[period+"/"+userID], nil
}

func (m *fakeReadModel) Entries(_ context.Context, _, id string, after int64, limit int) ([]eventlog.Entry, error) {
	var out []eventlog.Entry
	for _, e := range m.entries {
		if e.AggregateID == id && e.Sequence > after && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

func (m *fakeReadModel) Events(_ context.Context, q eventlog.Query) ([]eventlog.Entry, error) {
	var out []eventlog.Entry
	for _, e := range m.entries {
		if (q.ActorID == "" || e.ActorID == q.ActorID) && !e.OccurredAt.Before(q.From) && e.OccurredAt.Before(q.To) &&
			(q.After == nil || q.After.Less(eventlog.PositionOf(e))) {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b eventlog.Entry) int {
		if eventlog.PositionOf(a).Less(eventlog.PositionOf(b)) {
			return -1
		}
		return 1
	})
	if len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

type fakeUsers map[string]contracts.UserInfo

func (u fakeUsers) ResolveUser(_ context.Context, ref string) (contracts.UserInfo, error) {
	for _, x := range u {
		if x.ID == ref || x.Email == ref {
			return x, nil
		}
	}
	return contracts.UserInfo{}, query.ErrUserNotFound
}

func (u fakeUsers) UsersByIDs(_ context.Context, ids []string) (map[string]contracts.UserInfo, error) {
	out := map[string]contracts.UserInfo{}
	for _, id := range ids {
		if x, ok := u[id]; ok {
			out[id] = x
		}
	}
	return out, nil
}

type fakeTasks map[string]bool // existing tasks

func (f fakeTasks) TaskExists(_ context.Context, id string) (bool, error) { return f[id], nil }

// Users of the tests (ids are UUIDs, as the identity module's).
var (
	alice = contracts.UserInfo{ID: "0195f3c2-0000-7000-8000-00000000000a", Email: "alice@example.com", Name: "Alice"}
	bob   = contracts.UserInfo{ID: "0195f3c2-0000-7000-8000-00000000000b", Email: "bob@example.com", Name: "Bob"}
	sam   = contracts.UserInfo{ID: "0195f3c2-0000-7000-8000-00000000000c", Email: "sam@example.com", Name: "Sam"}
	users = fakeUsers{alice.ID: alice, bob.ID: bob, sam.ID: sam}
)

// now is Wednesday of 2026-W11 (W10 is over).
var now = time.Date(2026, 3, 11, 12, 0, 0, 0, time.UTC)

func config() query.Config {
	return query.Config{Loc: time.UTC, Clock: func() time.Time { return now }}
}
