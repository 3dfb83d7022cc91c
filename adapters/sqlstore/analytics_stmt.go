package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// statements caches prepared statements by their SQL text, on SQLite only:
// modernc's SQLite spends a good part of a small statement in parsing it,
// and the projection runs the same few statements for every event.
// (go-sql-driver interpolates parameters client-side, so MySQL gains
// nothing and would only hold server-side statements.)
type statements struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// maxStatements bounds the cache (multi-row statements vary in length).
const maxStatements = 512

// stmt returns the prepared statement of query, or nil when it is not cached.
func (s *AnalyticsStore) stmt(ctx context.Context, query string) *sql.Stmt {
	if s.db.Dialect.Name != SQLite.Name {
		return nil
	}
	s.stmts.mu.Lock()
	defer s.stmts.mu.Unlock()
	if st, ok := s.stmts.m[query]; ok {
		return st
	}
	if len(s.stmts.m) >= maxStatements {
		return nil
	}
	st, err := s.db.SQL.PrepareContext(ctx, query)
	if err != nil {
		return nil // the plain call reports the error
	}
	if s.stmts.m == nil {
		s.stmts.m = map[string]*sql.Stmt{}
	}
	s.stmts.m[query] = st
	return st
}

// bind returns the statement for the transaction in ctx, if any.
func (s *AnalyticsStore) bind(ctx context.Context, st *sql.Stmt) *sql.Stmt {
	if t, ok := TxFromContext(ctx); ok {
		return t.StmtContext(ctx, st)
	}
	return st
}

func (s *AnalyticsStore) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := s.stmt(ctx, query); st != nil {
		return s.bind(ctx, st).ExecContext(ctx, args...)
	}
	return s.db.Conn(ctx).ExecContext(ctx, query, args...)
}

func (s *AnalyticsStore) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := s.stmt(ctx, query); st != nil {
		return s.bind(ctx, st).QueryContext(ctx, args...)
	}
	return s.db.Conn(ctx).QueryContext(ctx, query, args...)
}

func (s *AnalyticsStore) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st := s.stmt(ctx, query); st != nil {
		return s.bind(ctx, st).QueryRowContext(ctx, args...)
	}
	return s.db.Conn(ctx).QueryRowContext(ctx, query, args...)
}
