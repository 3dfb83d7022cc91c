// Package sqlite opens taskd's embedded database: one SQLite file, through
// the pure-Go driver modernc.org/sqlite (no cgo).
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

const (
	// FileName is the database file inside the data directory.
	FileName = "taskd.db"
	// BusyTimeout is how long a connection waits for the write lock.
	BusyTimeout = 10 * time.Second
	// MaxOpenConns bounds the pool: SQLite has one writer at a time, a few
	// connections are enough for concurrent readers under WAL.
	MaxOpenConns = 8
)

// DSN returns the data source name of the database file at path. The
// pragmas are DSN parameters so that the driver applies them to every
// connection the pool opens, not just the first:
//   - busy_timeout: wait for the write lock instead of failing with SQLITE_BUSY;
//   - journal_mode=WAL: readers do not block the writer nor the writer readers;
//   - synchronous=NORMAL: durable at every checkpoint, safe against corruption under WAL;
//   - foreign_keys=ON: enforced should a migration declare any.
//
// _txlock=immediate makes every transaction take the write lock at BEGIN,
// so a read-then-write transaction never has to upgrade its lock (and
// fail with SQLITE_BUSY half-way): that is why sqlstore.SQLite.ForUpdate is
// empty — the whole transaction is the lock.
func DSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Set("_txlock", "immediate")
	u := url.URL{Scheme: "file", Path: path, RawQuery: q.Encode()}
	// file:///abs/path?…: SQLite decodes the percent-escapes of the path.
	return u.String()
}

// Open opens (creating if needed) the database file at path and checks it.
func Open(ctx context.Context, path string) (*sql.DB, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, errors.New("sqlite: a database file path is required")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	db, err := sql.Open("sqlite", DSN(abs))
	if err != nil {
		return nil, fmt.Errorf("sqlite: opening %s: %w", abs, err)
	}
	db.SetMaxOpenConns(MaxOpenConns)
	db.SetMaxIdleConns(MaxOpenConns)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(5 * time.Minute)
	var mode string
	if err := db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: opening %s: %w", abs, err)
	}
	if !strings.EqualFold(mode, "wal") {
		db.Close()
		return nil, fmt.Errorf("sqlite: %s: journal mode is %q, not WAL (is the file system a network share?)", abs, mode)
	}
	return db, nil
}

// OpenInDir opens <dataDir>/taskd.db, creating dataDir (mode 0700) if needed.
func OpenInDir(ctx context.Context, dataDir string) (*sql.DB, error) {
	if dataDir == "" {
		return nil, errors.New("sqlite: a data directory is required")
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: creating data directory: %w", err)
	}
	return Open(ctx, filepath.Join(dataDir, FileName))
}
