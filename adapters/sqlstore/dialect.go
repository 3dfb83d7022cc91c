package sqlstore

import (
	"strings"

	"github.com/taskd/taskd/adapters/outbox"
)

// Dialect holds what differs between SQLite and MySQL.
type Dialect struct {
	Name   string
	Outbox outbox.Dialect
	// ForUpdate is appended to a SELECT that locks the rows it reads. SQLite
	// needs none: its transactions begin IMMEDIATE (one writer at a time).
	ForUpdate string
}

var (
	SQLite = Dialect{Name: "sqlite", Outbox: outbox.SQLite, ForUpdate: ""}
	MySQL  = Dialect{Name: "mysql", Outbox: outbox.MySQL, ForUpdate: " FOR UPDATE"}
)

// IsRetryable tells whether a transaction failed only because it raced
// another: MySQL deadlock (1213) or lock wait timeout (1205), SQLite busy.
func (d Dialect) IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	if d.Name == "mysql" {
		return isMySQLError(err, 1213) || isMySQLError(err, 1205)
	}
	msg := err.Error()
	return strings.Contains(msg, "SQLITE_BUSY") || strings.Contains(msg, "database is locked")
}

// IsDuplicate tells whether err is a unique-key violation.
func (d Dialect) IsDuplicate(err error) bool {
	if err == nil {
		return false
	}
	if d.Name == "mysql" {
		return isMySQLError(err, 1062)
	}
	return strings.Contains(err.Error(), "UNIQUE constraint failed") || strings.Contains(err.Error(), "constraint failed: UNIQUE")
}
