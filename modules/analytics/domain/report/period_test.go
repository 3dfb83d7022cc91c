package report_test

import (
	"errors"
	"testing"
	"time"

	"github.com/taskd/taskd/modules/analytics/domain/report"
)

func TestParseWeek(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in, key, start string
		err            error
	}{
		{"2026-W10", "2026-W10", "2026-03-02", nil},
		{"2026-w01", "2026-W01", "2025-12-29", nil}, // ISO week 1 of 2026 starts in 2025
		{"2026-W53", "2026-W53", "2026-12-28", nil}, // 2026 has 53 weeks
		{"2020-W53", "2020-W53", "2020-12-28", nil},
		{"2025-W53", "", "", report.ErrInvalidWeek}, // 2025 has 52
		{"2026-W54", "", "", report.ErrInvalidWeek},
		{"2026-W00", "", "", report.ErrInvalidWeek},
		{"2026-W1", "", "", report.ErrInvalidWeek},
		{"2026W10", "", "", report.ErrInvalidWeek},
		{"2026-03", "", "", report.ErrInvalidWeek},
		{"１２３４-W01", "", "", report.ErrInvalidWeek},
		{"1969-W10", "", "", report.ErrInvalidWeek},
		{"", "", "", report.ErrInvalidWeek},
	} {
		p, err := report.ParseWeek(c.in)
		if !errors.Is(err, c.err) {
			t.Errorf("ParseWeek(%q) error = %v, want %v", c.in, err, c.err)
			continue
		}
		if err != nil {
			continue
		}
		if p.Key() != c.key || p.Start(time.UTC).Format(time.DateOnly) != c.start || p.Kind() != report.Week {
			t.Errorf("ParseWeek(%q) = %s starting %s, want %s starting %s", c.in, p.Key(), p.Start(time.UTC).Format(time.DateOnly), c.key, c.start)
		}
	}
}

func TestParseMonth(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in  string
		ok  bool
		end string
	}{
		{"2026-03", true, "2026-04-01"}, {"2026-12", true, "2027-01-01"}, {"2026-01", true, "2026-02-01"},
		{"2026-13", false, ""}, {"2026-00", false, ""}, {"2026-3", false, ""}, {"26-03", false, ""}, {"2026-W10", false, ""},
	} {
		p, err := report.ParseMonth(c.in)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, report.ErrInvalidMonth)) {
			t.Errorf("ParseMonth(%q) error = %v", c.in, err)
			continue
		}
		if c.ok && p.End(time.UTC).Format(time.DateOnly) != c.end {
			t.Errorf("ParseMonth(%q).End = %s, want %s", c.in, p.End(time.UTC), c.end)
		}
	}
}

func TestPeriodsInATimeZone(t *testing.T) {
	t.Parallel()
	seoul, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	// Sunday 8 March 2026, 20:00 UTC is Monday 9 March 05:00 in Seoul.
	at := time.Date(2026, 3, 8, 20, 0, 0, 0, time.UTC)
	if got := report.WeekOf(at, time.UTC).Key(); got != "2026-W10" {
		t.Errorf("week in UTC = %s", got)
	}
	w := report.WeekOf(at, seoul)
	if w.Key() != "2026-W11" || !w.Start(seoul).Equal(time.Date(2026, 3, 8, 15, 0, 0, 0, time.UTC)) {
		t.Errorf("week in Seoul = %s starting %s", w.Key(), w.Start(seoul).UTC())
	}
	// 31 March 2026, 16:00 UTC is already April in Seoul.
	if got := report.MonthOf(time.Date(2026, 3, 31, 16, 0, 0, 0, time.UTC), seoul).Key(); got != "2026-04" {
		t.Errorf("month in Seoul = %s", got)
	}
}

func TestPeriodNavigation(t *testing.T) {
	t.Parallel()
	w, _ := report.ParseWeek("2026-W01")
	if w.Prev().Key() != "2025-W52" || w.Prev().Next() != w {
		t.Errorf("around the new year: %s, %s", w.Prev().Key(), w.Prev().Next().Key())
	}
	w53, _ := report.ParseWeek("2026-W53")
	if w53.Next().Key() != "2027-W01" {
		t.Errorf("after 2026-W53: %s", w53.Next().Key())
	}
	m, _ := report.ParseMonth("2026-01")
	if m.Prev().Key() != "2025-12" || m.Next().Key() != "2026-02" {
		t.Errorf("months: %s %s", m.Prev().Key(), m.Next().Key())
	}
	// Weeks tile time: each ends where the next starts, 7 days on (in UTC).
	p := w
	for i := 0; i < 200; i++ {
		if !p.End(time.UTC).Equal(p.Next().Start(time.UTC)) || p.End(time.UTC).Sub(p.Start(time.UTC)) != 7*24*time.Hour {
			t.Fatalf("%s does not end where %s starts", p.Key(), p.Next().Key())
		}
		p = p.Next()
	}
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	next, _ := report.ParseWeek("2026-W11")
	if err := next.CheckStarted(now, time.UTC); !errors.Is(err, report.ErrPeriodInFuture) {
		t.Errorf("next week: %v", err)
	}
	cur, _ := report.ParseWeek("2026-W10")
	if err := cur.CheckStarted(now, time.UTC); err != nil {
		t.Errorf("this week: %v", err)
	}
}

func TestEnds(t *testing.T) {
	t.Parallel()
	after := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC) // a Wednesday of W10
	until := time.Date(2026, 3, 23, 0, 0, 0, 0, time.UTC) // Monday of W13, 00:00: W12's end, included
	var keys []string
	for _, e := range report.Ends(report.Week, after, until, time.UTC) {
		keys = append(keys, e.Period.Key())
	}
	if got := len(keys); got != 3 || keys[0] != "2026-W10" || keys[2] != "2026-W12" {
		t.Errorf("week ends in (%s, %s] = %v", after, until, keys)
	}
	if got := report.Ends(report.Month, after, until, time.UTC); len(got) != 0 {
		t.Errorf("month ends = %v", got)
	}
	if got := report.Ends(report.Week, after, after, time.UTC); len(got) != 0 {
		t.Errorf("an empty range has ends: %v", got)
	}
}
