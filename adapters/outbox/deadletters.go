package outbox

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/taskd/taskd/ports/events"
)

// DeadLettersTable keeps failed deliveries (migration 0002_event_delivery).
const DeadLettersTable = "dead_letters"

// Dead-letter statuses.
const (
	// StatusRetrying: embedded mode will deliver it to its group again at
	// next_attempt_at (the SQL twin of a message in flight on SQS).
	StatusRetrying = "retrying"
	// StatusDead: given up; waits for an operator (`taskd dlq replay`).
	StatusDead = "dead"
)

// Sources of dead letters.
const (
	SourceEmbedded = "embedded"
	SourceSQS      = "sqs"
	SourceSNS      = "sns"
)

// MetaDeadLetterID marks a message delivered from the dead-letter table.
// Keys starting with "_" are transport bookkeeping and are never stored
// with a dead letter nor sent on with a replay.
const MetaDeadLetterID = "_dead_letter_id"

// DeadLetters is the dead-letter table: the embedded transport's redelivery
// and dead letters, and, in the cloud, the dead letters collected from the
// SQS DLQs. It implements events.DeadLetterStore, and events.DeadLetterReplayer
// for embedded mode.
type DeadLetters struct {
	DB      *sql.DB
	Dialect Dialect
	// Now is the clock (default time.Now).
	Now func() time.Time
}

var _ events.DeadLetterStore = (*DeadLetters)(nil)
var _ events.DeadLetterReplayer = (*DeadLetters)(nil)

func (s *DeadLetters) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Failure is one failed delivery to record.
type Failure struct {
	Queue       string
	Msg         *message.Message
	Error       string
	Dead        bool
	Attempts    int
	NextAttempt time.Time
	Source      string
}

// Record inserts a failure in q (the transaction acknowledging the message,
// so the record and the acknowledgement commit together). It returns false
// when the queue already has a dead letter for this event (a duplicate
// delivery of an event that already failed): nothing changes then.
func (s *DeadLetters) Record(ctx context.Context, q querier, f Failure) (bool, error) {
	if q == nil {
		q = s.DB
	}
	meta, err := storedMetadata(f.Msg.Metadata)
	if err != nil {
		return false, err
	}
	now := s.now().UnixMicro()
	status := StatusRetrying
	var deadAt sql.NullInt64
	if f.Dead {
		status, deadAt = StatusDead, sql.NullInt64{Int64: now, Valid: true}
	}
	if f.NextAttempt.IsZero() {
		f.NextAttempt = s.now()
	}
	ins := `INSERT INTO ` + DeadLettersTable + ` (handler, event_id, event_name, payload, metadata, status, attempts,
		next_attempt_at, last_error, source, created_at, updated_at, dead_at, alerted_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL) `
	if s.Dialect == MySQL {
		ins += `ON DUPLICATE KEY UPDATE id = id`
	} else {
		ins += `ON CONFLICT (handler, event_id) DO NOTHING`
	}
	res, err := q.ExecContext(ctx, ins, f.Queue, f.Msg.UUID, truncate(f.Msg.Metadata.Get(MetaName), 100),
		string(f.Msg.Payload), meta, status, f.Attempts, f.NextAttempt.UnixMicro(), truncate(f.Error, 8000),
		f.Source, now, now, deadAt)
	if err != nil {
		return false, fmt.Errorf("recording the failed delivery of %s to %s: %w", f.Msg.UUID, f.Queue, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// fail records one more failed attempt of dead letter id (in q).
func (s *DeadLetters) fail(ctx context.Context, q querier, id int64, errText string, dead bool, next time.Time) error {
	now := s.now().UnixMicro()
	status := StatusRetrying
	var deadAt sql.NullInt64
	if dead {
		status, deadAt = StatusDead, sql.NullInt64{Int64: now, Valid: true}
	}
	_, err := q.ExecContext(ctx, `UPDATE `+DeadLettersTable+` SET attempts = attempts + 1, status = ?, next_attempt_at = ?,
		last_error = ?, updated_at = ?, dead_at = ? WHERE id = ?`,
		status, next.UnixMicro(), truncate(errText, 8000), now, deadAt, id)
	if err != nil {
		return fmt.Errorf("recording a failed redelivery of dead letter %d: %w", id, err)
	}
	return nil
}

// remove deletes dead letter id (in q).
func (s *DeadLetters) remove(ctx context.Context, q querier, id int64) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM `+DeadLettersTable+` WHERE id = ?`, id); err != nil {
		return fmt.Errorf("removing dead letter %d: %w", id, err)
	}
	return nil
}

// Delete removes the dead letter with the given ID (after the cloud's
// replay sent it back to its queue).
func (s *DeadLetters) Delete(ctx context.Context, id string) error {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return fmt.Errorf("dead letter id %q: %w", id, err)
	}
	return s.remove(ctx, s.DB, n)
}

// Replay is embedded mode's replay: the dead letter goes back into its
// group's redelivery, due now, with fresh attempts (and a fresh alert
// should it die again).
func (s *DeadLetters) Replay(ctx context.Context, dl events.DeadLetter) error {
	id, err := strconv.ParseInt(dl.ID, 10, 64)
	if err != nil {
		return fmt.Errorf("dead letter id %q: %w", dl.ID, err)
	}
	now := s.now().UnixMicro()
	res, err := s.DB.ExecContext(ctx, `UPDATE `+DeadLettersTable+` SET status = ?, attempts = 0, next_attempt_at = ?,
		updated_at = ?, dead_at = NULL, alerted_at = NULL WHERE id = ? AND status = ?`,
		StatusRetrying, now, now, id, StatusDead)
	if err != nil {
		return fmt.Errorf("requeueing dead letter %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("dead letter %d is gone or no longer dead", id)
	}
	return nil
}

const dlColumns = `id, handler, event_id, event_name, payload, metadata, attempts, last_error, source, created_at, dead_at, alerted_at`

func (s *DeadLetters) where(f events.DeadLetterFilter) (string, []any, error) {
	conds := []string{"status = ?"}
	args := []any{StatusDead}
	if f.Queue != "" {
		conds, args = append(conds, "handler = ?"), append(args, f.Queue)
	}
	if f.ID != "" {
		id, err := strconv.ParseInt(f.ID, 10, 64)
		if err != nil {
			return "", nil, fmt.Errorf("dead letter id %q is not a number", f.ID)
		}
		conds, args = append(conds, "id = ?"), append(args, id)
	}
	if f.AfterID != "" {
		id, err := strconv.ParseInt(f.AfterID, 10, 64)
		if err != nil {
			return "", nil, fmt.Errorf("dead letter id %q is not a number", f.AfterID)
		}
		conds, args = append(conds, "id > ?"), append(args, id)
	}
	return " WHERE " + strings.Join(conds, " AND "), args, nil
}

// List returns dead letters (status dead) in ID order.
func (s *DeadLetters) List(ctx context.Context, f events.DeadLetterFilter) ([]events.DeadLetter, error) {
	where, args, err := s.where(f)
	if err != nil {
		return nil, err
	}
	q := `SELECT ` + dlColumns + ` FROM ` + DeadLettersTable + where + ` ORDER BY id`
	if f.Limit > 0 {
		q += ` LIMIT ` + strconv.Itoa(f.Limit)
	}
	return s.query(ctx, s.DB, q, args...)
}

// Count returns how many dead letters f selects.
func (s *DeadLetters) Count(ctx context.Context, f events.DeadLetterFilter) (int, error) {
	where, args, err := s.where(f)
	if err != nil {
		return 0, err
	}
	var n int
	if err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+DeadLettersTable+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting dead letters: %w", err)
	}
	return n, nil
}

// Depth returns the number of dead letters per queue.
func (s *DeadLetters) Depth(ctx context.Context) (map[string]int, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT handler, COUNT(*) FROM `+DeadLettersTable+` WHERE status = ? GROUP BY handler`, StatusDead)
	if err != nil {
		return nil, fmt.Errorf("counting dead letters: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var (
			q string
			n int
		)
		if err := rows.Scan(&q, &n); err != nil {
			return nil, err
		}
		out[q] = n
	}
	return out, rows.Err()
}

// ClaimUnalerted marks up to limit dead letters not yet alerted as alerted
// and returns them. Concurrent watchers (several instances) each get
// different ones: the rows are locked (MySQL: FOR UPDATE SKIP LOCKED;
// SQLite: the transaction holds the write lock).
func (s *DeadLetters) ClaimUnalerted(ctx context.Context, limit int) (out []events.DeadLetter, err error) {
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		q := `SELECT ` + dlColumns + ` FROM ` + DeadLettersTable + ` WHERE status = ? AND alerted_at IS NULL ORDER BY id LIMIT ` + strconv.Itoa(limit)
		if s.Dialect == MySQL {
			q += ` FOR UPDATE SKIP LOCKED`
		}
		dls, err := s.query(ctx, tx, q, StatusDead)
		if err != nil {
			return err
		}
		now := s.now()
		for _, dl := range dls {
			id, _ := strconv.ParseInt(dl.ID, 10, 64)
			if _, err := tx.ExecContext(ctx, `UPDATE `+DeadLettersTable+` SET alerted_at = ? WHERE id = ?`, now.UnixMicro(), id); err != nil {
				return fmt.Errorf("claiming dead letter %s: %w", dl.ID, err)
			}
			dl.AlertedAt = now.UTC()
			out = append(out, dl)
		}
		return nil
	})
	return out, err
}

// ReleaseAlert clears the alert claim of dead letter id.
func (s *DeadLetters) ReleaseAlert(ctx context.Context, id string) error {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return fmt.Errorf("dead letter id %q: %w", id, err)
	}
	if _, err := s.DB.ExecContext(ctx, `UPDATE `+DeadLettersTable+` SET alerted_at = NULL WHERE id = ?`, n); err != nil {
		return fmt.Errorf("releasing the alert of dead letter %s: %w", id, err)
	}
	return nil
}

func (s *DeadLetters) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.DB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func (s *DeadLetters) query(ctx context.Context, q querier, query string, args ...any) ([]events.DeadLetter, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("reading dead letters: %w", err)
	}
	defer rows.Close()
	var out []events.DeadLetter
	for rows.Next() {
		var (
			dl                events.DeadLetter
			id, created       int64
			payload, meta     string
			deadAt, alertedAt sql.NullInt64
		)
		if err := rows.Scan(&id, &dl.Queue, &dl.EventID, &dl.EventName, &payload, &meta, &dl.Attempts,
			&dl.LastError, &dl.Source, &created, &deadAt, &alertedAt); err != nil {
			return nil, fmt.Errorf("reading dead letters: %w", err)
		}
		dl.ID = strconv.FormatInt(id, 10)
		dl.Payload = []byte(payload)
		if err := json.Unmarshal([]byte(meta), &dl.Metadata); err != nil {
			return nil, fmt.Errorf("dead letter %d: metadata: %w", id, err)
		}
		dl.FailedAt = time.UnixMicro(created).UTC()
		if deadAt.Valid {
			dl.DeadAt = time.UnixMicro(deadAt.Int64).UTC()
		}
		if alertedAt.Valid {
			dl.AlertedAt = time.UnixMicro(alertedAt.Int64).UTC()
		}
		out = append(out, dl)
	}
	return out, rows.Err()
}

// due is one dead letter waiting for redelivery.
type due struct {
	id       int64
	attempts int
	msg      *message.Message
}

// hasDue tells, without locking, whether group has a redelivery due.
func (s *DeadLetters) hasDue(ctx context.Context, group string) (bool, error) {
	var one int
	err := s.DB.QueryRowContext(ctx, `SELECT 1 FROM `+DeadLettersTable+` WHERE status = ? AND handler = ? AND next_attempt_at <= ? LIMIT 1`,
		StatusRetrying, group, s.now().UnixMicro()).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// takeDue locks and returns the next redelivery due for group, or nil.
func (s *DeadLetters) takeDue(ctx context.Context, tx *sql.Tx, group string) (*due, error) {
	q := `SELECT id, event_id, payload, metadata, attempts FROM ` + DeadLettersTable + `
		WHERE status = ? AND handler = ? AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT 1`
	if s.Dialect == MySQL {
		q += ` FOR UPDATE SKIP LOCKED`
	}
	var (
		d                due
		eventID, payload string
		meta             string
	)
	err := tx.QueryRowContext(ctx, q, StatusRetrying, group, s.now().UnixMicro()).Scan(&d.id, &eventID, &payload, &meta, &d.attempts)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading redeliveries of %s: %w", group, err)
	}
	d.msg = message.NewMessage(eventID, []byte(payload))
	if err := json.Unmarshal([]byte(meta), &d.msg.Metadata); err != nil {
		return nil, fmt.Errorf("dead letter %d: metadata: %w", d.id, err)
	}
	if d.msg.Metadata == nil {
		d.msg.Metadata = message.Metadata{}
	}
	d.msg.Metadata.Set(MetaDeadLetterID, strconv.FormatInt(d.id, 10))
	return &d, nil
}

// postpone pushes a redelivery whose attempt could not be settled back by
// wait and counts the attempt, so a failing row does not spin.
func (s *DeadLetters) postpone(ctx context.Context, id int64, wait time.Duration, errText string) error {
	now := s.now()
	_, err := s.DB.ExecContext(ctx, `UPDATE `+DeadLettersTable+` SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?, updated_at = ?
		WHERE id = ? AND status = ?`, now.Add(wait).UnixMicro(), truncate(errText, 8000), now.UnixMicro(), id, StatusRetrying)
	return err
}

// storedMetadata is the metadata kept with a dead letter: without the
// transports' bookkeeping keys.
func storedMetadata(m message.Metadata) (string, error) {
	keep := map[string]string{}
	for k, v := range m {
		if !strings.HasPrefix(k, "_") {
			keep[k] = v
		}
	}
	b, err := json.Marshal(keep)
	if err != nil {
		return "", fmt.Errorf("marshalling metadata: %w", err)
	}
	return string(b), nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary.
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
