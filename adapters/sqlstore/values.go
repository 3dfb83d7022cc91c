package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"strings"
	"time"

	"modernc.org/sqlite"

	"github.com/taskd/taskd/adapters/internal/tasklist"
)

// Times are stored as BIGINT unix microseconds UTC in both databases: the
// drivers disagree on time.Time (modernc writes text, go-sql-driver DATETIME
// in the session zone), while an integer is exact, zone-free, sortable and
// the same everywhere. Values read back are UTC and truncated to the
// microsecond.

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func microsPtr(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

func timePtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

// nullString stores "" as NULL (an unset optional value).
func nullString(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}

// foldFunc is the SQL function SQLite queries call for case-insensitive
// search: SQLite's own lower() and LIKE fold ASCII only, this folds like Go
// (and like the memory adapter); MySQL gets the same from utf8mb4_unicode_ci.
const foldFunc = "taskd_fold"

func init() {
	sqlite.MustRegisterDeterministicScalarFunction(foldFunc, 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		switch v := args[0].(type) {
		case string:
			return tasklist.Fold(v), nil
		case []byte:
			return tasklist.Fold(string(v)), nil
		default:
			return v, nil
		}
	})
}

// foldedLike returns the condition "column contains s, case-insensitively"
// and its argument. column must have a case-insensitive collation on MySQL.
func (d Dialect) foldedLike(column, s string) (string, any) {
	pattern := tasklist.ContainsPattern(tasklist.Fold(s))
	if d.Name == MySQL.Name {
		return column + ` LIKE ? ESCAPE '` + tasklist.LikeEscape + `'`, pattern
	}
	return foldFunc + `(` + column + `) LIKE ? ESCAPE '` + tasklist.LikeEscape + `'`, pattern
}

// tx returns the transaction WithinTransaction put in ctx.
func tx(ctx context.Context) (*sql.Tx, error) {
	t, ok := TxFromContext(ctx)
	if !ok {
		return nil, errors.New("sqlstore: no transaction in context")
	}
	return t, nil
}

// placeholders returns "?, ?, …" for n arguments.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
