package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/taskd/taskd/modules/analytics/domain/report"
)

const stateColumns = `task_id, last_sequence, since, name, status, priority, deadline, pic_id, supervisor_id, creator_id, started_at, deleted, is_open`

// TaskState returns the projected state of a task (LastSeq 0 when none).
func (s *AnalyticsStore) TaskState(ctx context.Context, taskID string) (report.TaskState, error) {
	rows, err := s.query(ctx, `SELECT `+stateColumns+` FROM analytics_task_states WHERE task_id = ?`, taskID)
	if err != nil {
		return report.TaskState{}, fmt.Errorf("reading the state of task %s: %w", taskID, err)
	}
	defer rows.Close()
	if !rows.Next() {
		return report.TaskState{TaskID: taskID}, rows.Err()
	}
	return scanState(rows)
}

func scanState(rows *sql.Rows) (report.TaskState, error) {
	var (
		st                report.TaskState
		since             int64
		deadline, started sql.NullInt64
		deleted, open     int
	)
	if err := rows.Scan(&st.TaskID, &st.LastSeq, &since, &st.Name, &st.Status, &st.Priority, &deadline, &st.PICID,
		&st.SupervisorID, &st.CreatorID, &started, &deleted, &open); err != nil {
		return report.TaskState{}, err
	}
	st.Since, st.Deadline, st.StartedAt, st.Deleted = fromMicros(since), timePtr(deadline), timePtr(started), deleted == 1
	return st, nil
}

func stateArgs(st report.TaskState) []any {
	return []any{st.TaskID, st.LastSeq, micros(st.Since), st.Name, st.Status, st.Priority, microsPtr(st.Deadline),
		st.PICID, st.SupervisorID, st.CreatorID, microsPtr(st.StartedAt), boolInt(st.Deleted), boolInt(st.IsOpen())}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Commit applies c in one transaction: the meta row is read under a shared
// lock (a rebuild's update of it waits for the commits in flight, and the
// commits after it see the flag), the state moves from c.Before only, the
// event ids are recorded in processed_events, the counters and report
// tasks are added to.
func (s *AnalyticsStore) Commit(ctx context.Context, c report.Commit) error {
	if c.After.TaskID == "" || c.After.LastSeq <= c.Before.LastSeq {
		return fmt.Errorf("sqlstore: a commit must move a task forward (%d → %d)", c.Before.LastSeq, c.After.LastSeq)
	}
	return s.db.WithinTransaction(ctx, func(ctx context.Context) error {
		lock := ""
		if s.db.Dialect.Name == MySQL.Name {
			lock = " LOCK IN SHARE MODE"
		}
		var rebuilding int
		if err := s.queryRow(ctx, `SELECT rebuilding FROM analytics_meta WHERE id = 1`+lock).Scan(&rebuilding); err != nil {
			return fmt.Errorf("reading analytics_meta: %w", err)
		}
		if rebuilding != 0 {
			return report.ErrRebuilding
		}
		if err := s.advanceState(ctx, c); err != nil {
			return err
		}
		now := micros(s.now())
		for _, id := range c.EventIDs {
			_, err := s.exec(ctx, `INSERT INTO processed_events (handler, event_id, processed_at) VALUES (?, ?, ?)`, ProjectionHandler, id, now)
			if s.db.Dialect.IsDuplicate(err) {
				return fmt.Errorf("event %s is recorded as projected but task %s's state is at %d: the read models need `taskd analytics rebuild`",
					id, c.After.TaskID, c.Before.LastSeq)
			}
			if err != nil {
				return fmt.Errorf("recording event %s as projected: %w", id, err)
			}
		}
		return s.addEffects(ctx, c.Effects)
	})
}

func (s *AnalyticsStore) advanceState(ctx context.Context, c report.Commit) error {
	args := stateArgs(c.After)
	if c.Before.LastSeq == 0 {
		_, err := s.exec(ctx, `INSERT INTO analytics_task_states (`+stateColumns+`) VALUES (`+placeholders(13)+`)`, args...)
		if s.db.Dialect.IsDuplicate(err) {
			return report.ErrStaleState
		}
		if err != nil {
			return fmt.Errorf("storing the state of task %s: %w", c.After.TaskID, err)
		}
		return nil
	}
	res, err := s.exec(ctx, `UPDATE analytics_task_states SET last_sequence = ?, since = ?, name = ?, status = ?, priority = ?,
		deadline = ?, pic_id = ?, supervisor_id = ?, creator_id = ?, started_at = ?, deleted = ?, is_open = ?
		WHERE task_id = ? AND last_sequence = ?`, append(args[1:], c.After.TaskID, c.Before.LastSeq)...)
	if err != nil {
		return fmt.Errorf("updating the state of task %s: %w", c.After.TaskID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != 1 {
		return report.ErrStaleState
	}
	return nil
}

// rowsPerStatement bounds multi-row statements (SQLite allows 32,766
// placeholders per statement).
const rowsPerStatement = 500

// addEffects adds the counters and report tasks of eff, in key order (two
// transactions touching the same rows lock them in the same order).
func (s *AnalyticsStore) addEffects(ctx context.Context, eff report.Effects) error {
	type counterRow struct {
		period, scope, metric string
		n                     int64
	}
	var counters []counterRow
	for k, c := range eff.Counters {
		for m, n := range c {
			if n != 0 {
				counters = append(counters, counterRow{k.Period, string(k.Scope), m, n})
			}
		}
	}
	slices.SortFunc(counters, func(a, b counterRow) int {
		return strings.Compare(a.period+"\x00"+a.scope+"\x00"+a.metric, b.period+"\x00"+b.scope+"\x00"+b.metric)
	})
	upsert := ` ON CONFLICT (period_key, scope_key, metric) DO UPDATE SET amount = amount + excluded.amount`
	if s.db.Dialect.Name == MySQL.Name {
		upsert = ` ON DUPLICATE KEY UPDATE amount = amount + VALUES(amount)`
	}
	for chunk := range slices.Chunk(counters, rowsPerStatement) {
		args := make([]any, 0, 4*len(chunk))
		for _, r := range chunk {
			args = append(args, r.period, r.scope, r.metric, r.n)
		}
		if _, err := s.exec(ctx, `INSERT INTO analytics_counters (period_key, scope_key, metric, amount) VALUES `+
			rowsOf(len(chunk), 4)+upsert, args...); err != nil {
			return fmt.Errorf("adding to analytics_counters: %w", err)
		}
	}

	keys := make([]report.FactKey, 0, len(eff.Facts))
	for k := range eff.Facts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b report.FactKey) int {
		return strings.Compare(a.Period+"\x00"+a.UserID+"\x00"+a.TaskID, b.Period+"\x00"+b.UserID+"\x00"+b.TaskID)
	})
	set := make([]string, 0, len(factColumns))
	for _, c := range factColumns {
		if s.db.Dialect.Name == MySQL.Name {
			set = append(set, c.column+" = "+c.column+" + VALUES("+c.column+")")
		} else {
			set = append(set, c.column+" = "+c.column+" + excluded."+c.column)
		}
	}
	upsert = ` ON CONFLICT (period_key, user_id, task_id) DO UPDATE SET name = excluded.name, priority = excluded.priority, ` + strings.Join(set, ", ")
	if s.db.Dialect.Name == MySQL.Name {
		upsert = ` ON DUPLICATE KEY UPDATE name = VALUES(name), priority = VALUES(priority), ` + strings.Join(set, ", ")
	}
	cols := make([]string, 0, len(factColumns))
	for _, c := range factColumns {
		cols = append(cols, c.column)
	}
	width := 5 + len(factColumns)
	for chunk := range slices.Chunk(keys, rowsPerStatement/2) {
		args := make([]any, 0, width*len(chunk))
		for _, k := range chunk {
			f := eff.Facts[k]
			args = append(args, k.Period, k.UserID, k.TaskID, f.Name, f.Priority)
			for _, c := range factColumns {
				args = append(args, f.Counts.Get(c.metric))
			}
		}
		if _, err := s.exec(ctx, `INSERT INTO analytics_report_tasks (period_key, user_id, task_id, name, priority, `+
			strings.Join(cols, ", ")+`) VALUES `+rowsOf(len(chunk), width)+upsert, args...); err != nil {
			return fmt.Errorf("adding to analytics_report_tasks: %w", err)
		}
	}
	return nil
}

// factColumns map the count metrics to analytics_report_tasks columns.
var factColumns = []struct{ metric, column string }{
	{report.Created, "created"}, {report.Assigned, "assigned"}, {report.Started, "started"},
	{report.Completed, "completed"}, {report.CompletedOnTime, "completed_on_time"},
	{report.CompletedLate, "completed_late"}, {report.Reopened, "reopened"},
	{report.Open, "open_end"}, {report.Overdue, "overdue"},
}

// rowsOf returns "(?, ?), (?, ?)" for n rows of width placeholders.
func rowsOf(n, width int) string {
	row := "(" + placeholders(width) + ")"
	return strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}

var errNoMeta = errors.New("sqlstore: analytics_meta has no row: is migration 0010 applied?")
