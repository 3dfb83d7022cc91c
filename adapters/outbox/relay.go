package outbox

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
)

// The cloud forwarder's view of the outbox (docs/events.md, "No row is ever
// skipped").
//
// On SQLite it reads by offset, like the embedded consumer groups: rows
// commit in offset order there.
//
// On MySQL it does not keep an offset: it reads the rows not yet marked
// relayed, FOR UPDATE SKIP LOCKED at READ COMMITTED, and marks what it
// published. A row whose writer has not committed yet is locked by that
// writer, so it is skipped now and found on a later read: nothing depends on
// the order in which writers commit, and the writers need no lock (see
// Writer.NoWriteLock). Several forwarders may run; each takes other rows.

// RelaySchemaAdapter is the forwarder's watermill-sql schema for d.
func RelaySchemaAdapter(d Dialect) wsql.SchemaAdapter {
	if d == MySQL {
		return mysqlRelaySchema{SchemaAdapter(MySQL).(mysqlSchema)}
	}
	return SchemaAdapter(d)
}

// RelayOffsetsAdapter is the forwarder's watermill-sql offsets adapter for d.
func RelayOffsetsAdapter(d Dialect) wsql.OffsetsAdapter {
	if d == MySQL {
		return mysqlRelayMarks{}
	}
	return OffsetsAdapter(d)
}

const relayBatch = 100

type mysqlRelaySchema struct {
	mysqlSchema
}

func (mysqlRelaySchema) SelectQuery(wsql.SelectQueryParams) (wsql.Query, error) {
	return wsql.Query{Query: "SELECT `offset`, `uuid`, `payload`, `metadata` FROM `" + MessagesTable +
		"` WHERE relayed = 0 ORDER BY `offset` LIMIT " + strconv.Itoa(relayBatch) + " FOR UPDATE SKIP LOCKED"}, nil
}

// mysqlRelayMarks acknowledges by marking rows relayed.
type mysqlRelayMarks struct{}

func (mysqlRelayMarks) SchemaInitializingQueries(wsql.OffsetsSchemaInitializingQueriesParams) ([]wsql.Query, error) {
	return nil, nil
}

// AckMessageQuery marks the rows published: those of the batch up to the
// last one acknowledged (watermill passes the whole batch, including rows
// after a failed publish, which must stay unrelayed).
func (mysqlRelayMarks) AckMessageQuery(p wsql.AckMessageQueryParams) (wsql.Query, error) {
	var args []any
	for _, r := range p.Rows {
		if r.Offset <= p.LastRow.Offset {
			args = append(args, r.Offset)
		}
	}
	if len(args) == 0 {
		args = append(args, p.LastRow.Offset)
	}
	return wsql.Query{
		Query: "UPDATE `" + MessagesTable + "` SET relayed = 1 WHERE `offset` IN (" +
			strings.TrimSuffix(strings.Repeat("?,", len(args)), ",") + ")",
		Args: args,
	}, nil
}

func (mysqlRelayMarks) ConsumedMessageQuery(wsql.ConsumedMessageQueryParams) (wsql.Query, error) {
	return wsql.Query{}, nil
}

func (mysqlRelayMarks) NextOffsetQuery(wsql.NextOffsetQueryParams) (wsql.Query, error) {
	return wsql.Query{}, nil
}

func (mysqlRelayMarks) BeforeSubscribingQueries(wsql.BeforeSubscribingQueriesParams) ([]wsql.Query, error) {
	return nil, nil
}

// RelayBacklog is the forwarder's backlog: events not relayed yet and the
// age of the oldest. group is its consumer group (the SQLite offset).
func RelayBacklog(ctx context.Context, db *sql.DB, d Dialect, group string, now time.Time) (int, time.Duration, error) {
	if d != MySQL {
		return Backlog(ctx, db, d, []string{group}, now)
	}
	var (
		n      int
		oldest sql.NullTime
	)
	err := db.QueryRowContext(ctx, "SELECT COUNT(*), MIN(created_at) FROM `"+MessagesTable+"` WHERE relayed = 0").Scan(&n, &oldest)
	if err != nil {
		return 0, 0, fmt.Errorf("counting the outbox backlog: %w", err)
	}
	if n == 0 || !oldest.Valid {
		return n, 0, nil
	}
	return n, max(now.Sub(oldest.Time), 0), nil
}
