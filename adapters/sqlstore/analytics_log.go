package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/taskd/taskd/modules/analytics/domain/eventlog"
)

// AnalyticsStore is the analytics module's storage on SQL (SQLite embedded,
// MySQL when configured): the event log, the projected task states, the
// counters, the report tasks and the rebuild bookkeeping (migration 0010,
// docs/analytics.md). Writes join the transaction in the context (the
// embedded event transport hands handlers the one that acknowledges the
// event), or run in their own.
type AnalyticsStore struct {
	db *DB
	// now stamps recorded_at and processed_at (time.Now by default).
	now   func() time.Time
	stmts statements
}

// NewAnalyticsStore returns the store on db.
func NewAnalyticsStore(db *DB) *AnalyticsStore {
	return &AnalyticsStore{db: db, now: time.Now}
}

// ProjectionHandler is the processed_events handler name of the analytics
// projection's records.
const ProjectionHandler = "analytics-projection"

const entryColumns = `event_id, aggregate_type, aggregate_id, sequence, event_type, actor_id, occurred_at, payload`

// Append stores e once per event id.
func (s *AnalyticsStore) Append(ctx context.Context, e eventlog.Entry) (bool, error) {
	appended := false
	err := s.db.WithinTransaction(ctx, func(ctx context.Context) error {
		_, err := s.exec(ctx, `INSERT INTO analytics_events (`+entryColumns+`, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.EventID, e.AggregateType, e.AggregateID, e.Sequence, e.Type, e.ActorID, micros(e.OccurredAt), string(e.Payload),
			micros(s.now()))
		if s.db.Dialect.IsDuplicate(err) {
			// The event id, or its (aggregate, sequence) under another id?
			var one int
			switch qerr := s.queryRow(ctx, `SELECT 1 FROM analytics_events WHERE event_id = ?`, e.EventID).Scan(&one); {
			case qerr == nil:
				return nil
			case errors.Is(qerr, sql.ErrNoRows):
				return eventlog.ErrSequenceConflict.WithMessage("event %s: %s %s already has an event with sequence %d",
					e.EventID, e.AggregateType, e.AggregateID, e.Sequence)
			default:
				return qerr
			}
		}
		if err != nil {
			return fmt.Errorf("storing event %s: %w", e.EventID, err)
		}
		appended = true
		return nil
	})
	return appended, err
}

// Entries returns an aggregate's entries after afterSeq in sequence order.
func (s *AnalyticsStore) Entries(ctx context.Context, aggregateType, aggregateID string, afterSeq int64, limit int) ([]eventlog.Entry, error) {
	if limit < 1 || limit > eventlog.MaxQueryLimit+1 {
		return nil, fmt.Errorf("sqlstore: limit %d out of range", limit)
	}
	return s.queryEntries(ctx, `SELECT `+entryColumns+` FROM analytics_events
		WHERE aggregate_type = ? AND aggregate_id = ? AND sequence > ? ORDER BY sequence LIMIT ?`,
		aggregateType, aggregateID, afterSeq, limit)
}

// Events returns the entries q selects in (occurred_at, event_id) order.
func (s *AnalyticsStore) Events(ctx context.Context, q eventlog.Query) ([]eventlog.Entry, error) {
	if q.Limit < 1 || q.Limit > eventlog.MaxQueryLimit+1 {
		return nil, fmt.Errorf("sqlstore: limit %d out of range", q.Limit)
	}
	var (
		where []string
		args  []any
	)
	if q.ActorID != "" {
		where, args = append(where, "actor_id = ?"), append(args, q.ActorID)
	}
	where = append(where, "occurred_at >= ?", "occurred_at < ?")
	args = append(args, micros(q.From), micros(q.To))
	if q.After != nil {
		where = append(where, "(occurred_at > ? OR (occurred_at = ? AND event_id > ?))")
		args = append(args, micros(q.After.OccurredAt), micros(q.After.OccurredAt), q.After.EventID)
	}
	args = append(args, q.Limit)
	return s.queryEntries(ctx, `SELECT `+entryColumns+` FROM analytics_events WHERE `+strings.Join(where, " AND ")+
		` ORDER BY occurred_at, event_id LIMIT ?`, args...)
}

func (s *AnalyticsStore) queryEntries(ctx context.Context, q string, args ...any) ([]eventlog.Entry, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("reading the event log: %w", err)
	}
	defer rows.Close()
	var out []eventlog.Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func scanEntry(rows *sql.Rows) (eventlog.Entry, error) {
	var (
		r        eventlog.Entry
		occurred int64
		payload  string
	)
	if err := rows.Scan(&r.EventID, &r.AggregateType, &r.AggregateID, &r.Sequence, &r.Type, &r.ActorID, &occurred, &payload); err != nil {
		return eventlog.Entry{}, err
	}
	e, err := eventlog.ParseEntry([]byte(payload))
	if err != nil {
		return eventlog.Entry{}, fmt.Errorf("event %s in the log: %w", r.EventID, err)
	}
	if e.EventID != r.EventID || e.AggregateID != r.AggregateID || e.Sequence != r.Sequence {
		return eventlog.Entry{}, fmt.Errorf("event %s in the log: its payload disagrees with its row", r.EventID)
	}
	return e, nil
}

// scanPage is how many log rows one read of a rebuild takes.
const scanPage = 5000

// ScanTasks reads every task's entries in (task, sequence) order, a page
// at a time (keyset pagination, so writes in between are fine).
func (s *AnalyticsStore) ScanTasks(ctx context.Context, total func(int64), fn func(string, []eventlog.Entry) error) error {
	var n int64
	if err := s.db.Conn(ctx).QueryRowContext(ctx, `SELECT COUNT(*) FROM analytics_events WHERE aggregate_type = ?`,
		eventlog.AggregateTask).Scan(&n); err != nil {
		return fmt.Errorf("counting the event log: %w", err)
	}
	total(n)
	// MySQL and MariaDB turn the OR into a range union; SQLite wants the
	// row value to use the index.
	after := `(aggregate_id > ? OR (aggregate_id = ? AND sequence > ?))`
	if s.db.Dialect.Name == SQLite.Name {
		after = `(aggregate_id, sequence) > (?, ?)`
	}
	var (
		lastID  string
		lastSeq int64
		current string
		group   []eventlog.Entry
	)
	for {
		var args []any
		if s.db.Dialect.Name == SQLite.Name {
			args = []any{eventlog.AggregateTask, lastID, lastSeq, scanPage}
		} else {
			args = []any{eventlog.AggregateTask, lastID, lastID, lastSeq, scanPage}
		}
		page, err := s.queryEntries(ctx, `SELECT `+entryColumns+` FROM analytics_events
			WHERE aggregate_type = ? AND `+after+` ORDER BY aggregate_id, sequence LIMIT ?`, args...)
		if err != nil {
			return err
		}
		for _, e := range page {
			if e.AggregateID != current && len(group) > 0 {
				if err := fn(current, group); err != nil {
					return err
				}
				group = nil
			}
			current = e.AggregateID
			group = append(group, e)
		}
		if len(page) < scanPage {
			break
		}
		last := page[len(page)-1]
		lastID, lastSeq = last.AggregateID, last.Sequence
	}
	if len(group) > 0 {
		return fn(current, group)
	}
	return nil
}
