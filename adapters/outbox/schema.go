package outbox

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
)

// SchemaAdapter returns the watermill-sql schema of the outbox table. The
// tables themselves are created by the migrations, never by watermill.
func SchemaAdapter(d Dialect) wsql.SchemaAdapter {
	if d == MySQL {
		return mysqlSchema{wsql.DefaultMySQLSchema{
			GenerateMessagesTableName: func(string) string { return "`" + MessagesTable + "`" },
			SubscribeBatchSize:        100,
		}}
	}
	return SQLiteSchema{}
}

// mysqlSchema is watermill-sql's MySQL schema read at READ COMMITTED
// instead of SERIALIZABLE.
//
// watermill reads MySQL at SERIALIZABLE so that a reader never passes a row
// committed late: its next-key locks make inserts above its offset wait. It
// is not enough (an insert takes its AUTO_INCREMENT value before it waits
// for those locks, and a later one may commit and be read first; see
// Writer.Append), and it is costly (every outbox insert waits while a
// reader holds its transaction, e.g. the forwarder publishing a batch to
// SNS). Writers instead serialise on the outbox write lock from their first
// insert to their commit, so rows commit in offset order: when a reader
// sees offset n committed, every offset below n is committed or rolled back
// for good, and a plain READ COMMITTED read is exact. The offset row is
// still read FOR UPDATE, so readers of one consumer group take turns.
type mysqlSchema struct {
	wsql.DefaultMySQLSchema
}

func (mysqlSchema) SubscribeIsolationLevel() sql.IsolationLevel { return sql.LevelReadCommitted }

// OffsetsAdapter returns the watermill-sql offsets adapter of the outbox.
func OffsetsAdapter(d Dialect) wsql.OffsetsAdapter {
	if d == MySQL {
		return wsql.DefaultMySQLOffsetsAdapter{
			GenerateMessagesOffsetsTableName: func(string) string { return "`" + OffsetsTable + "`" },
		}
	}
	return SQLiteOffsets{}
}

// SQLiteSchema is the outbox schema for SQLite. SQLite has one writer at a
// time, so offsets become visible in commit order and a reader never skips a
// row committed late (what MySQL needs the outbox write lock for).
type SQLiteSchema struct{}

const sqliteBatch = 100

func (SQLiteSchema) SchemaInitializingQueries(wsql.SchemaInitializingQueriesParams) ([]wsql.Query, error) {
	return nil, nil // created by migrations
}

func (SQLiteSchema) InsertQuery(p wsql.InsertQueryParams) (wsql.Query, error) {
	q := fmt.Sprintf(`INSERT INTO %s (uuid, payload, metadata) VALUES %s`, MessagesTable,
		strings.TrimRight(strings.Repeat(`(?,?,?),`, len(p.Msgs)), ","))
	args := make([]any, 0, 3*len(p.Msgs))
	for _, m := range p.Msgs {
		meta, err := json.Marshal(m.Metadata)
		if err != nil {
			return wsql.Query{}, fmt.Errorf("marshalling metadata of %s: %w", m.UUID, err)
		}
		args = append(args, m.UUID, string(m.Payload), string(meta))
	}
	return wsql.Query{Query: q, Args: args}, nil
}

func (SQLiteSchema) SelectQuery(p wsql.SelectQueryParams) (wsql.Query, error) {
	next, err := p.OffsetsAdapter.NextOffsetQuery(wsql.NextOffsetQueryParams{Topic: p.Topic, ConsumerGroup: p.ConsumerGroup})
	if err != nil {
		return wsql.Query{}, err
	}
	q := fmt.Sprintf(`SELECT "offset", uuid, payload, metadata FROM %s WHERE "offset" > (%s) ORDER BY "offset" ASC LIMIT %d`,
		MessagesTable, next.Query, sqliteBatch)
	return wsql.Query{Query: q, Args: next.Args}, nil
}

func (SQLiteSchema) UnmarshalMessage(p wsql.UnmarshalMessageParams) (wsql.Row, error) {
	var (
		r                 wsql.Row
		uuid, payload, md string
	)
	if err := p.Row.Scan(&r.Offset, &uuid, &payload, &md); err != nil {
		return wsql.Row{}, fmt.Errorf("scanning outbox row: %w", err)
	}
	r.UUID, r.Payload, r.Metadata = []byte(uuid), []byte(payload), []byte(md)
	msg := message.NewMessage(uuid, r.Payload)
	if md != "" {
		if err := json.Unmarshal(r.Metadata, &msg.Metadata); err != nil {
			return wsql.Row{}, fmt.Errorf("unmarshalling outbox metadata: %w", err)
		}
	}
	r.Msg = msg
	return r, nil
}

func (SQLiteSchema) SubscribeIsolationLevel() sql.IsolationLevel { return sql.LevelDefault }

// SQLiteOffsets keeps consumer-group offsets in outbox_offsets.
type SQLiteOffsets struct{}

func (SQLiteOffsets) SchemaInitializingQueries(wsql.OffsetsSchemaInitializingQueriesParams) ([]wsql.Query, error) {
	return nil, nil // created by migrations
}

func (SQLiteOffsets) AckMessageQuery(p wsql.AckMessageQueryParams) (wsql.Query, error) {
	return wsql.Query{
		Query: `INSERT INTO ` + OffsetsTable + ` (consumer_group, offset_acked, offset_consumed) VALUES (?, ?, ?)
			ON CONFLICT(consumer_group) DO UPDATE SET offset_acked = excluded.offset_acked, offset_consumed = excluded.offset_consumed`,
		Args: []any{p.ConsumerGroup, p.LastRow.Offset, p.LastRow.Offset},
	}, nil
}

func (SQLiteOffsets) ConsumedMessageQuery(wsql.ConsumedMessageQueryParams) (wsql.Query, error) {
	return wsql.Query{}, nil // one writer at a time: no race to detect
}

func (SQLiteOffsets) NextOffsetQuery(p wsql.NextOffsetQueryParams) (wsql.Query, error) {
	return wsql.Query{
		Query: `SELECT COALESCE((SELECT offset_acked FROM ` + OffsetsTable + ` WHERE consumer_group = ?), 0)`,
		Args:  []any{p.ConsumerGroup},
	}, nil
}

func (SQLiteOffsets) BeforeSubscribingQueries(wsql.BeforeSubscribingQueriesParams) ([]wsql.Query, error) {
	return nil, nil
}
