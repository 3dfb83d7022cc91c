package sqlstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/taskd/taskd/adapters/contracttest"
	"github.com/taskd/taskd/adapters/eventtest"
	"github.com/taskd/taskd/adapters/mysql"
	"github.com/taskd/taskd/adapters/sqlite"
	"github.com/taskd/taskd/adapters/sqlstore"
)

// The analytics contract over SQLite (a database file per env) and MySQL /
// MariaDB (a database per env on TASKD_TEST_MYSQL_DSN, default
// root@tcp(127.0.0.1:3306)/, dropped at the end; skipped without a server
// unless TASKD_TEST_REQUIRE_SERVICES=1).

func openSQLite(t testing.TB) *sqlstore.DB {
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

func analyticsEnv(db *sqlstore.DB) contracttest.AnalyticsEnv {
	s := sqlstore.NewAnalyticsStore(db)
	return contracttest.AnalyticsEnv{Store: s, Dump: s.DumpReadModels, Tx: db.WithinTransaction}
}

func TestAnalyticsContractSQLite(t *testing.T) {
	contracttest.Analytics(t, func(t testing.TB) contracttest.AnalyticsEnv { return analyticsEnv(openSQLite(t)) })
}

// openMySQL creates a migrated database of its own for t, dropped when t ends.
func openMySQL(t testing.TB) *sqlstore.DB {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := fmt.Sprintf("taskd_analytics_%d_%s", os.Getpid(), hex.EncodeToString(b))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := mysql.CreateDatabase(ctx, eventtest.MySQLServerDSN(), name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := mysql.DropDatabase(ctx, eventtest.MySQLServerDSN(), name); err != nil {
			t.Logf("dropping %s: %v", name, err)
		}
	})
	dsn, err := mysql.WithDatabase(eventtest.MySQLServerDSN(), name)
	if err != nil {
		t.Fatal(err)
	}
	db, err := mysql.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := sqlstore.Migrate(ctx, db, sqlstore.MySQL); err != nil {
		t.Fatal(err)
	}
	return sqlstore.New(db, sqlstore.MySQL)
}

func TestAnalyticsContractMySQL(t *testing.T) {
	eventtest.RequireMySQL(t)
	contracttest.Analytics(t, func(t testing.TB) contracttest.AnalyticsEnv { return analyticsEnv(openMySQL(t)) })
}
