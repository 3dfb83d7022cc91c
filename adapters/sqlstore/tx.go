// Package sqlstore implements the modules' repositories and read models on
// database/sql, once for both SQL databases taskd runs on: SQLite (embedded)
// and MySQL / MariaDB (cloud). Dialect differences are confined to Dialect.
//
// A transaction travels in the context: repositories called inside
// WithinTransaction join it, so one use case can span modules' tables (account
// deletion releases the user's tasks) and still commit once, with every
// event in the outbox.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/taskd/taskd/adapters/outbox"
	"github.com/taskd/taskd/modules/kernel/errs"
)

// Querier is what *sql.DB and *sql.Tx share.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// DB is a database handle with its dialect and outbox.
type DB struct {
	SQL     *sql.DB
	Dialect Dialect
	Outbox  *outbox.Writer
	// MaxRetries bounds how often a transaction that lost a deadlock (MySQL
	// 1213) or a lock wait (1205) or hit SQLITE_BUSY is run again.
	MaxRetries int
	// stmts caches prepared statements for Conn on SQLite (stmt_cache.go);
	// nil: no cache.
	stmts *stmtCache
}

// New wraps db.
func New(db *sql.DB, d Dialect) *DB {
	out := &DB{SQL: db, Dialect: d, Outbox: outbox.NewWriter(d.Outbox), MaxRetries: 5}
	if d.Name == SQLite.Name {
		out.stmts = &stmtCache{}
	}
	return out
}

type txKey struct{}

// ContextWithTx returns ctx carrying tx; repositories called with it join tx.
// The event consumers use it to run a handler inside the transaction that
// acknowledges the message.
func ContextWithTx(ctx context.Context, tx *sql.Tx) context.Context {
	return context.WithValue(ctx, txKey{}, tx)
}

// TxFromContext returns the transaction in ctx, if any.
func TxFromContext(ctx context.Context) (*sql.Tx, bool) {
	tx, ok := ctx.Value(txKey{}).(*sql.Tx)
	return tx, ok
}

// Conn returns the transaction in ctx, or the pool (on SQLite, through the
// prepared-statement cache).
func (db *DB) Conn(ctx context.Context) Querier {
	tx, ok := TxFromContext(ctx)
	if db.stmts != nil {
		return cachingQuerier{db: db, tx: tx}
	}
	if ok {
		return tx
	}
	return db.SQL
}

// WithinTransaction runs fn in a transaction. Inside an existing one it just
// calls fn (the outer caller commits). Otherwise it begins, calls fn,
// commits, and returns the commit error; a rollback error is joined to fn's.
// A transaction that lost a deadlock is retried a bounded number of times.
func (db *DB) WithinTransaction(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, ok := TxFromContext(ctx); ok {
		return fn(ctx)
	}
	var err error
	for attempt := 0; ; attempt++ {
		err = db.runTx(ctx, fn)
		if err == nil || !db.Dialect.IsRetryable(err) || attempt >= db.MaxRetries {
			break
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(time.Duration(attempt+1) * 5 * time.Millisecond):
		}
	}
	if db.Dialect.IsRetryable(err) {
		return fmt.Errorf("%w: %v", errs.ErrConcurrentUpdate, err)
	}
	return err
}

func (db *DB) runTx(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	tx, err := db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
	}()
	if err := fn(ContextWithTx(ctx, tx)); err != nil {
		if rbErr := tx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			return errors.Join(err, fmt.Errorf("rollback: %w", rbErr))
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// isMySQLError tells whether err is MySQL error number n.
func isMySQLError(err error, n uint16) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == n
}
