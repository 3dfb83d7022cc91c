package contracttest

import (
	"database/sql"
	"slices"
	"testing"

	"github.com/taskd/taskd/adapters/sqlstore"
)

// Migrations is the contract of sqlstore.Migrate on a dialect. fresh
// returns two handles (two "processes") on one new, empty database.
func Migrations(t *testing.T, d sqlstore.Dialect, fresh func(t *testing.T) (*sql.DB, *sql.DB)) {
	all, err := sqlstore.Migrations(d)
	must(t, err)
	var versions []int
	for _, m := range all {
		versions = append(versions, m.Version)
	}
	if len(versions) == 0 {
		t.Fatal("no migrations")
	}

	t.Run("concurrent runs apply each version once, a second run is a no-op", func(t *testing.T) {
		a, b := fresh(t)
		pending, err := sqlstore.PendingMigrations(ctxOf(t), a, d)
		must(t, err)
		equal(t, "pending on an empty database", pending, versions)

		dbs := []*sql.DB{a, b, a, b}
		applied := make([][]int, len(dbs))
		for i, err := range parallel(len(dbs), func(i int) error {
			var err error
			applied[i], err = sqlstore.Migrate(ctxOf(t), dbs[i], d)
			return err
		}) {
			if err != nil {
				t.Fatalf("migration %d: %v", i, err)
			}
		}
		var union []int
		for _, v := range applied {
			union = append(union, v...)
		}
		slices.Sort(union)
		equal(t, "versions applied, over all runs", union, versions)

		again, err := sqlstore.Migrate(ctxOf(t), b, d)
		must(t, err)
		equal(t, "applied by a second run", len(again), 0)
		pending, err = sqlstore.PendingMigrations(ctxOf(t), b, d)
		must(t, err)
		equal(t, "pending after", len(pending), 0)
		var n int
		must(t, a.QueryRowContext(ctxOf(t), `SELECT COUNT(*) FROM schema_migrations`).Scan(&n))
		equal(t, "recorded versions", n, len(versions))
		for _, table := range []string{"users", "refresh_tokens", "tasks", "outbox_messages", "outbox_offsets", "processed_events", "idempotency_keys"} {
			if _, err := a.ExecContext(ctxOf(t), `SELECT COUNT(*) FROM `+table); err != nil {
				t.Fatalf("table %s: %v", table, err)
			}
		}
	})
}
