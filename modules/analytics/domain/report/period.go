// Package report is the analytics module's read-model domain: report
// periods (ISO weeks and calendar months in the report time zone), scopes
// (a user, a supervisor, a supervisor's person, the team), counters, the
// cycle-time histogram, and the projection that turns one task's events,
// in sequence order, into counter increments.
package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/taskd/taskd/modules/kernel/errs"
)

// PeriodKind is a week or a month.
type PeriodKind struct{ s string }

var (
	Week  = PeriodKind{"week"}
	Month = PeriodKind{"month"}
)

func (k PeriodKind) String() string { return k.s }
func (k PeriodKind) IsZero() bool   { return k == PeriodKind{} }

// Errors of period parameters.
var (
	ErrInvalidWeek     = errs.BadRequest("invalid_week", "week", "week must be an ISO week YYYY-Www that exists, e.g. 2026-W09 (weeks 01–52, 53 in long years)")
	ErrInvalidMonth    = errs.BadRequest("invalid_month", "month", "month must be YYYY-MM with a month 01–12, e.g. 2026-03")
	ErrPeriodInFuture  = errs.BadRequest("period_in_future", "", "the period has not started yet")
	ErrAmbiguousPeriod = errs.BadRequest("ambiguous_period", "", "give week or month, not both")
)

// Period is one ISO week or one calendar month. Its boundaries are in the
// report time zone given to Start and End; the period itself is a name.
type Period struct {
	kind PeriodKind
	year int
	num  int // ISO week 1–53 or month 1–12
}

// Years a period may fall in.
const (
	minYear = 1970
	maxYear = 9998
)

// WeekOf returns the ISO week of t in loc.
func WeekOf(t time.Time, loc *time.Location) Period {
	y, w := t.In(loc).ISOWeek()
	return Period{kind: Week, year: y, num: w}
}

// MonthOf returns the calendar month of t in loc.
func MonthOf(t time.Time, loc *time.Location) Period {
	l := t.In(loc)
	return Period{kind: Month, year: l.Year(), num: int(l.Month())}
}

// Of returns the period of kind k that contains t in loc.
func Of(k PeriodKind, t time.Time, loc *time.Location) Period {
	if k == Month {
		return MonthOf(t, loc)
	}
	return WeekOf(t, loc)
}

// ParseWeek reads "2026-W09" (the W may be lower case).
func ParseWeek(s string) (Period, error) {
	s = strings.TrimSpace(s)
	if len(s) != 8 || s[4] != '-' || (s[5] != 'W' && s[5] != 'w') {
		return Period{}, ErrInvalidWeek
	}
	y, err1 := digits(s[:4])
	w, err2 := digits(s[6:])
	if err1 != nil || err2 != nil || y < minYear || y > maxYear || w < 1 || w > isoWeeksIn(y) {
		return Period{}, ErrInvalidWeek.WithMessage("%q is not an ISO week: weeks of %d are 01–%02d", s, clampYear(y), isoWeeksIn(clampYear(y)))
	}
	return Period{kind: Week, year: y, num: w}, nil
}

// ParseMonth reads "2026-03".
func ParseMonth(s string) (Period, error) {
	s = strings.TrimSpace(s)
	if len(s) != 7 || s[4] != '-' {
		return Period{}, ErrInvalidMonth
	}
	y, err1 := digits(s[:4])
	m, err2 := digits(s[5:])
	if err1 != nil || err2 != nil || y < minYear || y > maxYear || m < 1 || m > 12 {
		return Period{}, ErrInvalidMonth.WithMessage("%q is not a month YYYY-MM (01–12)", s)
	}
	return Period{kind: Month, year: y, num: m}, nil
}

// ParseKey reads a key as Key writes it.
func ParseKey(s string) (Period, error) {
	if strings.Contains(s, "W") {
		return ParseWeek(s)
	}
	return ParseMonth(s)
}

func digits(s string) (int, error) {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, fmt.Errorf("not digits")
	}
	return strconv.Atoi(s)
}

func clampYear(y int) int { return min(max(y, minYear), maxYear) }

// isoWeeksIn is 52 or 53: December 28 is always in the last ISO week.
func isoWeeksIn(year int) int {
	_, w := time.Date(year, time.December, 28, 12, 0, 0, 0, time.UTC).ISOWeek()
	return w
}

func (p Period) Kind() PeriodKind { return p.kind }
func (p Period) IsZero() bool     { return p.kind.IsZero() }

// Key names the period in storage and in the API: "2026-W09" or "2026-03".
func (p Period) Key() string {
	if p.kind == Month {
		return fmt.Sprintf("%04d-%02d", p.year, p.num)
	}
	return fmt.Sprintf("%04d-W%02d", p.year, p.num)
}

func (p Period) String() string { return p.Key() }

// Start is the first instant of the period in loc.
func (p Period) Start(loc *time.Location) time.Time {
	if p.kind == Month {
		return time.Date(p.year, time.Month(p.num), 1, 0, 0, 0, 0, loc)
	}
	// January 4 is always in ISO week 1; its week starts on a Monday.
	jan4 := time.Date(p.year, time.January, 4, 0, 0, 0, 0, loc)
	offset := (int(jan4.Weekday()) + 6) % 7 // days since Monday
	return time.Date(p.year, time.January, 4-offset+7*(p.num-1), 0, 0, 0, 0, loc)
}

// End is the first instant after the period in loc (the next one's Start).
func (p Period) End(loc *time.Location) time.Time { return p.Next().Start(loc) }

// Next is the period after p.
func (p Period) Next() Period {
	if p.kind == Month {
		if p.num == 12 {
			return Period{kind: Month, year: p.year + 1, num: 1}
		}
		return Period{kind: Month, year: p.year, num: p.num + 1}
	}
	if p.num >= isoWeeksIn(p.year) {
		return Period{kind: Week, year: p.year + 1, num: 1}
	}
	return Period{kind: Week, year: p.year, num: p.num + 1}
}

// Prev is the period before p.
func (p Period) Prev() Period {
	if p.kind == Month {
		if p.num == 1 {
			return Period{kind: Month, year: p.year - 1, num: 12}
		}
		return Period{kind: Month, year: p.year, num: p.num - 1}
	}
	if p.num == 1 {
		return Period{kind: Week, year: p.year - 1, num: isoWeeksIn(p.year - 1)}
	}
	return Period{kind: Week, year: p.year, num: p.num - 1}
}

// Contains tells whether t falls in p in loc.
func (p Period) Contains(t time.Time, loc *time.Location) bool {
	return !t.Before(p.Start(loc)) && t.Before(p.End(loc))
}

// CheckStarted fails with ErrPeriodInFuture when p starts after now.
func (p Period) CheckStarted(now time.Time, loc *time.Location) error {
	if p.Start(loc).After(now) {
		return ErrPeriodInFuture.WithMessage("%s has not started yet (it starts %s)", p.Key(), p.Start(loc).Format(time.RFC3339))
	}
	return nil
}

// Ends returns, in order, the ends of the periods of kind k that fall in
// (after, until]: the instants at which "the state at the end of the
// period" is taken.
func Ends(k PeriodKind, after, until time.Time, loc *time.Location) []PeriodEnd {
	var out []PeriodEnd
	p := Of(k, after, loc)
	for {
		end := p.End(loc)
		if end.After(until) {
			break
		}
		out = append(out, PeriodEnd{Period: p, At: end})
		p = p.Next()
	}
	return out
}

// PeriodEnd is a period and its end instant.
type PeriodEnd struct {
	Period Period
	At     time.Time
}
