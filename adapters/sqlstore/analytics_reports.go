package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/taskd/taskd/modules/analytics/domain/report"
)

// Counters returns the counters of keys, one primary-key range per key.
func (s *AnalyticsStore) Counters(ctx context.Context, keys []report.CounterKey) (map[report.CounterKey]report.Counters, error) {
	out := make(map[report.CounterKey]report.Counters, len(keys))
	for _, k := range keys {
		rows, err := s.query(ctx, `SELECT metric, amount FROM analytics_counters
			WHERE period_key = ? AND scope_key = ?`, k.Period, string(k.Scope))
		if err != nil {
			return nil, fmt.Errorf("reading counters: %w", err)
		}
		c := report.Counters{}
		for rows.Next() {
			var (
				m string
				n int64
			)
			if err := rows.Scan(&m, &n); err != nil {
				rows.Close()
				return nil, err
			}
			c.Add(m, n)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if len(c) > 0 {
			out[k] = c
		}
	}
	return out, nil
}

// CountersByPrefix returns the counters of every scope of period with the
// prefix: a byte range of the primary key (utf8mb4_bin on MySQL).
func (s *AnalyticsStore) CountersByPrefix(ctx context.Context, period, scopePrefix string) (map[report.Scope]report.Counters, error) {
	rows, err := s.query(ctx, `SELECT scope_key, metric, amount FROM analytics_counters
		WHERE period_key = ? AND scope_key >= ? AND scope_key < ?`, period, scopePrefix, prefixEnd(scopePrefix))
	if err != nil {
		return nil, fmt.Errorf("reading counters: %w", err)
	}
	defer rows.Close()
	out := map[report.Scope]report.Counters{}
	for rows.Next() {
		var (
			sc, m string
			n     int64
		)
		if err := rows.Scan(&sc, &m, &n); err != nil {
			return nil, err
		}
		c := out[report.Scope(sc)]
		if c == nil {
			c = report.Counters{}
			out[report.Scope(sc)] = c
		}
		c.Add(m, n)
	}
	return out, rows.Err()
}

// prefixEnd is the smallest string above every string with prefix p (p's
// last byte raised by one; the prefixes used end in ':').
func prefixEnd(p string) string {
	if p == "" {
		return "\xff"
	}
	b := []byte(p)
	b[len(b)-1]++
	return string(b)
}

// OpenTasks returns the tasks open now in scope.
func (s *AnalyticsStore) OpenTasks(ctx context.Context, scope report.Scope) ([]report.OpenTask, error) {
	q := `SELECT ` + stateColumns + ` FROM analytics_task_states WHERE is_open = 1`
	var args []any
	switch {
	case scope == report.TeamScope:
	case scope.SupervisorID() != "" && scope.UserID() == "":
		q, args = q+` AND supervisor_id = ?`, []any{scope.SupervisorID()}
	case scope.UserID() != "" && scope.SupervisorID() == "":
		q, args = q+` AND pic_id = ?`, []any{scope.UserID()}
	default:
		return nil, fmt.Errorf("sqlstore: no open-task list for scope %q", scope)
	}
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("reading open tasks: %w", err)
	}
	defer rows.Close()
	var out []report.OpenTask
	for rows.Next() {
		st, err := scanState(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, st.OpenTask())
	}
	return out, rows.Err()
}

// OpenSummary counts the open tasks of scope at instant in the database,
// by PIC and priority (a covering index: no table row is read).
func (s *AnalyticsStore) OpenSummary(ctx context.Context, scope report.Scope, instant time.Time) ([]report.OpenGroup, error) {
	q := `SELECT pic_id, priority, COUNT(*), COALESCE(SUM(CASE WHEN deadline < ? THEN 1 ELSE 0 END), 0)
		FROM analytics_task_states WHERE is_open = 1`
	args := []any{micros(instant)}
	switch {
	case scope == report.TeamScope:
	case scope.SupervisorID() != "" && scope.UserID() == "":
		q, args = q+` AND supervisor_id = ?`, append(args, scope.SupervisorID())
	default:
		return nil, fmt.Errorf("sqlstore: no open-task summary for scope %q", scope)
	}
	q += ` AND since <= ? GROUP BY pic_id, priority ORDER BY pic_id, priority`
	rows, err := s.query(ctx, q, append(args, micros(instant))...)
	if err != nil {
		return nil, fmt.Errorf("counting open tasks: %w", err)
	}
	defer rows.Close()
	var out []report.OpenGroup
	for rows.Next() {
		var g report.OpenGroup
		if err := rows.Scan(&g.PICID, &g.Priority, &g.Open, &g.Overdue); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// Facts returns what each task contributed to a user's counters in period.
func (s *AnalyticsStore) Facts(ctx context.Context, period, userID string) (map[string]report.Fact, error) {
	rows, err := s.query(ctx, `SELECT task_id, name, priority, `+factColumnList()+`
		FROM analytics_report_tasks WHERE period_key = ? AND user_id = ?`, period, userID)
	if err != nil {
		return nil, fmt.Errorf("reading report tasks: %w", err)
	}
	defer rows.Close()
	out := map[string]report.Fact{}
	for rows.Next() {
		id, f, err := scanFact(rows)
		if err != nil {
			return nil, err
		}
		out[id] = f
	}
	return out, rows.Err()
}

func factColumnList() string {
	s := ""
	for i, c := range factColumns {
		if i > 0 {
			s += ", "
		}
		s += c.column
	}
	return s
}

func scanFact(rows *sql.Rows, prefix ...any) (string, report.Fact, error) {
	var (
		id string
		f  = report.Fact{Counts: report.Counters{}}
	)
	vals := make([]int64, len(factColumns))
	dst := append(prefix, &id, &f.Name, &f.Priority)
	for i := range vals {
		dst = append(dst, &vals[i])
	}
	if err := rows.Scan(dst...); err != nil {
		return "", report.Fact{}, err
	}
	for i, c := range factColumns {
		f.Counts.Add(c.metric, vals[i])
	}
	return id, f, nil
}
