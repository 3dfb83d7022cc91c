package query

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/taskd/taskd/modules/analytics/contracts"
	"github.com/taskd/taskd/modules/analytics/domain/report"
	"github.com/taskd/taskd/modules/kernel/actor"
	"github.com/taskd/taskd/modules/kernel/decorator"
)

// UserReport is one user's weekly or monthly report.
type UserReport struct {
	Actor actor.Actor
	// Kind is report.Week or report.Month; Period its key ("2026-W09",
	// "2026-03"), "" for the current one.
	Kind   report.PeriodKind
	Period string
	// User is me (or ""), an e-mail address or a user id.
	User string
}

func (q UserReport) LogAttrs() []slog.Attr {
	return []slog.Attr{slog.String("kind", q.Kind.String()), slog.String("period", q.Period)}
}

type UserReportHandler decorator.QueryHandler[UserReport, contracts.UserReport]

type userReportHandler struct {
	rm    ReportReadModel
	users UserDirectory
	cfg   Config
}

func NewUserReportHandler(rm ReportReadModel, users UserDirectory, cfg Config, logger *slog.Logger, m decorator.Metrics) UserReportHandler {
	return decorator.ApplyQueryDecorators[UserReport, contracts.UserReport](userReportHandler{rm: rm, users: users, cfg: cfg}, logger, m)
}

func (h userReportHandler) Handle(ctx context.Context, q UserReport) (contracts.UserReport, error) {
	loc, now := h.cfg.Loc, h.cfg.Clock()
	if q.Kind.IsZero() {
		q.Kind = report.Week
	}
	p, err := resolvePeriod(q.Kind, q.Period, now, loc)
	if err != nil {
		return contracts.UserReport{}, err
	}
	u, err := reportUser(ctx, h.users, q.Actor, q.User)
	if err != nil {
		return contracts.UserReport{}, err
	}
	prev := p.Prev()
	scope := report.UserScope(u.ID)
	cur, prv := report.CounterKey{Period: p.Key(), Scope: scope}, report.CounterKey{Period: prev.Key(), Scope: scope}
	counters, err := h.rm.Counters(ctx, []report.CounterKey{cur, prv})
	if err != nil {
		return contracts.UserReport{}, err
	}
	open, err := h.rm.OpenTasks(ctx, scope)
	if err != nil {
		return contracts.UserReport{}, err
	}
	facts, err := h.rm.Facts(ctx, p.Key(), u.ID)
	if err != nil {
		return contracts.UserReport{}, err
	}
	instant, _ := report.Instant(p, now, loc)
	prevInstant, _ := report.Instant(prev, now, loc)
	out := contracts.UserReport{
		Period:         periodInfo(p, now, loc),
		Previous:       periodInfo(prev, now, loc),
		User:           u,
		Counts:         countsOf(withOpen(counters[cur], open, instant)),
		PreviousCounts: countsOf(withOpen(counters[prv], open, prevInstant)),
	}
	out.Delta = deltaOf(out.Counts, out.PreviousCounts)
	out.Tasks = reportTasks(facts, open, instant)
	return out, nil
}

// reportTasks lists the tasks behind the numbers: the period's facts and
// the open tasks counted at instant. Most urgent first, then by name.
func reportTasks(facts map[string]report.Fact, open []report.OpenTask, instant time.Time) []contracts.ReportTask {
	byID := map[string]*contracts.ReportTask{}
	add := func(id, name, priority string, metrics ...string) {
		t := byID[id]
		if t == nil {
			t = &contracts.ReportTask{ID: id}
			byID[id] = t
		}
		t.Name, t.Priority = name, priority
		for _, m := range metrics {
			if !slices.Contains(t.CountedAs, m) {
				t.CountedAs = append(t.CountedAs, m)
			}
		}
	}
	for id, f := range facts {
		var metrics []string
		for _, m := range report.CountMetrics {
			if f.Counts.Get(m) > 0 {
				metrics = append(metrics, m)
			}
		}
		add(id, f.Name, f.Priority, metrics...)
	}
	for _, t := range open {
		isOpen, overdue := t.At(instant)
		switch {
		case overdue:
			add(t.TaskID, t.Name, t.Priority, report.Open, report.Overdue)
		case isOpen:
			add(t.TaskID, t.Name, t.Priority, report.Open)
		}
	}
	out := make([]contracts.ReportTask, 0, len(byID))
	for _, t := range byID {
		slices.SortFunc(t.CountedAs, func(a, b string) int {
			return slices.Index(report.CountMetrics, a) - slices.Index(report.CountMetrics, b)
		})
		out = append(out, *t)
	}
	rank := func(p string) int {
		if i := slices.Index(report.Priorities, p); i >= 0 {
			return i
		}
		return len(report.Priorities)
	}
	slices.SortFunc(out, func(a, b contracts.ReportTask) int {
		if d := rank(a.Priority) - rank(b.Priority); d != 0 {
			return d
		}
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}
