package contracttest

import (
	"context"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	analyticsapp "github.com/taskd/taskd/modules/analytics/app"
	"github.com/taskd/taskd/modules/analytics/app/command"
	"github.com/taskd/taskd/modules/analytics/app/query"
	analyticscontracts "github.com/taskd/taskd/modules/analytics/contracts"
	"github.com/taskd/taskd/modules/analytics/domain/report"
	"github.com/taskd/taskd/modules/kernel/actor"
	"github.com/taskd/taskd/modules/kernel/event"
)

// The analytics benchmarks (not timed tests): projection throughput, report
// latency with a small and a large history, rebuild time. Histories are
// generated with the tasks module's aggregate and projected through the
// application's RecordEvent, the path live events take.

// BenchEventsPerWeek is the density of benchmark histories: a bigger
// history is a longer one (more weeks), not a busier week, so the report
// of a week reads as much with 10k events as with 1M.
const BenchEventsPerWeek = 5000

// benchUsers is the team size of benchmark histories.
const benchUsers = 100

// benchStart is the first Monday of benchmark histories.
var benchStart = time.Date(2020, 1, 6, 0, 0, 0, 0, time.UTC)

func benchWeeks(events int) int { return max(1, events/BenchEventsPerWeek) }

// BenchWorkload is a history of events events at BenchEventsPerWeek. The
// team cleans up: tasks still open four weeks after creation are deleted
// (BoundedBacklog), so a longer history is not a longer backlog.
// TASKD_BENCH_ANALYTICS_BACKLOG=grow keeps them open forever instead.
func BenchWorkload(events int) Workload {
	return GenerateWorkload(WorkloadConfig{
		Events: events, Users: benchUsers, Seed: 42, BoundedBacklog: os.Getenv("TASKD_BENCH_ANALYTICS_BACKLOG") != "grow",
		Start: benchStart, Span: time.Duration(benchWeeks(events)) * 7 * 24 * time.Hour,
	})
}

// benchReportWeek is the last week tasks are created in: a full week.
func benchReportWeek(events int) report.Period {
	return report.WeekOf(benchStart.AddDate(0, 0, 7*benchWeeks(events)-3), time.UTC)
}

// benchNow is after every event of w: its weeks are over.
func benchNow(w Workload) time.Time {
	last := w.Events[len(w.Events)-1].EventMeta().OccurredAt
	return last.Add(8 * 24 * time.Hour)
}

// BenchmarkAnalyticsProjection records b.N events of a fresh history into a
// fresh store, one after the other (each in env.Tx when set, as embedded
// mode does), and reports events/s.
func BenchmarkAnalyticsProjection(b *testing.B, newEnv func(testing.TB) AnalyticsEnv) {
	env := newEnv(b)
	w := BenchWorkload(b.N)
	app := anAppBatch(b, env, func() time.Time { return benchNow(w) }, anUsers{}, time.UTC, 0)
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if err := env.record(ctx, app, w.Events[i%len(w.Events)]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkAnalyticsProjectionParallel records b.N events from workers
// goroutines at once, in the order SQS could deliver them (each event may
// arrive before its predecessor, some twice), and reports events/s. A
// failed delivery is delivered again, as SQS would.
func BenchmarkAnalyticsProjectionParallel(b *testing.B, newEnv func(testing.TB) AnalyticsEnv, workers int) {
	env := newEnv(b)
	w := BenchWorkload(b.N)
	events := w.Shuffled(5, 20, 0.02)
	app := anAppBatch(b, env, func() time.Time { return benchNow(w) }, anUsers{}, time.UTC, 0)
	next := make(chan event.Event)
	errs := make(chan error, workers)
	b.ResetTimer()
	start := time.Now()
	for range workers {
		go func() {
			var err error
			for e := range next {
				for attempt := 0; attempt < 10; attempt++ {
					if err = env.record(context.Background(), app, e); err == nil {
						break
					}
				}
				if err != nil {
					break
				}
			}
			for range next { // drain after a failure
			}
			errs <- err
		}()
	}
	for _, e := range events {
		next <- e
	}
	close(next)
	for range workers {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(events))/time.Since(start).Seconds(), "events/s")
}

// AnalyticsBench is a store holding a projected history, for the report
// and rebuild benchmarks (populate it once, run many benchmarks).
type AnalyticsBench struct {
	Env      AnalyticsEnv
	App      analyticsapp.Application
	Workload Workload
	// Projected is how long recording the history took.
	Projected time.Duration
	users     anUsers
	manager   actor.Actor
	// week is the week the report benchmarks read.
	week report.Period
}

// NewAnalyticsBench projects a history of events events into env.
func NewAnalyticsBench(tb testing.TB, env AnalyticsEnv, events int, progress func(done, total int)) *AnalyticsBench {
	w := BenchWorkload(events)
	ab := &AnalyticsBench{Env: env, Workload: w, users: anUsers{}, manager: actor.Actor{UserID: newID(), Role: "manager"}}
	for _, id := range w.Users {
		ab.users[id] = analyticscontracts.UserInfo{ID: id, Email: id[:8] + "@example.com", Name: "user " + id[:8]}
	}
	now := benchNow(w)
	ab.week = benchReportWeek(events)
	ab.App = anAppBatch(tb, env, func() time.Time { return now }, ab.users, time.UTC, 0)
	ctx := context.Background()
	start := time.Now()
	for i, e := range w.Events {
		if err := env.record(ctx, ab.App, e); err != nil {
			tb.Fatal(err)
		}
		if progress != nil && (i+1)%10000 == 0 {
			progress(i+1, len(w.Events))
		}
	}
	ab.Projected = time.Since(start)
	return ab
}

// latencies runs op b.N times and reports the p50 and p99 in milliseconds.
func latencies(b *testing.B, op func() error) {
	d := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if err := op(); err != nil {
			b.Fatal(err)
		}
		d = append(d, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(d)
	pct := func(p float64) float64 {
		return float64(d[min(len(d)-1, int(p*float64(len(d))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// BenchmarkWeeklyReport asks for a busy week's report of a random user, as
// a manager.
func (ab *AnalyticsBench) BenchmarkWeeklyReport(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	latencies(b, func() error {
		u := ab.Workload.Users[rng.IntN(len(ab.Workload.Users))]
		_, err := ab.App.Queries.UserReport.Handle(context.Background(), query.UserReport{
			Actor: ab.manager, Kind: report.Week, Period: ab.week.Key(), User: u,
		})
		return err
	})
}

// BenchmarkTeamReport asks for a busy week's team report.
func (ab *AnalyticsBench) BenchmarkTeamReport(b *testing.B) {
	latencies(b, func() error {
		_, err := ab.App.Queries.TeamReport.Handle(context.Background(), query.TeamReport{
			Actor: ab.manager, Kind: report.Week, Period: ab.week.Key(),
		})
		return err
	})
}

// BenchmarkRebuild rebuilds the read models b.N times and reports the
// events projected per second.
func (ab *AnalyticsBench) BenchmarkRebuild(b *testing.B) {
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if err := ab.App.Commands.RebuildReadModels.Handle(context.Background(), command.RebuildReadModels{}); err != nil {
			b.Fatal(err)
		}
	}
	el := time.Since(start)
	b.ReportMetric(el.Seconds()/float64(b.N), "s/rebuild")
	b.ReportMetric(float64(len(ab.Workload.Events)*b.N)/el.Seconds(), "events/s")
}
