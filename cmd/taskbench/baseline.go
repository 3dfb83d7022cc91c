package main

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
)

// The baseline is what the database alone allows: the single-row INSERT of
// a task row and the primary-key SELECT of one, through database/sql with
// the pool settings taskd uses (adapters/sqlite.Open, adapters/mysql.Open),
// on the same database, into bench_tasks — a copy of the tasks table's
// shape and indexes, so the API's tasks are left alone. No HTTP, no JSON,
// no transaction around the statement, no outbox.

const baselineColumns = `id, name, contents, status, priority, priority_rank, deadline, deadline_key, pic_id, supervisor_id,
	creator_id, created_at, updated_at, started_at, completed_at, version, last_sequence`

// createBaselineTable copies the tasks table's shape to bench_tasks.
func createBaselineTable(ctx context.Context, db *sql.DB, dialect string) error {
	if dialect == "mysql" {
		_, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS bench_tasks LIKE tasks`)
		return err
	}
	rows, err := db.QueryContext(ctx, `SELECT sql FROM sqlite_master WHERE tbl_name = 'tasks' AND sql IS NOT NULL ORDER BY type DESC`)
	if err != nil {
		return err
	}
	var stmts []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return err
		}
		stmts = append(stmts, s)
	}
	rows.Close()
	if len(stmts) == 0 {
		return fmt.Errorf("no tasks table to copy")
	}
	table := regexp.MustCompile(`\btasks\b`)
	index := regexp.MustCompile(`\btasks_`)
	for _, s := range stmts {
		s = index.ReplaceAllString(table.ReplaceAllString(s, "bench_tasks"), "bench_tasks_")
		s = strings.Replace(s, "CREATE TABLE ", "CREATE TABLE IF NOT EXISTS ", 1)
		s = strings.Replace(s, "CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1)
		s = strings.Replace(s, "CREATE UNIQUE INDEX ", "CREATE UNIQUE INDEX IF NOT EXISTS ", 1)
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// runBaseline measures the bare INSERT and SELECT at each concurrency.
func runBaseline(ctx context.Context, db *sql.DB, dialect string, conc []int, n int) ([]Result, error) {
	if err := createBaselineTable(ctx, db, dialect); err != nil {
		return nil, fmt.Errorf("baseline table: %w", err)
	}
	creator := uuid.NewString()
	var ids []string
	var out []Result
	for _, c := range conc {
		batch := make([]string, n)
		for i := range batch {
			batch[i] = uuid.Must(uuid.NewV7()).String()
		}
		r := runLoad(ctx, "bare-insert", c, n, 0, func(ctx context.Context, w, i int) (outcome, error) {
			now := time.Now().UnixMicro()
			deadline := now + int64(i%30)*86400e6
			_, err := db.ExecContext(ctx, `INSERT INTO bench_tasks (`+baselineColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				batch[i], fmt.Sprintf("baseline task %d", i), "", "waiting", "medium", 2, deadline, deadline,
				creator, creator, creator, now, now, nil, nil, 1, 1)
			if err != nil {
				return failed, err
			}
			return ok, nil
		})
		ids = append(ids, batch...)
		out = append(out, r)
	}
	for _, c := range conc {
		r := runLoad(ctx, "bare-pk-select", c, n, 0, func(ctx context.Context, w, i int) (outcome, error) {
			var (
				id, name, contents, status, priority, creatorID string
				rank                                            int64
				deadline, started, completed                    sql.NullInt64
				deadlineKey, created, updated, version, seq     int64
				pic, sup                                        sql.NullString
			)
			err := db.QueryRowContext(ctx, `SELECT `+baselineColumns+` FROM bench_tasks WHERE id = ?`, ids[(i*7919)%len(ids)]).
				Scan(&id, &name, &contents, &status, &priority, &rank, &deadline, &deadlineKey, &pic, &sup, &creatorID,
					&created, &updated, &started, &completed, &version, &seq)
			if err != nil {
				return failed, err
			}
			return ok, nil
		})
		out = append(out, r)
	}
	return out, nil
}

// ratio is a/b, or 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 || math.IsNaN(b) {
		return 0
	}
	return a / b
}
