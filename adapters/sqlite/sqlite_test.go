package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/taskd/taskd/adapters/sqlite"
)

func TestPragmasOnEveryConnection(t *testing.T) {
	t.Parallel()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "odd ?#% name.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Hold several connections at once, so the pool has to open new ones.
	var conns []*sql.Conn
	for range 4 {
		c, err := db.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	for i, c := range conns {
		for pragma, want := range map[string]string{"journal_mode": "wal", "busy_timeout": "10000", "synchronous": "1", "foreign_keys": "1"} {
			var got string
			if err := c.QueryRowContext(t.Context(), "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("connection %d: %s = %s, want %s", i, pragma, got, want)
			}
		}
	}
	if got := db.Stats().MaxOpenConnections; got != sqlite.MaxOpenConns {
		t.Errorf("max open connections = %d", got)
	}
}

// Every transaction takes the write lock at BEGIN (_txlock=immediate): a
// second one waits at its BEGIN until the first ends.
func TestTransactionsBeginImmediate(t *testing.T) {
	t.Parallel()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx1, err := db.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	began := make(chan error, 1)
	go func() {
		tx2, err := db.BeginTx(context.Background(), nil)
		if err == nil {
			err = tx2.Rollback()
		}
		began <- err
	}()
	select {
	case err := <-began:
		t.Fatalf("a second transaction began while the first held the write lock (%v)", err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := tx1.Rollback(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-began:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the second transaction never began")
	}
}

func TestOpenInDir(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data", "nested")
	db, err := sqlite.OpenInDir(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(t.Context(), "CREATE TABLE x (y INTEGER)"); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o700 {
		t.Errorf("data dir mode = %v, want 0700", st.Mode().Perm())
	}
	if _, err := os.Stat(filepath.Join(dir, sqlite.FileName)); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{"", ":memory:", "file:x.db"} {
		if _, err := sqlite.Open(t.Context(), bad); err == nil {
			t.Errorf("Open(%q) succeeded", bad)
		}
	}
	if _, err := sqlite.OpenInDir(t.Context(), ""); err == nil {
		t.Error("OpenInDir(\"\") succeeded")
	}
}
