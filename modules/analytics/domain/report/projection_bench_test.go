package report_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/taskd/taskd/modules/analytics/domain/eventlog"
	"github.com/taskd/taskd/modules/analytics/domain/report"
)

// The projection step: one event folded into a task's state, with the
// counter and fact effects it yields (go test -bench . -benchmem
// ./modules/analytics/domain/report; docs/performance.md). Storage is
// measured by adapters/sqlstore's BenchmarkAnalyticsProjection*.

// benchLife is a task's life: created, started, completed, reopened,
// completed again; a task of its own per round.
func benchLife(id string) []eventlog.Entry {
	due := ptr(at(50 * time.Hour))
	open := task{status: "waiting", priority: "high", pic: "alice", sup: "sam", deadline: due}
	started := open
	started.status, started.started = "in_progress", ptr(at(time.Hour))
	done := started
	done.status, done.done = "done", ptr(at(25*time.Hour))
	reopened := started
	again := done
	again.done = ptr(at(60 * time.Hour))
	es := []eventlog.Entry{
		entry(1, eventlog.TaskCreated, at(0), open),
		entry(2, eventlog.TaskStatusChanged, at(time.Hour), started),
		entry(3, eventlog.TaskStatusChanged, at(25*time.Hour), done),
		entry(4, eventlog.TaskCompleted, at(25*time.Hour), done),
		entry(5, eventlog.TaskStatusChanged, at(30*time.Hour), reopened),
		entry(6, eventlog.TaskStatusChanged, at(60*time.Hour), again),
	}
	for i := range es {
		es[i].AggregateID, es[i].Task.ID = id, id
		es[i].EventID = fmt.Sprintf("%s-%d", id, i+1)
	}
	return es
}

func BenchmarkProjectorApply(b *testing.B) {
	life := benchLife("t1")
	b.ReportAllocs()
	events := 0
	for b.Loop() {
		st := report.TaskState{}
		for _, e := range life {
			next, eff, err := p.Apply(st, e)
			if err != nil {
				b.Fatal(err)
			}
			if eff.IsEmpty() && e.Sequence == 1 {
				b.Fatal("creation counted nothing")
			}
			st = next
			events++
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(events), "ns/event")
}

// BenchmarkProjectorApplyMerge also merges each event's effects into a
// batch, as the projection does before one write.
func BenchmarkProjectorApplyMerge(b *testing.B) {
	life := benchLife("t1")
	b.ReportAllocs()
	for b.Loop() {
		st, all := report.TaskState{}, report.NewEffects()
		for _, e := range life {
			next, eff, err := p.Apply(st, e)
			if err != nil {
				b.Fatal(err)
			}
			all.Merge(eff)
			st = next
		}
	}
}
