package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/taskd/taskd/adapters/outbox"
)

// OutboxEvent is one event as stored in the outbox, unwrapped from
// watermill's forwarder envelope.
type OutboxEvent struct {
	Offset      int64
	EventID     string
	Name        string
	AggregateID string
	Sequence    int64
	// Payload is the event's JSON, as consumers receive it.
	Payload json.RawMessage
}

// OutboxReader lists the outbox, for tests and operations.
type OutboxReader struct {
	db *DB
}

func NewOutboxReader(db *DB) *OutboxReader { return &OutboxReader{db: db} }

// envelope is watermill's forwarder envelope (components/forwarder).
type envelope struct {
	DestinationTopic string            `json:"destination_topic"`
	UUID             string            `json:"uuid"`
	Payload          []byte            `json:"payload"`
	Metadata         map[string]string `json:"metadata"`
}

func (r *OutboxReader) offsetColumn() string {
	if r.db.Dialect.Name == MySQL.Name {
		return "`offset`"
	}
	return `"offset"`
}

// List returns up to limit events after offset after, in outbox order.
func (r *OutboxReader) List(ctx context.Context, after int64, limit int) ([]OutboxEvent, error) {
	if limit <= 0 {
		limit = 100
	}
	o := r.offsetColumn()
	return r.query(ctx, `SELECT `+o+`, payload FROM `+outbox.MessagesTable+` WHERE `+o+` > ? ORDER BY `+o+` LIMIT `+strconv.Itoa(limit), after)
}

// ForAggregate returns every event of one aggregate, in outbox order. It
// reads the envelopes' JSON in the database (a scan: for tests and ops).
func (r *OutboxReader) ForAggregate(ctx context.Context, aggregateID string) ([]OutboxEvent, error) {
	o := r.offsetColumn()
	extract := `json_extract(payload, '$.metadata.` + outbox.MetaAggregateID + `')`
	if r.db.Dialect.Name == MySQL.Name {
		extract = `JSON_UNQUOTE(JSON_EXTRACT(payload, '$.metadata.` + outbox.MetaAggregateID + `'))`
	}
	return r.query(ctx, `SELECT `+o+`, payload FROM `+outbox.MessagesTable+` WHERE `+extract+` = ? ORDER BY `+o, aggregateID)
}

// Count returns the number of rows in the outbox.
func (r *OutboxReader) Count(ctx context.Context) (int64, error) {
	var n int64
	if err := r.db.Conn(ctx).QueryRowContext(ctx, `SELECT COUNT(*) FROM `+outbox.MessagesTable).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting the outbox: %w", err)
	}
	return n, nil
}

func (r *OutboxReader) query(ctx context.Context, q string, args ...any) ([]OutboxEvent, error) {
	rows, err := r.db.Conn(ctx).QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("reading the outbox: %w", err)
	}
	defer rows.Close()
	var out []OutboxEvent
	for rows.Next() {
		var (
			offset  int64
			payload []byte
		)
		if err := rows.Scan(&offset, &payload); err != nil {
			return nil, fmt.Errorf("reading the outbox: %w", err)
		}
		e, err := unwrap(offset, payload)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func unwrap(offset int64, payload []byte) (OutboxEvent, error) {
	var env envelope
	if err := json.Unmarshal(payload, &env); err != nil {
		return OutboxEvent{}, fmt.Errorf("outbox row %d: not a forwarder envelope: %w", offset, err)
	}
	seq, _ := strconv.ParseInt(env.Metadata[outbox.MetaSequence], 10, 64)
	return OutboxEvent{
		Offset: offset, EventID: env.UUID, Name: env.Metadata[outbox.MetaName],
		AggregateID: env.Metadata[outbox.MetaAggregateID], Sequence: seq, Payload: env.Payload,
	}, nil
}
