// Package eventtest holds the helpers of the event backbone's integration
// tests: migrated databases (SQLite always, MySQL/MariaDB when reachable),
// the AWS stand-ins, events appended through the real outbox writer, and a
// table of effects to count. Tests only.
//
// Servers: TASKD_TEST_MYSQL_DSN (default root@tcp(127.0.0.1:3306)/) and the
// SDK's AWS_ENDPOINT_URL_SNS / AWS_ENDPOINT_URL_SQS (default: the fauxqs
// stand-in on 127.0.0.1:14566, `bash deploy/local/standins.sh start fauxqs`).
// Integration tests skip under -short and when a server is unreachable,
// unless TASKD_TEST_REQUIRE_SERVICES=1, where they fail.
package eventtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/taskd/taskd/adapters/mysql"
	"github.com/taskd/taskd/adapters/sqlite"
	"github.com/taskd/taskd/adapters/sqlstore"
	"github.com/taskd/taskd/modules/kernel/event"
	"github.com/taskd/taskd/modules/kernel/sys"
	"github.com/taskd/taskd/modules/tasks/contracts"
)

// Required tells whether missing servers fail the tests instead of skipping them.
func Required() bool { return os.Getenv("TASKD_TEST_REQUIRE_SERVICES") == "1" }

func unavailable(t testing.TB, what string, err error) {
	t.Helper()
	if Required() {
		t.Fatalf("%s is required (TASKD_TEST_REQUIRE_SERVICES=1) but unreachable: %v", what, err)
	}
	t.Skipf("%s unreachable, skipping: %v", what, err)
}

// Integration skips t under -short.
func Integration(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test skipped in -short mode")
	}
}

// Random returns n random bytes in hex.
func Random(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// SQLite returns a migrated SQLite database in a temporary directory.
func SQLite(t testing.TB) *sqlstore.DB {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := sqlstore.Migrate(ctx, db, sqlstore.SQLite); err != nil {
		t.Fatal(err)
	}
	return sqlstore.New(db, sqlstore.SQLite)
}

// MySQLServerDSN is the test server's DSN, without database.
func MySQLServerDSN() string {
	if dsn := os.Getenv("TASKD_TEST_MYSQL_DSN"); dsn != "" {
		return dsn
	}
	return "root@tcp(127.0.0.1:3306)/"
}

// RequireMySQL skips t under -short or when the test server does not
// answer, unless TASKD_TEST_REQUIRE_SERVICES=1, where it fails.
func RequireMySQL(t testing.TB) {
	t.Helper()
	Integration(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	probe, err := sql.Open("mysql", MySQLServerDSN())
	if err == nil {
		err = probe.PingContext(ctx)
		probe.Close()
	}
	if err != nil {
		unavailable(t, "MySQL", err)
	}
}

// MySQLDSN creates an empty database, dropped when t ends, and returns its
// DSN. It skips (or fails) when the server is unreachable.
func MySQLDSN(t testing.TB) string {
	t.Helper()
	RequireMySQL(t)
	name := fmt.Sprintf("taskd_ev_%d_%s", os.Getpid(), Random(5))
	if err := mysql.CreateDatabase(context.Background(), MySQLServerDSN(), name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := mysql.DropDatabase(ctx, MySQLServerDSN(), name); err != nil {
			t.Logf("dropping %s: %v", name, err)
		}
	})
	dsn, err := mysql.WithDatabase(MySQLServerDSN(), name)
	if err != nil {
		t.Fatal(err)
	}
	return dsn
}

// MySQL returns a migrated database of its own on the test server.
func MySQL(t testing.TB) *sqlstore.DB {
	t.Helper()
	dsn := MySQLDSN(t)
	ctx := context.Background()
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

// Dialects runs fn as a subtest on SQLite and on MySQL.
func Dialects(t *testing.T, fn func(t *testing.T, db func(t testing.TB) *sqlstore.DB)) {
	t.Run("sqlite", func(t *testing.T) { t.Parallel(); fn(t, SQLite) })
	t.Run("mysql", func(t *testing.T) { t.Parallel(); fn(t, MySQL) })
}

// DefaultAWSEndpoint is the fauxqs stand-in's address.
const DefaultAWSEndpoint = "http://127.0.0.1:14566"

// AWS returns the AWS configuration of the stand-ins: the SDK's default
// chain when AWS_ENDPOINT_URL_SQS is set (eval "$(bash deploy/local/standins.sh env)"),
// else fauxqs on its default port with test credentials. It skips (or
// fails) when SNS/SQS is unreachable.
func AWS(t testing.TB) aws.Config {
	t.Helper()
	Integration(t)
	ctx := context.Background()
	var (
		cfg aws.Config
		err error
	)
	endpoint := os.Getenv("AWS_ENDPOINT_URL_SQS")
	if endpoint != "" {
		cfg, err = config.LoadDefaultConfig(ctx)
	} else {
		endpoint = DefaultAWSEndpoint
		cfg, err = config.LoadDefaultConfig(ctx, config.WithRegion("us-east-1"),
			config.WithBaseEndpoint(endpoint),
			config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")))
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := Healthy(endpoint); err != nil {
		unavailable(t, "the SNS/SQS stand-in ("+endpoint+")", err)
	}
	return cfg
}

// Healthy checks fauxqs's health endpoint.
func Healthy(endpoint string) error {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(strings.TrimRight(endpoint, "/") + "/health")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /health: %s", resp.Status)
	}
	return nil
}

// Env returns a resource-name prefix of its own.
func Env() string { return "t" + Random(5) }

// TaskEvent returns a TaskUpdated event of aggregate agg with sequence seq.
func TaskEvent(agg string, seq int64) contracts.TaskUpdated {
	now := time.Now().UTC()
	e := contracts.TaskUpdated{}
	e.Meta = event.Meta{
		ID: sys.NewUUIDv7(), Type: contracts.NameTaskUpdated, SchemaVersion: contracts.SchemaVersion,
		OccurredAt: now, ActorID: "actor-1", AggregateType: contracts.AggregateType, AggregateID: agg, Sequence: seq,
	}
	e.Task = contracts.Snapshot{ID: agg, Name: fmt.Sprintf("task %s #%d", agg, seq), Status: "waiting", Priority: "medium",
		CreatorID: "actor-1", CreatedAt: now, UpdatedAt: now, Version: seq}
	e.Changes = []event.Change{{Field: "name", Old: nil, New: e.Task.Name}}
	return e
}

// Append writes evs to the outbox in one transaction, as a repository does.
func Append(t testing.TB, db *sqlstore.DB, evs ...event.Event) {
	t.Helper()
	err := db.WithinTransaction(context.Background(), func(ctx context.Context) error {
		tx, _ := sqlstore.TxFromContext(ctx)
		return db.Outbox.Append(ctx, tx, evs)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// CreateEffects creates the table test_effects(id, handler, event_id).
func CreateEffects(t testing.TB, db *sqlstore.DB) {
	t.Helper()
	q := `CREATE TABLE test_effects (id INTEGER PRIMARY KEY AUTOINCREMENT, handler TEXT NOT NULL, event_id TEXT NOT NULL)`
	if db.Dialect.Name == sqlstore.MySQL.Name {
		q = `CREATE TABLE test_effects (id BIGINT AUTO_INCREMENT PRIMARY KEY, handler VARCHAR(100) NOT NULL, event_id VARCHAR(64) NOT NULL)`
	}
	if _, err := db.SQL.Exec(q); err != nil {
		t.Fatal(err)
	}
}

// Effect is a handler's effect: one row in test_effects, written once per
// event through ProcessOnce, in the transaction of ctx.
func Effect(ctx context.Context, db *sqlstore.DB, handler, eventID string) error {
	return db.ProcessOnce(ctx, handler, eventID, func(ctx context.Context) error {
		_, err := db.Conn(ctx).ExecContext(ctx, `INSERT INTO test_effects (handler, event_id) VALUES (?, ?)`, handler, eventID)
		return err
	})
}

// Effects returns how many effects each event id has.
func Effects(t testing.TB, db *sqlstore.DB) map[string]int {
	t.Helper()
	rows, err := db.SQL.Query(`SELECT event_id, COUNT(*) FROM test_effects GROUP BY event_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var (
			id string
			n  int
		)
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		out[id] = n
	}
	return out
}

// Eventually polls cond every 20ms until it holds or timeout passes.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
