package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Idempotent event consumers (docs/events.md). SQS delivers at least once,
// the embedded transport redelivers after a crash: a handler whose effect is
// in this database wraps it in ProcessOnce, which records (handler, event id)
// in processed_events in the same transaction as the effect. A redelivered
// event then finds its key and changes nothing.

// ProcessOnce runs fn unless handler has already processed eventID, and
// records eventID as processed by handler in the same transaction as fn's
// writes: both commit, or neither does. fn receives a context carrying that
// transaction, so repositories called with it join in. Inside an existing
// transaction (the embedded transport hands handlers the one that
// acknowledges the message) it joins that one.
//
// It returns nil without calling fn for a duplicate, and fn's error (with
// nothing recorded) when fn fails.
func (db *DB) ProcessOnce(ctx context.Context, handler, eventID string, fn func(ctx context.Context) error) error {
	if handler == "" || eventID == "" {
		return errors.New("sqlstore: ProcessOnce needs a handler name and an event id")
	}
	return db.WithinTransaction(ctx, func(ctx context.Context) error {
		t, err := tx(ctx)
		if err != nil {
			return err
		}
		// Insert first: a concurrent duplicate (two SQS copies handled at
		// once) waits on the key and then sees it, instead of both passing
		// a SELECT and both applying the effect.
		_, err = t.ExecContext(ctx, `INSERT INTO processed_events (handler, event_id, processed_at) VALUES (?, ?, ?)`,
			handler, eventID, time.Now().UnixMicro())
		if db.Dialect.IsDuplicate(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("recording event %s as processed by %s: %w", eventID, handler, err)
		}
		return fn(ctx)
	})
}

// Processed tells whether handler has processed eventID.
func (db *DB) Processed(ctx context.Context, handler, eventID string) (bool, error) {
	var one int
	err := db.Conn(ctx).QueryRowContext(ctx, `SELECT 1 FROM processed_events WHERE handler = ? AND event_id = ?`,
		handler, eventID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("looking up processed event: %w", err)
	}
	return true, nil
}

// PurgeProcessedEvents deletes the keys recorded before before (keep them
// well beyond the longest redelivery: SQS retention is at most 14 days).
func (db *DB) PurgeProcessedEvents(ctx context.Context, before time.Time) (int64, error) {
	res, err := db.Conn(ctx).ExecContext(ctx, `DELETE FROM processed_events WHERE processed_at < ?`, before.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("purging processed events: %w", err)
	}
	return res.RowsAffected()
}

// AdvanceSequence is the ordering guard of consumers that keep current
// state: it records seq as the last sequence number handler applied for
// aggregateID and returns true when seq is newer than what was recorded
// (apply the event), false when it is stale or a duplicate (ignore it).
// Call it in the transaction of the effect (ProcessOnce's fn), so the guard
// and the state move together.
func (db *DB) AdvanceSequence(ctx context.Context, handler, aggregateID string, seq int64) (bool, error) {
	now := time.Now().UnixMicro()
	conn := db.Conn(ctx)
	// One statement, race-free on both databases: insert, or raise the
	// stored number only when seq is larger.
	q := `INSERT INTO event_sequences (handler, aggregate_id, last_sequence, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (handler, aggregate_id) DO UPDATE SET last_sequence = excluded.last_sequence, updated_at = excluded.updated_at
		WHERE excluded.last_sequence > event_sequences.last_sequence`
	if db.Dialect.Name == MySQL.Name {
		// MySQL reports 1 affected row for an insert, 2 for an update and 0
		// when the values did not change.
		q = `INSERT INTO event_sequences (handler, aggregate_id, last_sequence, updated_at) VALUES (?, ?, ?, ?)
		ON DUPLICATE KEY UPDATE
			updated_at = IF(VALUES(last_sequence) > last_sequence, VALUES(updated_at), updated_at),
			last_sequence = GREATEST(last_sequence, VALUES(last_sequence))`
	}
	res, err := conn.ExecContext(ctx, q, handler, aggregateID, seq, now)
	if err != nil {
		return false, fmt.Errorf("advancing the sequence of %s for %s: %w", aggregateID, handler, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	return n > 0, nil
}

// LastSequence returns the last sequence number handler applied for
// aggregateID (0 when none).
func (db *DB) LastSequence(ctx context.Context, handler, aggregateID string) (int64, error) {
	var seq int64
	err := db.Conn(ctx).QueryRowContext(ctx, `SELECT last_sequence FROM event_sequences WHERE handler = ? AND aggregate_id = ?`,
		handler, aggregateID).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading the sequence of %s for %s: %w", aggregateID, handler, err)
	}
	return seq, nil
}
