package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Backlog returns how many outbox rows the slowest of groups has not
// acknowledged yet, and the age of the oldest of them (0 when none): the
// forwarder's backlog in the cloud (groups = ["forwarder"]), the slowest
// handler group's when embedded.
func Backlog(ctx context.Context, db *sql.DB, d Dialect, groups []string, now time.Time) (int, time.Duration, error) {
	if len(groups) == 0 {
		return 0, 0, nil
	}
	var low int64 = -1
	for _, g := range groups {
		var acked sql.NullInt64
		err := db.QueryRowContext(ctx, `SELECT offset_acked FROM `+OffsetsTable+` WHERE consumer_group = ?`, g).Scan(&acked)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return 0, 0, fmt.Errorf("reading the offset of %s: %w", g, err)
		}
		if low < 0 || acked.Int64 < low {
			low = acked.Int64
		}
	}
	col := `"offset"`
	if d == MySQL {
		col = "`offset`"
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+MessagesTable+` WHERE `+col+` > ?`, low).Scan(&n); err != nil {
		return 0, 0, fmt.Errorf("counting the outbox backlog: %w", err)
	}
	if n == 0 {
		return 0, 0, nil
	}
	var created any
	if err := db.QueryRowContext(ctx, `SELECT created_at FROM `+MessagesTable+` WHERE `+col+` > ? ORDER BY `+col+` LIMIT 1`, low).Scan(&created); err != nil {
		return n, 0, fmt.Errorf("reading the oldest outbox row: %w", err)
	}
	var at time.Time
	switch v := created.(type) {
	case time.Time: // MySQL TIMESTAMP, read in UTC
		at = v
	case string: // SQLite CURRENT_TIMESTAMP: UTC "YYYY-MM-DD HH:MM:SS"
		at, _ = time.Parse(time.DateTime, v)
	case []byte:
		at, _ = time.Parse(time.DateTime, string(v))
	}
	if at.IsZero() {
		return n, 0, nil
	}
	return n, max(now.Sub(at), 0), nil
}
