// Package contracttest is the one contract suite of the storage ports: every
// adapter — memory, SQLite, MySQL — runs the same tests, so the columns of
// the architecture behave the same. Each suite takes a function that
// returns an Env; adapters may share one database between calls, so the
// tests use unique ids and run their subtests in parallel.
package contracttest

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	userquery "github.com/taskd/taskd/modules/identity/app/query"
	"github.com/taskd/taskd/modules/identity/domain/user"
	taskquery "github.com/taskd/taskd/modules/tasks/app/query"
	"github.com/taskd/taskd/modules/tasks/domain/task"
)

// TaskQueries is the tasks module's read side.
type TaskQueries interface {
	taskquery.TaskReadModel
	taskquery.TasksReadModel
}

// IdempotencyKeyStore is the port the HTTP layer declares for Idempotency-Key.
type IdempotencyKeyStore interface {
	Lookup(ctx context.Context, userID, key string, notBefore time.Time) (requestHash string, status int, body []byte, found bool, err error)
	Save(ctx context.Context, userID, key, requestHash string, status int, body []byte, at time.Time) error
	Purge(ctx context.Context, before time.Time) (int64, error)
}

// Transactor runs fn in one transaction that the repositories join.
type Transactor interface {
	WithinTransaction(ctx context.Context, fn func(ctx context.Context) error) error
}

// OutboxEvent is an event as the outbox holds it.
type OutboxEvent struct {
	EventID     string
	Name        string
	AggregateID string
	Sequence    int64
	Payload     []byte
}

// Env is one adapter's implementation of every storage port, over one store.
type Env struct {
	Tasks       task.Repository
	TaskQueries TaskQueries
	Users       user.Repository
	UserQueries userquery.UsersReadModel
	Tokens      user.RefreshTokenStore
	Idempotency IdempotencyKeyStore
	Tx          Transactor
	// Outbox returns the events of one aggregate, in outbox order.
	Outbox func(ctx context.Context, aggregateID string) ([]OutboxEvent, error)
}

// NewEventID makes event ids as production does (UUIDv7).
func NewEventID() string { return uuid.Must(uuid.NewV7()).String() }

func newID() string { return uuid.NewString() }

// base is the suites' clock origin; times are whole microseconds, as stored.
var base = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return base.Add(d) }

func ctxOf(t testing.TB) context.Context { return t.Context() }
