package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/taskd/taskd/adapters/contracttest"
	"github.com/taskd/taskd/adapters/sqlite"
	"github.com/taskd/taskd/adapters/sqlstore"
)

// openMigrated opens a new database file in a test directory and migrates it.
func openMigrated(t testing.TB) *sqlstore.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "taskd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := sqlstore.Migrate(t.Context(), db, sqlstore.SQLite); err != nil {
		t.Fatal(err)
	}
	return sqlstore.New(db, sqlstore.SQLite)
}

// newEnv gives each suite its own database file.
func newEnv(t testing.TB) contracttest.Env { return contracttest.SQLEnv(openMigrated(t)) }

func TestContract(t *testing.T) { contracttest.All(t, newEnv) }

func TestMigrations(t *testing.T) {
	contracttest.Migrations(t, sqlstore.SQLite, func(t *testing.T) (*sql.DB, *sql.DB) {
		path := filepath.Join(t.TempDir(), "taskd.db")
		var dbs [2]*sql.DB
		for i := range dbs {
			db, err := sqlite.Open(t.Context(), path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			dbs[i] = db
		}
		return dbs[0], dbs[1]
	})
}

func benchEnv(b *testing.B) contracttest.Env { return contracttest.SQLEnv(openMigrated(b)) }

func BenchmarkTaskAdd(b *testing.B)    { contracttest.BenchmarkTaskAdd(b, benchEnv(b)) }
func BenchmarkTaskUpdate(b *testing.B) { contracttest.BenchmarkTaskUpdate(b, benchEnv(b)) }
func BenchmarkTaskUpdateParallel(b *testing.B) {
	contracttest.BenchmarkTaskUpdateParallel(b, benchEnv(b))
}
