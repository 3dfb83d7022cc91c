// Package mysql opens taskd's cloud database: MySQL (Amazon RDS) or
// MariaDB, through go-sql-driver/mysql.
package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Pool sizing: an API instance keeps up to MaxOpenConns connections; RDS
// limits the sum over every instance (max_connections).
const (
	MaxOpenConns    = 32
	MaxIdleConns    = 16
	ConnMaxLifetime = 5 * time.Minute // under RDS proxies' and load balancers' idle cuts
	ConnMaxIdleTime = time.Minute
)

// Config parses dsn (go-sql-driver's format) and forces what taskd relies on:
//   - ParseTime and Loc=UTC (taskd stores times as integers; the outbox's
//     TIMESTAMP is read in UTC), and time_zone '+00:00' for the session;
//   - no multi-statements (one statement per call: migrations split theirs);
//   - interpolateParams: placeholders are filled in by the driver, one round
//     trip per statement instead of prepare/execute/close; safe with utf8mb4;
//   - charset utf8mb4 with collation utf8mb4_unicode_ci;
//   - strict SQL mode, so an over-long value is an error, never truncated;
//   - dial, read and write timeouts when the DSN sets none (read above the
//     50 s InnoDB lock wait, so a lock wait ends with its own error).
func Config(dsn string) (*mysql.Config, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		// The driver's messages never repeat the DSN (and its password).
		return nil, fmt.Errorf("mysql: invalid DSN: %w", err)
	}
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	cfg.MultiStatements = false
	cfg.InterpolateParams = true
	cfg.Collation = "utf8mb4_unicode_ci"
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	delete(cfg.Params, "charset")
	cfg.Params["time_zone"] = "'+00:00'"
	if _, ok := cfg.Params["sql_mode"]; !ok {
		cfg.Params["sql_mode"] = "'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'"
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.ReadTimeout == 0 {
		cfg.ReadTimeout = 2 * time.Minute
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = 30 * time.Second
	}
	return cfg, nil
}

// pingAttempts bounds how often Open tries to reach the server.
const pingAttempts = 8

// Open opens a pool to the database named in dsn and pings it, retrying a
// bounded number of times with backoff (a database that is starting, or
// failing over) until ctx ends.
func Open(ctx context.Context, dsn string) (*sql.DB, error) {
	cfg, err := Config(dsn)
	if err != nil {
		return nil, err
	}
	if cfg.DBName == "" {
		return nil, errors.New("mysql: the DSN names no database")
	}
	db, err := open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(MaxOpenConns)
	db.SetMaxIdleConns(MaxIdleConns)
	db.SetConnMaxLifetime(ConnMaxLifetime)
	db.SetConnMaxIdleTime(ConnMaxIdleTime)
	return db, nil
}

func open(ctx context.Context, cfg *mysql.Config) (*sql.DB, error) {
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("mysql: %w", err)
	}
	db := sql.OpenDB(connector)
	wait := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err = db.PingContext(ctx)
		if err == nil {
			return db, nil
		}
		if attempt >= pingAttempts || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		wait = min(2*wait, 3*time.Second)
	}
	db.Close()
	return nil, fmt.Errorf("mysql: cannot reach %s: %w", cfg.Addr, err)
}

var databaseName = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)

// WithDatabase returns dsn naming database name.
func WithDatabase(dsn, name string) (string, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return "", fmt.Errorf("mysql: invalid DSN: %w", err)
	}
	cfg.DBName = name
	return cfg.FormatDSN(), nil
}

// CreateDatabase creates database name (utf8mb4) on the server of
// serverDSN if it does not exist. For tests.
func CreateDatabase(ctx context.Context, serverDSN, name string) error {
	return onServer(ctx, serverDSN, name,
		"CREATE DATABASE IF NOT EXISTS `"+name+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
}

// DropDatabase drops database name if it exists. For tests.
func DropDatabase(ctx context.Context, serverDSN, name string) error {
	return onServer(ctx, serverDSN, name, "DROP DATABASE IF EXISTS `"+name+"`")
}

func onServer(ctx context.Context, serverDSN, name, stmt string) error {
	if !databaseName.MatchString(name) {
		return fmt.Errorf("mysql: invalid database name %q", name)
	}
	cfg, err := Config(serverDSN)
	if err != nil {
		return err
	}
	cfg.DBName = ""
	db, err := open(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("mysql: %w", err)
	}
	return nil
}
