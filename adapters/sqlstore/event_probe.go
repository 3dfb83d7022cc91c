package sqlstore

import (
	"context"
	"fmt"
	"time"
)

// ProbeGroup is the handler group name of the diagnostic event probe.
const ProbeGroup = "probe"

// Probe is one event the diagnostic probe handled.
type Probe struct {
	EventID     string
	EventName   string
	AggregateID string
	Sequence    int64
	OccurredAt  time.Time
	HandledAt   time.Time
}

// RecordProbe records p once per event (ProcessOnce under ProbeGroup), in
// the transaction of ctx when there is one.
func (db *DB) RecordProbe(ctx context.Context, p Probe) error {
	return db.ProcessOnce(ctx, ProbeGroup, p.EventID, func(ctx context.Context) error {
		_, err := db.Conn(ctx).ExecContext(ctx, `INSERT INTO event_probe (event_id, event_name, aggregate_id, sequence, occurred_at, handled_at)
			VALUES (?, ?, ?, ?, ?, ?)`, p.EventID, p.EventName, p.AggregateID, p.Sequence, micros(p.OccurredAt), micros(p.HandledAt))
		if err != nil {
			return fmt.Errorf("recording probe of %s: %w", p.EventID, err)
		}
		return nil
	})
}

// ProbeStats summarises the probe's table.
type ProbeStats struct {
	// Events is the number of distinct events handled; Effects the rows
	// (more than Events would mean an event took effect twice).
	Events, Effects int
}

// ProbeStats counts the probe's records.
func (db *DB) ProbeStats(ctx context.Context) (ProbeStats, error) {
	var s ProbeStats
	err := db.Conn(ctx).QueryRowContext(ctx, `SELECT COUNT(DISTINCT event_id), COUNT(*) FROM event_probe`).Scan(&s.Events, &s.Effects)
	if err != nil {
		return s, fmt.Errorf("counting probes: %w", err)
	}
	return s, nil
}

// ProbeLatencies returns handled_at − occurred_at of every probe recorded
// for events that occurred at or after since.
func (db *DB) ProbeLatencies(ctx context.Context, since time.Time) ([]time.Duration, error) {
	rows, err := db.Conn(ctx).QueryContext(ctx, `SELECT handled_at - occurred_at FROM event_probe WHERE occurred_at >= ?`, micros(since))
	if err != nil {
		return nil, fmt.Errorf("reading probes: %w", err)
	}
	defer rows.Close()
	var out []time.Duration
	for rows.Next() {
		var us int64
		if err := rows.Scan(&us); err != nil {
			return nil, err
		}
		out = append(out, time.Duration(us)*time.Microsecond)
	}
	return out, rows.Err()
}
