package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Migrations are versioned SQL files, one folder per dialect:
// migrations/<dialect>/NNNN_name.sql. A version is applied once and recorded
// in schema_migrations(version, applied_at); files are never edited once
// released, a change is a new file.
//
//go:embed migrations
var migrationsFS embed.FS

// Migration is one versioned schema change.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations returns the dialect's migrations in version order.
func Migrations(d Dialect) ([]Migration, error) {
	dir := path.Join("migrations", d.Name)
	entries, err := fs.ReadDir(migrationsFS, dir)
	if err != nil {
		return nil, fmt.Errorf("reading migrations of %s: %w", d.Name, err)
	}
	var out []Migration
	seen := map[int]string{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must be NNNN_name.sql", e.Name())
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %s and %s share version %d", prev, e.Name(), v)
		}
		seen[v] = e.Name()
		b, err := fs.ReadFile(migrationsFS, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: e.Name(), SQL: string(b)})
	}
	slices.SortFunc(out, func(a, b Migration) int { return a.Version - b.Version })
	return out, nil
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER NOT NULL PRIMARY KEY,
	applied_at BIGINT  NOT NULL
)`

// Migrate applies the pending migrations and returns their versions.
//
// It is safe when several processes start at once: on MySQL they serialise
// on a named lock (GET_LOCK, per database) held on one connection; on
// SQLite the whole run is one IMMEDIATE transaction, which takes the write
// lock at BEGIN. The loser waits, then finds nothing left to do.
//
// On SQLite a migration is atomic. On MySQL every DDL statement commits by
// itself, so statements run one by one and are written to be idempotent; a
// failed migration is not recorded and runs again, whole, next time.
func Migrate(ctx context.Context, db *sql.DB, d Dialect) (applied []int, err error) {
	all, err := Migrations(d)
	if err != nil {
		return nil, err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	if d.Name == MySQL.Name {
		return migrateMySQL(ctx, conn, all)
	}
	return migrateSQLite(ctx, conn, all)
}

// mysqlLockTimeout bounds the wait for another process's migration.
const mysqlLockTimeout = 120 // seconds

func migrateMySQL(ctx context.Context, conn *sql.Conn, all []Migration) (applied []int, err error) {
	// Lock names are server-wide and at most 64 characters: name the lock
	// after a hash of the database name.
	const lockName = `CONCAT('taskd_migrate_', MD5(COALESCE(DATABASE(), '')))`
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, `SELECT GET_LOCK(`+lockName+`, ?)`, mysqlLockTimeout).Scan(&got); err != nil {
		return nil, fmt.Errorf("migrate: taking the migration lock: %w", err)
	}
	if !got.Valid || got.Int64 != 1 {
		return nil, fmt.Errorf("migrate: another process held the migration lock for %ds", mysqlLockTimeout)
	}
	defer func() {
		// Released on the same connection, even when ctx is done.
		if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), `DO RELEASE_LOCK(`+lockName+`)`); rerr != nil {
			err = errors.Join(err, fmt.Errorf("migrate: releasing the migration lock: %w", rerr))
		}
	}()
	if _, err := conn.ExecContext(ctx, createMigrationsTable); err != nil {
		return nil, fmt.Errorf("migrate: creating schema_migrations: %w", err)
	}
	done, err := appliedVersions(ctx, conn)
	if err != nil {
		return nil, err
	}
	for _, m := range all {
		if done[m.Version] {
			continue
		}
		stmts, err := SplitStatements(m.SQL)
		if err != nil {
			return applied, fmt.Errorf("migrate %s: %w", m.Name, err)
		}
		for i, s := range stmts {
			if _, err := conn.ExecContext(ctx, s); err != nil {
				return applied, fmt.Errorf("migrate %s, statement %d: %w", m.Name, i+1, err)
			}
		}
		if _, err := conn.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
			m.Version, time.Now().UnixMicro()); err != nil {
			return applied, fmt.Errorf("migrate %s: recording it: %w", m.Name, err)
		}
		applied = append(applied, m.Version)
	}
	return applied, nil
}

func migrateSQLite(ctx context.Context, conn *sql.Conn, all []Migration) (applied []int, err error) {
	// An explicit BEGIN IMMEDIATE, whatever the DSN's _txlock: the write
	// lock is taken before schema_migrations is read, so a second process
	// waits (busy_timeout) and then sees the versions recorded.
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		return nil, fmt.Errorf("migrate: begin: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`); rerr != nil {
				err = errors.Join(err, fmt.Errorf("migrate: rollback: %w", rerr))
			}
			applied = nil
		}
	}()
	if _, err := conn.ExecContext(ctx, createMigrationsTable); err != nil {
		return nil, fmt.Errorf("migrate: creating schema_migrations: %w", err)
	}
	done, err := appliedVersions(ctx, conn)
	if err != nil {
		return nil, err
	}
	now := time.Now().UnixMicro()
	for _, m := range all {
		if done[m.Version] {
			continue
		}
		stmts, err := SplitStatements(m.SQL)
		if err != nil {
			return nil, fmt.Errorf("migrate %s: %w", m.Name, err)
		}
		for i, s := range stmts {
			if _, err := conn.ExecContext(ctx, s); err != nil {
				return nil, fmt.Errorf("migrate %s, statement %d: %w", m.Name, i+1, err)
			}
		}
		if _, err := conn.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, m.Version, now); err != nil {
			return nil, fmt.Errorf("migrate %s: recording it: %w", m.Name, err)
		}
		applied = append(applied, m.Version)
	}
	if _, err := conn.ExecContext(ctx, `COMMIT`); err != nil {
		return nil, fmt.Errorf("migrate: commit: %w", err)
	}
	committed = true
	return applied, nil
}

func appliedVersions(ctx context.Context, q Querier) (map[int]bool, error) {
	rows, err := q.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("migrate: reading schema_migrations: %w", err)
	}
	defer rows.Close()
	done := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		done[v] = true
	}
	return done, rows.Err()
}

// PendingMigrations returns the versions Migrate would apply.
func PendingMigrations(ctx context.Context, db *sql.DB, d Dialect) ([]int, error) {
	all, err := Migrations(d)
	if err != nil {
		return nil, err
	}
	exists, err := tableExists(ctx, db, d, "schema_migrations")
	if err != nil {
		return nil, err
	}
	done := map[int]bool{}
	if exists {
		if done, err = appliedVersions(ctx, db); err != nil {
			return nil, err
		}
	}
	var pending []int
	for _, m := range all {
		if !done[m.Version] {
			pending = append(pending, m.Version)
		}
	}
	return pending, nil
}

func tableExists(ctx context.Context, db *sql.DB, d Dialect, table string) (bool, error) {
	q := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?`
	if d.Name == MySQL.Name {
		q = `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?`
	}
	var n int
	if err := db.QueryRowContext(ctx, q, table).Scan(&n); err != nil {
		return false, fmt.Errorf("looking for table %s: %w", table, err)
	}
	return n > 0, nil
}

// SplitStatements splits a migration file into statements at the semicolons
// that are outside quotes and comments. Comments are dropped. (Bodies with
// their own semicolons, such as triggers, are not supported.)
func SplitStatements(src string) ([]string, error) {
	var (
		out []string
		cur strings.Builder
	)
	flush := func() {
		if s := strings.TrimSpace(cur.String()); s != "" {
			out = append(out, s)
		}
		cur.Reset()
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '-' && i+1 < len(src) && src[i+1] == '-':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			cur.WriteByte('\n')
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return nil, errors.New("unterminated /* comment")
			}
			i += end + 3
			cur.WriteByte(' ')
		case c == '\'' || c == '"' || c == '`':
			j := i + 1
			for ; j < len(src); j++ {
				if src[j] == c {
					if j+1 < len(src) && src[j+1] == c { // doubled quote
						j++
						continue
					}
					break
				}
				if src[j] == '\\' && c == '\'' {
					j++
				}
			}
			if j >= len(src) {
				return nil, fmt.Errorf("unterminated %c quote", c)
			}
			cur.WriteString(src[i : j+1])
			i = j
		case c == ';':
			flush()
		default:
			cur.WriteByte(c)
		}
	}
	flush()
	return out, nil
}
