package query

import (
	"time"

	"github.com/taskd/taskd/modules/analytics/contracts"
	"github.com/taskd/taskd/modules/analytics/domain/report"
)

// withOpen returns c plus the open tasks that count as open (and overdue)
// at instant: the part of Open and Overdue no counter holds yet, because
// those tasks' states have not ended.
func withOpen(c report.Counters, open []report.OpenTask, instant time.Time) report.Counters {
	out := c.Clone()
	for _, t := range open {
		isOpen, overdue := t.At(instant)
		if isOpen {
			out.Add(report.Open, 1)
			out.Add(report.ByPriority(report.Open, t.Priority), 1)
		}
		if overdue {
			out.Add(report.Overdue, 1)
			out.Add(report.ByPriority(report.Overdue, t.Priority), 1)
		}
	}
	return out
}

// withOpenGroups is withOpen over counts of open tasks.
func withOpenGroups(c report.Counters, groups []report.OpenGroup) report.Counters {
	out := c.Clone()
	for _, g := range groups {
		out.Add(report.Open, g.Open)
		out.Add(report.ByPriority(report.Open, g.Priority), g.Open)
		out.Add(report.Overdue, g.Overdue)
		out.Add(report.ByPriority(report.Overdue, g.Priority), g.Overdue)
	}
	return out
}

// countsOf renders counters as the report's numbers.
func countsOf(c report.Counters) contracts.Counts {
	out := contracts.Counts{
		Created:         c.Get(report.Created),
		Assigned:        c.Get(report.Assigned),
		Started:         c.Get(report.Started),
		Completed:       c.Get(report.Completed),
		CompletedOnTime: c.Get(report.CompletedOnTime),
		CompletedLate:   c.Get(report.CompletedLate),
		Reopened:        c.Get(report.Reopened),
		Open:            c.Get(report.Open),
		Overdue:         c.Get(report.Overdue),
		ByPriority:      make(map[string]contracts.PriorityCounts, len(report.Priorities)),
	}
	out.CompletionRate = ratio(out.Completed, out.Completed+out.Open)
	out.OnTimeRate = ratio(out.CompletedOnTime, out.CompletedOnTime+out.CompletedLate)
	if ct := c.CycleTime(); ct.Count > 0 {
		out.CycleTime = contracts.CycleTime{Count: ct.Count, MeanHours: &ct.MeanHours, MedianHours: &ct.MedianHours}
	}
	for _, p := range report.Priorities {
		get := func(metric string) int64 { return c.Get(report.ByPriority(metric, p)) }
		out.ByPriority[p] = contracts.PriorityCounts{
			Created: get(report.Created), Assigned: get(report.Assigned), Started: get(report.Started),
			Completed: get(report.Completed), CompletedOnTime: get(report.CompletedOnTime),
			CompletedLate: get(report.CompletedLate), Reopened: get(report.Reopened),
			Open: get(report.Open), Overdue: get(report.Overdue),
		}
	}
	return out
}

func ratio(n, d int64) *float64 {
	if d <= 0 {
		return nil
	}
	r := float64(n) / float64(d)
	return &r
}

// deltaOf is cur − prev per counter.
func deltaOf(cur, prev contracts.Counts) contracts.Delta {
	return contracts.Delta{
		Created:          cur.Created - prev.Created,
		Assigned:         cur.Assigned - prev.Assigned,
		Started:          cur.Started - prev.Started,
		Completed:        cur.Completed - prev.Completed,
		CompletedOnTime:  cur.CompletedOnTime - prev.CompletedOnTime,
		CompletedLate:    cur.CompletedLate - prev.CompletedLate,
		Reopened:         cur.Reopened - prev.Reopened,
		Open:             cur.Open - prev.Open,
		Overdue:          cur.Overdue - prev.Overdue,
		CompletionRate:   diff(cur.CompletionRate, prev.CompletionRate),
		OnTimeRate:       diff(cur.OnTimeRate, prev.OnTimeRate),
		CycleMeanHours:   diff(cur.CycleTime.MeanHours, prev.CycleTime.MeanHours),
		CycleMedianHours: diff(cur.CycleTime.MedianHours, prev.CycleTime.MedianHours),
	}
}

func diff(a, b *float64) *float64 {
	if a == nil || b == nil {
		return nil
	}
	d := *a - *b
	return &d
}

// periodInfo describes p as of now.
func periodInfo(p report.Period, now time.Time, loc *time.Location) contracts.PeriodInfo {
	instant, current := report.Instant(p, now, loc)
	return contracts.PeriodInfo{
		Kind: p.Kind().String(), Key: p.Key(), Start: p.Start(loc), End: p.End(loc), TimeZone: loc.String(),
		Current: current, AsOf: instant,
	}
}

// resolvePeriod parses key as a period of kind k; "" is the current one.
// Periods that have not started are refused.
func resolvePeriod(k report.PeriodKind, key string, now time.Time, loc *time.Location) (report.Period, error) {
	if key == "" {
		return report.Of(k, now, loc), nil
	}
	var (
		p   report.Period
		err error
	)
	if k == report.Month {
		p, err = report.ParseMonth(key)
	} else {
		p, err = report.ParseWeek(key)
	}
	if err != nil {
		return report.Period{}, err
	}
	if err := p.CheckStarted(now, loc); err != nil {
		return report.Period{}, err
	}
	return p, nil
}
