// Package outbox writes domain events to the outbox table in the same
// transaction as the change that caused them, and describes that table to
// watermill-sql for the readers (the embedded consumers and the forwarder
// that relays to SNS).
//
// Layout: every event is published to the destination topic EventsTopic,
// wrapped by watermill's forwarder envelope and stored as one row of the SQL
// topic Topic (table outbox_messages). Readers keep their offsets per
// consumer group in outbox_offsets.
package outbox

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/components/forwarder"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/taskd/taskd/modules/kernel/event"
)

const (
	// Topic is the SQL topic (the outbox table) the forwarder reads.
	Topic = "outbox"
	// EventsTopic is the destination topic of every domain event: one SNS
	// topic in the cloud, read by one queue per consumer group.
	EventsTopic = "events"

	MessagesTable = "outbox_messages"
	OffsetsTable  = "outbox_offsets"

	// Metadata keys set on every event message. "name" is the key watermill's
	// cqrs marshalers route by.
	MetaName        = "name"
	MetaAggregateID = "aggregate_id"
	MetaSequence    = "sequence"
	MetaOccurredAt  = "occurred_at"
)

// Dialect names the SQL dialect of the outbox table.
type Dialect string

const (
	SQLite Dialect = "sqlite"
	MySQL  Dialect = "mysql"
)

// WriteLockTable is MySQL's outbox write lock (migration 0002): one row
// that every transaction appending to the outbox locks first.
const WriteLockTable = "outbox_write_lock"

// Writer appends events to the outbox inside a caller's transaction.
type Writer struct {
	schema  wsql.SchemaAdapter
	dialect Dialect
	// lock: take the MySQL outbox write lock (see Append).
	lock bool
}

// NewWriter returns a writer for the dialect.
func NewWriter(d Dialect) *Writer {
	return &Writer{schema: SchemaAdapter(d), dialect: d, lock: d == MySQL}
}

// NoWriteLock returns a writer that does not take the MySQL outbox write
// lock. Only for the cloud transport, where the one reader of the outbox is
// the forwarder, which finds rows by their relayed mark and does not care in
// which order they commit (relay.go). Readers by offset (the embedded
// transport) need the lock.
func (w *Writer) NoWriteLock() *Writer {
	c := *w
	c.lock = false
	return &c
}

// Append publishes evs through a watermill-sql publisher bound to tx (one
// publisher per transaction, schema never initialised inside it), so the
// rows commit or roll back with the change.
func (w *Writer) Append(ctx context.Context, tx *sql.Tx, evs []event.Event) error {
	if len(evs) == 0 {
		return nil
	}
	if w.lock {
		// Readers by offset (the embedded consumer groups) read the rows
		// above their offset, so a row must never commit after a row with a
		// higher offset has been read. On MySQL it could: an insert takes
		// its AUTO_INCREMENT value first and may then wait while a later
		// insert commits and is read; the reader's offset passes the first
		// one, lost for good (the e2e crash test saw a few per thousand
		// under load before this lock). Taking this row lock before
		// inserting serialises outbox writers from their first insert to
		// their commit, so offsets commit in order. SQLite has one writer at
		// a time already; the cloud's forwarder reads by relayed mark and
		// needs no lock (NoWriteLock).
		var id int
		if err := tx.QueryRowContext(ctx, `SELECT id FROM `+WriteLockTable+` WHERE id = 1 FOR UPDATE`).Scan(&id); err != nil {
			return fmt.Errorf("outbox write lock: %w", err)
		}
	}
	pub, err := wsql.NewPublisher(wsql.TxFromStdSQL(tx), wsql.PublisherConfig{SchemaAdapter: w.schema}, nil)
	if err != nil {
		return fmt.Errorf("outbox publisher: %w", err)
	}
	fwd := forwarder.NewPublisher(pub, forwarder.PublisherConfig{ForwarderTopic: Topic})
	msgs := make([]*message.Message, 0, len(evs))
	for _, e := range evs {
		m, err := Marshal(e)
		if err != nil {
			return err
		}
		m.SetContext(ctx)
		msgs = append(msgs, m)
	}
	// The forwarder publisher wraps and inserts message by message; all of
	// them go into tx.
	if err := fwd.Publish(EventsTopic, msgs...); err != nil {
		return fmt.Errorf("appending %d events to the outbox: %w", len(evs), err)
	}
	return nil
}

// Marshal turns an event into a watermill message whose UUID is the event id.
func Marshal(e event.Event) (*message.Message, error) {
	meta := e.EventMeta()
	if meta.ID == "" || meta.Type == "" {
		return nil, fmt.Errorf("event %T has no id or type", e)
	}
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("marshalling %s: %w", meta.Type, err)
	}
	m := message.NewMessage(meta.ID, b)
	m.Metadata.Set(MetaName, e.Name())
	m.Metadata.Set(MetaAggregateID, meta.AggregateID)
	m.Metadata.Set(MetaSequence, strconv.FormatInt(meta.Sequence, 10))
	m.Metadata.Set(MetaOccurredAt, meta.OccurredAt.Format("2006-01-02T15:04:05.000000Z07:00"))
	return m, nil
}
