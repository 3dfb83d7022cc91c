package mysql_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/taskd/taskd/adapters/contracttest"
	"github.com/taskd/taskd/adapters/mysql"
	"github.com/taskd/taskd/adapters/sqlstore"
)

// The tests need a MySQL or MariaDB server: TASKD_TEST_MYSQL_DSN (a DSN
// without database; default root@tcp(127.0.0.1:3306)/). Each run creates
// its own databases and drops them at the end. Without a server they are
// skipped, unless TASKD_TEST_REQUIRE_SERVICES=1 (CI), where that fails.

func serverDSN() string {
	if dsn := os.Getenv("TASKD_TEST_MYSQL_DSN"); dsn != "" {
		return dsn
	}
	return "root@tcp(127.0.0.1:3306)/"
}

var (
	mu        sync.Mutex
	databases []string
	shared    *sqlstore.DB
	sharedErr error
	once      sync.Once
)

func TestMain(m *testing.M) {
	code := m.Run()
	mu.Lock()
	if shared != nil {
		shared.SQL.Close()
	}
	for _, name := range databases {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := mysql.DropDatabase(ctx, serverDSN(), name); err != nil {
			fmt.Fprintf(os.Stderr, "dropping test database %s: %v\n", name, err)
		}
		cancel()
	}
	mu.Unlock()
	os.Exit(code)
}

func requireServer(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("MySQL tests skipped in -short mode")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	db, err := sql.Open("mysql", serverDSN())
	if err == nil {
		err = db.PingContext(ctx)
		db.Close()
	}
	if err != nil {
		if os.Getenv("TASKD_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatalf("MySQL is required (TASKD_TEST_REQUIRE_SERVICES=1) but unreachable: %v", err)
		}
		t.Skipf("MySQL unreachable, skipping: %v", err)
	}
}

// createDatabase creates an empty database, dropped when the run ends,
// and returns its DSN.
func createDatabase(ctx context.Context) (string, error) {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := fmt.Sprintf("taskd_test_%d_%s", os.Getpid(), hex.EncodeToString(b))
	if err := mysql.CreateDatabase(ctx, serverDSN(), name); err != nil {
		return "", err
	}
	mu.Lock()
	databases = append(databases, name)
	mu.Unlock()
	return mysql.WithDatabase(serverDSN(), name)
}

func open(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	db, err := mysql.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// sharedDB is the one migrated database of this run, shared by every suite
// (the suites use unique ids).
func sharedDB(t testing.TB) *sqlstore.DB {
	t.Helper()
	requireServer(t)
	once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		dsn, err := createDatabase(ctx)
		if err != nil {
			sharedErr = err
			return
		}
		db, err := mysql.Open(ctx, dsn)
		if err != nil {
			sharedErr = err
			return
		}
		if _, err := sqlstore.Migrate(ctx, db, sqlstore.MySQL); err != nil {
			db.Close()
			sharedErr = err
			return
		}
		mu.Lock()
		shared = sqlstore.New(db, sqlstore.MySQL)
		mu.Unlock()
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

func newEnv(t testing.TB) contracttest.Env { return contracttest.SQLEnv(sharedDB(t)) }

func TestContract(t *testing.T) {
	requireServer(t)
	contracttest.All(t, newEnv)
}

func TestMigrations(t *testing.T) {
	requireServer(t)
	contracttest.Migrations(t, sqlstore.MySQL, func(t *testing.T) (*sql.DB, *sql.DB) {
		dsn, err := createDatabase(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		a, b := open(t, dsn), open(t, dsn)
		t.Cleanup(func() { a.Close(); b.Close() })
		return a, b
	})
}

func benchEnv(b *testing.B) contracttest.Env {
	requireServer(b)
	return newEnv(b)
}

func BenchmarkTaskAdd(b *testing.B)    { contracttest.BenchmarkTaskAdd(b, benchEnv(b)) }
func BenchmarkTaskUpdate(b *testing.B) { contracttest.BenchmarkTaskUpdate(b, benchEnv(b)) }
func BenchmarkTaskUpdateParallel(b *testing.B) {
	contracttest.BenchmarkTaskUpdateParallel(b, benchEnv(b))
}
