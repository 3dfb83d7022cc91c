package task

import (
	"strings"
	"time"

	"github.com/taskd/taskd/modules/kernel/errs"
)

// ErrInvalidDeadline is returned for a deadline in neither accepted form.
var ErrInvalidDeadline = errs.Invalid("invalid_deadline", "Deadline", "deadline must be RFC 3339 (2026-12-01T18:00:00+09:00) or a date (2026-12-01)")

// ParseDeadline accepts RFC 3339 or YYYY-MM-DD. A bare date means the end of
// that day in UTC (23:59:59), so a task done any time that day is on time.
func ParseDeadline(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		if t.Year() < 1970 || t.Year() > 9999 {
			return time.Time{}, ErrInvalidDeadline
		}
		return t.UTC().Truncate(time.Microsecond), nil
	}
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		if d.Year() < 1970 {
			return time.Time{}, ErrInvalidDeadline
		}
		return d.Add(24*time.Hour - time.Second), nil
	}
	return time.Time{}, ErrInvalidDeadline
}
