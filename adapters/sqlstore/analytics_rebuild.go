package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/taskd/taskd/modules/analytics/domain/eventlog"
	"github.com/taskd/taskd/modules/analytics/domain/report"
)

// Meta returns the read models' generation, rebuild flag and time zone.
func (s *AnalyticsStore) Meta(ctx context.Context) (report.Meta, error) {
	var (
		m          report.Meta
		rebuilding int
	)
	err := s.db.Conn(ctx).QueryRowContext(ctx, `SELECT generation, rebuilding, time_zone FROM analytics_meta WHERE id = 1`).
		Scan(&m.Generation, &rebuilding, &m.TimeZone)
	if errors.Is(err, sql.ErrNoRows) {
		return report.Meta{}, errNoMeta
	}
	if err != nil {
		return report.Meta{}, fmt.Errorf("reading analytics_meta: %w", err)
	}
	m.Rebuilding = rebuilding != 0
	return m, nil
}

// SetTimeZone records tz unless a time zone is recorded.
func (s *AnalyticsStore) SetTimeZone(ctx context.Context, tz string) error {
	_, err := s.db.Conn(ctx).ExecContext(ctx, `UPDATE analytics_meta SET time_zone = ?, updated_at = ? WHERE id = 1 AND time_zone = ''`,
		tz, micros(s.now()))
	return err
}

// readModelTables are emptied by a rebuild.
var readModelTables = []string{"analytics_counters", "analytics_report_tasks", "analytics_task_states"}

// BeginRebuild raises the flag in its own transaction (on MySQL it waits
// for the commits holding the meta row's shared lock; every commit after it
// sees the flag and stops), then empties the read models.
func (s *AnalyticsStore) BeginRebuild(ctx context.Context, tz string) error {
	if _, ok := TxFromContext(ctx); ok {
		return errors.New("sqlstore: a rebuild runs in its own transactions")
	}
	if err := s.db.WithinTransaction(ctx, func(ctx context.Context) error {
		t, err := tx(ctx)
		if err != nil {
			return err
		}
		res, err := t.ExecContext(ctx, `UPDATE analytics_meta SET rebuilding = 1, generation = generation + 1, time_zone = ?, updated_at = ? WHERE id = 1`,
			tz, micros(s.now()))
		if err != nil {
			return fmt.Errorf("flagging the rebuild: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errNoMeta
		}
		return nil
	}); err != nil {
		return err
	}
	for _, table := range readModelTables {
		stmt := `DELETE FROM ` + table
		if s.db.Dialect.Name == MySQL.Name {
			stmt = `TRUNCATE TABLE ` + table
		}
		if _, err := s.db.SQL.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("emptying %s: %w", table, err)
		}
	}
	if _, err := s.db.SQL.ExecContext(ctx, `DELETE FROM processed_events WHERE handler = ?`, ProjectionHandler); err != nil {
		return fmt.Errorf("forgetting projected events: %w", err)
	}
	return nil
}

// WriteRebuilt stores states (replacing any) and adds eff, in one transaction.
func (s *AnalyticsStore) WriteRebuilt(ctx context.Context, states []report.TaskState, eff report.Effects) error {
	return s.db.WithinTransaction(ctx, func(ctx context.Context) error {
		t, err := tx(ctx)
		if err != nil {
			return err
		}
		verb := `INSERT OR REPLACE INTO`
		if s.db.Dialect.Name == MySQL.Name {
			verb = `REPLACE INTO`
		}
		for chunk := range slices.Chunk(states, rowsPerStatement/4) {
			args := make([]any, 0, 13*len(chunk))
			for _, st := range chunk {
				args = append(args, stateArgs(st)...)
			}
			if _, err := t.ExecContext(ctx, verb+` analytics_task_states (`+stateColumns+`) VALUES `+rowsOf(len(chunk), 13), args...); err != nil {
				return fmt.Errorf("storing rebuilt states: %w", err)
			}
		}
		return s.addEffects(ctx, eff)
	})
}

// EndRebuild lowers the flag.
func (s *AnalyticsStore) EndRebuild(ctx context.Context) error {
	_, err := s.db.Conn(ctx).ExecContext(ctx, `UPDATE analytics_meta SET rebuilding = 0, updated_at = ? WHERE id = 1`, micros(s.now()))
	return err
}

// LaggingTasks lists the tasks whose log goes past their projected state.
func (s *AnalyticsStore) LaggingTasks(ctx context.Context) ([]string, error) {
	rows, err := s.db.Conn(ctx).QueryContext(ctx, `SELECT e.aggregate_id
		FROM (SELECT aggregate_id, MAX(sequence) AS last_sequence FROM analytics_events WHERE aggregate_type = ? GROUP BY aggregate_id) e
		LEFT JOIN analytics_task_states s ON s.task_id = e.aggregate_id
		WHERE s.task_id IS NULL OR s.last_sequence < e.last_sequence`, eventlog.AggregateTask)
	if err != nil {
		return nil, fmt.Errorf("listing lagging tasks: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// DumpReadModels returns every task state, counter and report task (tests
// compare a rebuild with the live projection through it).
func (s *AnalyticsStore) DumpReadModels(ctx context.Context) ([]report.TaskState, report.Effects, error) {
	conn := s.db.Conn(ctx)
	eff := report.NewEffects()
	rows, err := conn.QueryContext(ctx, `SELECT `+stateColumns+` FROM analytics_task_states ORDER BY task_id`)
	if err != nil {
		return nil, eff, err
	}
	var states []report.TaskState
	for rows.Next() {
		st, err := scanState(rows)
		if err != nil {
			rows.Close()
			return nil, eff, err
		}
		states = append(states, st)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, eff, err
	}
	rows, err = conn.QueryContext(ctx, `SELECT period_key, scope_key, metric, amount FROM analytics_counters`)
	if err != nil {
		return nil, eff, err
	}
	for rows.Next() {
		var (
			k report.CounterKey
			m string
			n int64
		)
		if err := rows.Scan(&k.Period, &k.Scope, &m, &n); err != nil {
			rows.Close()
			return nil, eff, err
		}
		if eff.Counters[k] == nil {
			eff.Counters[k] = report.Counters{}
		}
		eff.Counters[k].Add(m, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, eff, err
	}
	rows, err = conn.QueryContext(ctx, `SELECT period_key, user_id, task_id, name, priority, `+factColumnList()+` FROM analytics_report_tasks`)
	if err != nil {
		return nil, eff, err
	}
	defer rows.Close()
	for rows.Next() {
		var k report.FactKey
		id, f, err := scanFact(rows, &k.Period, &k.UserID)
		if err != nil {
			return nil, eff, err
		}
		k.TaskID = id
		eff.Facts[k] = f
	}
	return states, eff, rows.Err()
}
