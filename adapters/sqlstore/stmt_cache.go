package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache holds prepared statements by their SQL text, for DB.Conn on
// SQLite: modernc's SQLite parses a statement on every call, and parsing is
// a fifth of a primary-key read (docs/performance.md). A statement is
// prepared once on the pool; database/sql prepares it on each connection
// the first time it runs there and keeps it, and binds it to a transaction
// with Tx.StmtContext. On MySQL nothing is cached: go-sql-driver
// interpolates parameters client-side (one round trip per statement), and
// server-side statements would only add round trips.
type stmtCache struct {
	mu sync.RWMutex
	m  map[string]*sql.Stmt
}

// maxCachedStatements bounds the cache: list queries vary with their
// filters, multi-row statements with their row count.
const maxCachedStatements = 512

// get returns the prepared statement of query, preparing it on first use,
// or nil when the cache is full or preparing failed (the caller then runs
// the plain statement, which reports any error).
func (c *stmtCache) get(ctx context.Context, db *sql.DB, query string) *sql.Stmt {
	c.mu.RLock()
	st, ok := c.m[query]
	n := len(c.m)
	c.mu.RUnlock()
	if ok {
		return st
	}
	if n >= maxCachedStatements {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[query]; ok {
		return st
	}
	if len(c.m) >= maxCachedStatements {
		return nil
	}
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	if c.m == nil {
		c.m = map[string]*sql.Stmt{}
	}
	c.m[query] = st
	return st
}

// cachingQuerier runs statements through the cache, in tx when not nil.
type cachingQuerier struct {
	db *DB
	tx *sql.Tx
}

func (q cachingQuerier) stmt(ctx context.Context, query string) *sql.Stmt {
	st := q.db.stmts.get(ctx, q.db.SQL, query)
	if st != nil && q.tx != nil {
		return q.tx.StmtContext(ctx, st)
	}
	return st
}

func (q cachingQuerier) plain() Querier {
	if q.tx != nil {
		return q.tx
	}
	return q.db.SQL
}

func (q cachingQuerier) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := q.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return q.plain().ExecContext(ctx, query, args...)
}

func (q cachingQuerier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := q.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return q.plain().QueryContext(ctx, query, args...)
}

func (q cachingQuerier) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := q.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return q.plain().QueryRowContext(ctx, query, args...)
}
