package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/taskd/taskd/modules/notifications"
	"github.com/taskd/taskd/modules/notifications/app/command"
	"github.com/taskd/taskd/modules/notifications/app/query"
	n "github.com/taskd/taskd/modules/notifications/domain/notification"
)

// NotificationStore keeps the notifications module's inbox, delivery
// records, preferences, reminder schedule and leases (migration 0020).
// Writes join the transaction in the context: the event consumer writes
// inbox entries and delivery records in the transaction that records the
// event as processed (embedded: the one acknowledging it).
type NotificationStore struct {
	db *DB
}

var _ notifications.Store = (*NotificationStore)(nil)

func NewNotificationStore(db *DB) *NotificationStore { return &NotificationStore{db: db} }

func (s *NotificationStore) WithinTransaction(ctx context.Context, fn func(ctx context.Context) error) error {
	return s.db.WithinTransaction(ctx, fn)
}

func (s *NotificationStore) ProcessOnce(ctx context.Context, handler, eventID string, fn func(ctx context.Context) error) error {
	return s.db.ProcessOnce(ctx, handler, eventID, fn)
}

func (s *NotificationStore) AdvanceSequence(ctx context.Context, handler, aggregateID string, seq int64) (bool, error) {
	return s.db.AdvanceSequence(ctx, handler, aggregateID, seq)
}

// insertIgnoring returns an INSERT of cols into table that leaves rows
// whose unique key exists alone (and fails on any other error, unlike
// MySQL's INSERT IGNORE).
func (s *NotificationStore) insertIgnoring(table string, cols []string, rows int) string {
	row := "(" + placeholders(len(cols)) + ")"
	q := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES " +
		strings.TrimSuffix(strings.Repeat(row+", ", rows), ", ")
	if s.db.Dialect.Name == MySQL.Name {
		return q + " ON DUPLICATE KEY UPDATE id = id"
	}
	return q + " ON CONFLICT DO NOTHING"
}

// skipLocked makes concurrent claimers on MySQL take different rows
// instead of waiting for each other (SQLite has one writer at a time).
func (s *NotificationStore) skipLocked() string {
	if s.db.Dialect.Name == MySQL.Name {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}

// ---- inbox

var inboxColumns = []string{"id", "recipient_id", "source_id", "kind", "task_id", "task_name", "actor_id", "actor_name",
	"title", "body", "link", "created_at", "read_at"}

// AddToInbox implements command.InboxRepository.
func (s *NotificationStore) AddToInbox(ctx context.Context, ns []n.Notification) error {
	const chunk = 50
	for len(ns) > 0 {
		part := ns[:min(chunk, len(ns))]
		ns = ns[len(part):]
		args := make([]any, 0, len(part)*len(inboxColumns))
		for _, x := range part {
			args = append(args, x.ID, x.RecipientID, x.SourceID, x.Kind.String(), x.TaskID, x.TaskName, x.ActorID, x.ActorName,
				x.Title, x.Body, x.Link, micros(x.CreatedAt), microsPtr(x.ReadAt))
		}
		if _, err := s.db.Conn(ctx).ExecContext(ctx, s.insertIgnoring("notification_inbox", inboxColumns, len(part)), args...); err != nil {
			return fmt.Errorf("adding to the inbox: %w", err)
		}
	}
	return nil
}

// MarkRead implements command.InboxRepository.
func (s *NotificationStore) MarkRead(ctx context.Context, userID, id string, at time.Time) error {
	res, err := s.db.Conn(ctx).ExecContext(ctx, `UPDATE notification_inbox SET read_at = ? WHERE id = ? AND recipient_id = ? AND read_at IS NULL`,
		micros(at), id, userID)
	if err != nil {
		return fmt.Errorf("marking a notification read: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err
	}
	var one int
	err = s.db.Conn(ctx).QueryRowContext(ctx, `SELECT 1 FROM notification_inbox WHERE id = ? AND recipient_id = ?`, id, userID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return command.ErrNotificationNotFound
	}
	return err
}

// MarkAllRead implements command.InboxRepository.
func (s *NotificationStore) MarkAllRead(ctx context.Context, userID string, at time.Time) (int, error) {
	res, err := s.db.Conn(ctx).ExecContext(ctx, `UPDATE notification_inbox SET read_at = ? WHERE recipient_id = ? AND read_at IS NULL`,
		micros(at), userID)
	if err != nil {
		return 0, fmt.Errorf("marking notifications read: %w", err)
	}
	k, err := res.RowsAffected()
	return int(k), err
}

// Inbox implements query.InboxReadModel.
func (s *NotificationStore) Inbox(ctx context.Context, userID string, unreadOnly bool, after *query.Cursor, limit int) ([]n.Notification, error) {
	where, args := []string{"recipient_id = ?"}, []any{userID}
	if unreadOnly {
		where = append(where, "read_at IS NULL")
	}
	if after != nil {
		cond, cargs := keysetCondition([]string{"created_at", "id"}, []any{micros(after.At), after.ID}, true)
		where, args = append(where, cond), append(args, cargs...)
	}
	rows, err := s.db.Conn(ctx).QueryContext(ctx, `SELECT `+strings.Join(inboxColumns, ", ")+` FROM notification_inbox WHERE `+
		strings.Join(where, " AND ")+` ORDER BY created_at DESC, id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("listing the inbox: %w", err)
	}
	defer rows.Close()
	var out []n.Notification
	for rows.Next() {
		var (
			x       n.Notification
			kind    string
			created int64
			read    sql.NullInt64
		)
		if err := rows.Scan(&x.ID, &x.RecipientID, &x.SourceID, &kind, &x.TaskID, &x.TaskName, &x.ActorID, &x.ActorName,
			&x.Title, &x.Body, &x.Link, &created, &read); err != nil {
			return nil, err
		}
		x.Kind, _ = n.KindFromString(kind)
		x.CreatedAt, x.ReadAt = fromMicros(created), timePtr(read)
		out = append(out, x)
	}
	return out, rows.Err()
}

// UnreadCount implements query.InboxReadModel.
func (s *NotificationStore) UnreadCount(ctx context.Context, userID string) (int, error) {
	var k int
	err := s.db.Conn(ctx).QueryRowContext(ctx, `SELECT COUNT(*) FROM notification_inbox WHERE recipient_id = ? AND read_at IS NULL`, userID).Scan(&k)
	if err != nil {
		return 0, fmt.Errorf("counting unread notifications: %w", err)
	}
	return k, nil
}

// ---- deliveries

var deliveryColumns = []string{"id", "source_id", "event_name", "channel", "recipient_id", "kind", "task_id", "subject", "body",
	"status", "attempts", "next_attempt_at", "claim_expires_at", "address", "provider_id", "last_error", "created_at", "updated_at",
	"sent_at", "alerted_at"}

// AddDeliveries implements command.DeliveryRepository.
func (s *NotificationStore) AddDeliveries(ctx context.Context, ds []n.Delivery) error {
	const chunk = 40
	for len(ds) > 0 {
		part := ds[:min(chunk, len(ds))]
		ds = ds[len(part):]
		args := make([]any, 0, len(part)*len(deliveryColumns))
		for _, d := range part {
			status := d.Status
			if status.IsZero() {
				status = n.StatusPending
			}
			args = append(args, d.ID, d.SourceID, d.EventName, d.Channel.String(), d.RecipientID, d.Kind.String(), d.TaskID,
				d.Subject, d.Body, status.String(), d.Attempts, micros(d.NextAttemptAt), nil, d.Address, d.ProviderID, d.LastError,
				micros(d.CreatedAt), micros(d.UpdatedAt), microsPtr(d.SentAt), nil)
		}
		if _, err := s.db.Conn(ctx).ExecContext(ctx, s.insertIgnoring("notification_deliveries", deliveryColumns, len(part)), args...); err != nil {
			return fmt.Errorf("recording deliveries: %w", err)
		}
	}
	return nil
}

func scanDelivery(sc interface{ Scan(...any) error }) (n.Delivery, error) {
	var (
		d                      n.Delivery
		channel, kind, status  string
		next, created, updated int64
		claim, sent, alerted   sql.NullInt64
	)
	if err := sc.Scan(&d.ID, &d.SourceID, &d.EventName, &channel, &d.RecipientID, &kind, &d.TaskID, &d.Subject, &d.Body,
		&status, &d.Attempts, &next, &claim, &d.Address, &d.ProviderID, &d.LastError, &created, &updated, &sent, &alerted); err != nil {
		return n.Delivery{}, err
	}
	var err error
	if d.Channel, err = n.ChannelFromString(channel); err != nil {
		return n.Delivery{}, fmt.Errorf("delivery %s: %w", d.ID, err)
	}
	if d.Status, err = n.StatusFromString(status); err != nil {
		return n.Delivery{}, fmt.Errorf("delivery %s: %w", d.ID, err)
	}
	d.Kind, _ = n.KindFromString(kind)
	d.NextAttemptAt, d.CreatedAt, d.UpdatedAt, d.SentAt = fromMicros(next), fromMicros(created), fromMicros(updated), timePtr(sent)
	return d, nil
}

func (s *NotificationStore) deliveriesWhere(ctx context.Context, where string, args ...any) ([]n.Delivery, error) {
	rows, err := s.db.Conn(ctx).QueryContext(ctx, `SELECT `+strings.Join(deliveryColumns, ", ")+` FROM notification_deliveries WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("reading deliveries: %w", err)
	}
	defer rows.Close()
	var out []n.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// claim selects up to limit ids with selectIDs (locking them), applies set
// to them and returns the rows, in one committed transaction.
func (s *NotificationStore) claim(ctx context.Context, selectIDs string, selectArgs []any, set string, setArgs []any) ([]n.Delivery, error) {
	var out []n.Delivery
	err := s.db.WithinTransaction(ctx, func(ctx context.Context) error {
		t, err := tx(ctx)
		if err != nil {
			return err
		}
		rows, err := t.QueryContext(ctx, selectIDs+s.skipLocked(), selectArgs...)
		if err != nil {
			return fmt.Errorf("selecting deliveries: %w", err)
		}
		var ids []any
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		in := "id IN (" + placeholders(len(ids)) + ")"
		if _, err := t.ExecContext(ctx, `UPDATE notification_deliveries SET `+set+` WHERE `+in, append(setArgs, ids...)...); err != nil {
			return fmt.Errorf("claiming deliveries: %w", err)
		}
		out, err = s.deliveriesWhere(ctx, in+` ORDER BY next_attempt_at, id`, ids...)
		return err
	})
	return out, err
}

// ClaimDue implements command.DeliveryRepository. Run it outside any
// transaction: the claim must be committed before anything is sent.
func (s *NotificationStore) ClaimDue(ctx context.Context, now time.Time, limit int, claim time.Duration) ([]n.Delivery, error) {
	return s.claim(ctx,
		`SELECT id FROM notification_deliveries WHERE status = ? AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?`,
		[]any{n.StatusPending.String(), micros(now), limit},
		`status = ?, attempts = attempts + 1, claim_expires_at = ?, updated_at = ?`,
		[]any{n.StatusSending.String(), micros(now.Add(claim)), micros(now)})
}

// errNotClaimed: the delivery was not "sending" any more when its outcome
// came (its claim expired and was settled by RecoverInterrupted).
var errNotClaimed = errors.New("the delivery is no longer claimed")

// Finish implements command.DeliveryRepository.
func (s *NotificationStore) Finish(ctx context.Context, id string, f command.Finish) error {
	next := f.NextAttempt
	if f.Status != n.StatusPending {
		next = f.At
	}
	var sent sql.NullInt64
	if f.Status == n.StatusSent {
		sent = sql.NullInt64{Int64: micros(f.At), Valid: true}
	}
	res, err := s.db.Conn(ctx).ExecContext(ctx, `UPDATE notification_deliveries SET status = ?, next_attempt_at = ?, claim_expires_at = NULL,
		last_error = ?, address = ?, provider_id = ?, updated_at = ?, sent_at = ? WHERE id = ? AND status = ?`,
		f.Status.String(), micros(next), f.Error, f.Address, f.ProviderID, micros(f.At), sent, id, n.StatusSending.String())
	if err != nil {
		return fmt.Errorf("recording a delivery's outcome: %w", err)
	}
	if k, err := res.RowsAffected(); err != nil || k == 0 {
		return errors.Join(err, errNotClaimed)
	}
	return nil
}

// RecoverInterrupted implements command.DeliveryRepository.
func (s *NotificationStore) RecoverInterrupted(ctx context.Context, now time.Time, resend []n.Channel) (resent, unknown int, err error) {
	expired := `status = ? AND claim_expires_at < ?`
	args := []any{n.StatusSending.String(), micros(now)}
	inResend, chArgs := "1 = 0", []any{}
	if len(resend) > 0 {
		inResend = "channel IN (" + placeholders(len(resend)) + ")"
		for _, c := range resend {
			chArgs = append(chArgs, c.String())
		}
	}
	conn := s.db.Conn(ctx)
	res, err := conn.ExecContext(ctx, `UPDATE notification_deliveries SET status = ?, next_attempt_at = ?, claim_expires_at = NULL,
		last_error = ?, updated_at = ? WHERE `+expired+` AND `+inResend,
		append(append([]any{n.StatusPending.String(), micros(now), "interrupted while sending; sent again (at-least-once channel)", micros(now)}, args...), chArgs...)...)
	if err != nil {
		return 0, 0, fmt.Errorf("recovering interrupted deliveries: %w", err)
	}
	a, _ := res.RowsAffected()
	res, err = conn.ExecContext(ctx, `UPDATE notification_deliveries SET status = ?, claim_expires_at = NULL,
		last_error = ?, updated_at = ? WHERE `+expired+` AND NOT (`+inResend+`)`,
		append(append([]any{n.StatusUnknown.String(), "interrupted while sending; the provider may or may not have it, not sent again (at-most-once channel)", micros(now)}, args...), chArgs...)...)
	if err != nil {
		return int(a), 0, fmt.Errorf("recovering interrupted deliveries: %w", err)
	}
	b, _ := res.RowsAffected()
	return int(a), int(b), nil
}

// ClaimUnalerted implements command.DeliveryRepository.
func (s *NotificationStore) ClaimUnalerted(ctx context.Context, now time.Time, limit int) ([]n.Delivery, error) {
	return s.claim(ctx,
		`SELECT id FROM notification_deliveries WHERE status IN (?, ?) AND alerted_at IS NULL ORDER BY updated_at, id LIMIT ?`,
		[]any{n.StatusFailed.String(), n.StatusUnknown.String(), limit},
		`alerted_at = ?`, []any{micros(now)})
}

// ReleaseAlert implements command.DeliveryRepository.
func (s *NotificationStore) ReleaseAlert(ctx context.Context, id string) error {
	_, err := s.db.Conn(ctx).ExecContext(ctx, `UPDATE notification_deliveries SET alerted_at = NULL WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("releasing an alert claim: %w", err)
	}
	return nil
}

// Deliveries implements query.DeliveriesReadModel.
func (s *NotificationStore) Deliveries(ctx context.Context, f query.DeliveryFilter) ([]n.Delivery, error) {
	var (
		where []string
		args  []any
	)
	if !f.Status.IsZero() {
		where, args = append(where, "status = ?"), append(args, f.Status.String())
	}
	if !f.Channel.IsZero() {
		where, args = append(where, "channel = ?"), append(args, f.Channel.String())
	}
	if f.After != nil {
		cond, cargs := keysetCondition([]string{"created_at", "id"}, []any{micros(f.After.At), f.After.ID}, true)
		where, args = append(where, cond), append(args, cargs...)
	}
	if len(where) == 0 {
		where = []string{"1 = 1"}
	}
	limit := f.Limit
	if limit <= 0 {
		limit = query.DefaultLimit
	}
	return s.deliveriesWhere(ctx, strings.Join(where, " AND ")+` ORDER BY created_at DESC, id DESC LIMIT ?`, append(args, limit)...)
}

// ---- preferences

type storedPreferences struct {
	Channels map[string]map[string]bool `json:"channels"`
	Quiet    *storedQuiet               `json:"quiet_hours,omitempty"`
}

type storedQuiet struct {
	Start    string `json:"start"`
	End      string `json:"end"`
	TimeZone string `json:"time_zone"`
}

// Preferences implements command.PreferencesRepository.
func (s *NotificationStore) Preferences(ctx context.Context, userIDs []string) (map[string]*n.Preferences, error) {
	out := make(map[string]*n.Preferences, len(userIDs))
	if len(userIDs) == 0 {
		return out, nil
	}
	args := make([]any, len(userIDs))
	for i, id := range userIDs {
		args[i] = id
	}
	rows, err := s.db.Conn(ctx).QueryContext(ctx, `SELECT user_id, settings FROM notification_preferences WHERE user_id IN (`+placeholders(len(args))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("loading preferences: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, settings string
		if err := rows.Scan(&id, &settings); err != nil {
			return nil, err
		}
		p, err := decodePreferences(id, settings)
		if err != nil {
			return nil, fmt.Errorf("preferences of %s: %w", id, err)
		}
		out[id] = p
	}
	return out, rows.Err()
}

func decodePreferences(userID, settings string) (*n.Preferences, error) {
	var sp storedPreferences
	if err := json.Unmarshal([]byte(settings), &sp); err != nil {
		return nil, err
	}
	channels := map[n.Kind]map[n.Channel]bool{}
	for ks, chs := range sp.Channels {
		k, err := n.KindFromString(ks)
		if err != nil {
			continue // a kind retired since: ignore
		}
		m := map[n.Channel]bool{}
		for cs, on := range chs {
			if c, err := n.ChannelFromString(cs); err == nil {
				m[c] = on
			}
		}
		channels[k] = m
	}
	var quiet *n.QuietHours
	if sp.Quiet != nil {
		q, err := n.NewQuietHours(sp.Quiet.Start, sp.Quiet.End, sp.Quiet.TimeZone)
		if err != nil {
			return nil, err
		}
		quiet = q
	}
	return n.NewPreferences(userID, channels, quiet)
}

// SavePreferences implements command.PreferencesRepository.
func (s *NotificationStore) SavePreferences(ctx context.Context, p *n.Preferences, at time.Time) error {
	sp := storedPreferences{Channels: map[string]map[string]bool{}}
	for k, chs := range p.Channels() {
		m := map[string]bool{}
		for c, on := range chs {
			m[c.String()] = on
		}
		sp.Channels[k.String()] = m
	}
	if q := p.QuietHours(); q != nil {
		start, end := q.Clock()
		sp.Quiet = &storedQuiet{Start: start, End: end, TimeZone: q.Zone()}
	}
	b, err := json.Marshal(sp)
	if err != nil {
		return err
	}
	q := `INSERT INTO notification_preferences (user_id, settings, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at`
	if s.db.Dialect.Name == MySQL.Name {
		q = `INSERT INTO notification_preferences (user_id, settings, updated_at) VALUES (?, ?, ?)
		ON DUPLICATE KEY UPDATE settings = VALUES(settings), updated_at = VALUES(updated_at)`
	}
	if _, err := s.db.Conn(ctx).ExecContext(ctx, q, p.UserID(), string(b), micros(at)); err != nil {
		return fmt.Errorf("saving preferences: %w", err)
	}
	return nil
}

// ---- reminder schedule

const scheduleColumns = `task_id, task_name, status, deadline, pic_id, supervisor_id, creator_id, due_sent_for, overdue_sent_for`

// SaveSchedule implements command.ScheduleRepository.
func (s *NotificationStore) SaveSchedule(ctx context.Context, sc n.Schedule, at time.Time) error {
	q := `INSERT INTO notification_schedule (task_id, task_name, status, deadline, pic_id, supervisor_id, creator_id, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (task_id) DO UPDATE SET task_name = excluded.task_name, status = excluded.status, deadline = excluded.deadline,
			pic_id = excluded.pic_id, supervisor_id = excluded.supervisor_id, creator_id = excluded.creator_id, updated_at = excluded.updated_at`
	if s.db.Dialect.Name == MySQL.Name {
		q = `INSERT INTO notification_schedule (task_id, task_name, status, deadline, pic_id, supervisor_id, creator_id, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON DUPLICATE KEY UPDATE task_name = VALUES(task_name), status = VALUES(status), deadline = VALUES(deadline),
			pic_id = VALUES(pic_id), supervisor_id = VALUES(supervisor_id), creator_id = VALUES(creator_id), updated_at = VALUES(updated_at)`
	}
	_, err := s.db.Conn(ctx).ExecContext(ctx, q, sc.TaskID, sc.TaskName, sc.Status, microsPtr(sc.Deadline), sc.PICID, sc.SupervisorID,
		sc.CreatorID, micros(at))
	if err != nil {
		return fmt.Errorf("saving the reminder schedule of %s: %w", sc.TaskID, err)
	}
	return nil
}

// DeleteSchedule implements command.ScheduleRepository.
func (s *NotificationStore) DeleteSchedule(ctx context.Context, taskID string) error {
	if _, err := s.db.Conn(ctx).ExecContext(ctx, `DELETE FROM notification_schedule WHERE task_id = ?`, taskID); err != nil {
		return fmt.Errorf("deleting the reminder schedule of %s: %w", taskID, err)
	}
	return nil
}

// DueSchedules implements command.ScheduleRepository: the rows for which
// notification.Schedule.Due returns a reminder or a mark to record.
func (s *NotificationStore) DueSchedules(ctx context.Context, now time.Time, lead time.Duration, afterTaskID string, limit int) ([]n.Schedule, error) {
	rows, err := s.db.Conn(ctx).QueryContext(ctx, `SELECT `+scheduleColumns+` FROM notification_schedule
		WHERE deadline IS NOT NULL AND deadline <= ? AND status <> 'done' AND task_id > ?
		AND (due_sent_for IS NULL OR due_sent_for <> deadline
			OR (deadline <= ? AND (overdue_sent_for IS NULL OR overdue_sent_for <> deadline)))
		ORDER BY task_id LIMIT ?`, micros(now.Add(lead)), afterTaskID, micros(now), limit)
	if err != nil {
		return nil, fmt.Errorf("finding due reminders: %w", err)
	}
	defer rows.Close()
	var out []n.Schedule
	for rows.Next() {
		var (
			sc                             n.Schedule
			deadline, dueSent, overdueSent sql.NullInt64
		)
		if err := rows.Scan(&sc.TaskID, &sc.TaskName, &sc.Status, &deadline, &sc.PICID, &sc.SupervisorID, &sc.CreatorID,
			&dueSent, &overdueSent); err != nil {
			return nil, err
		}
		sc.Deadline, sc.DueSentFor, sc.OverdueSentFor = timePtr(deadline), timePtr(dueSent), timePtr(overdueSent)
		out = append(out, sc)
	}
	return out, rows.Err()
}

// MarkReminded implements command.ScheduleRepository.
func (s *NotificationStore) MarkReminded(ctx context.Context, sc n.Schedule, at time.Time) error {
	_, err := s.db.Conn(ctx).ExecContext(ctx, `UPDATE notification_schedule SET due_sent_for = ?, overdue_sent_for = ?, updated_at = ? WHERE task_id = ?`,
		microsPtr(sc.DueSentFor), microsPtr(sc.OverdueSentFor), micros(at), sc.TaskID)
	if err != nil {
		return fmt.Errorf("recording reminders of %s: %w", sc.TaskID, err)
	}
	return nil
}

// ---- leases

// AcquireLease implements command.Leases: take a free or expired lease,
// or renew one's own; one holder at a time, on both databases.
//
// It runs in one transaction (retried when it lost a race for SQLite's
// write lock or a MySQL deadlock), so the take-or-insert-or-read is atomic.
func (s *NotificationStore) AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error) {
	var got bool
	err := s.db.WithinTransaction(ctx, func(ctx context.Context) error {
		var err error
		got, err = s.acquireLease(ctx, name, holder, now, ttl)
		return err
	})
	return got, err
}

func (s *NotificationStore) acquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error) {
	conn := s.db.Conn(ctx)
	until := micros(now.Add(ttl))
	res, err := conn.ExecContext(ctx, `UPDATE notification_leases SET holder = ?, expires_at = ? WHERE name = ? AND (holder = ? OR expires_at <= ?)`,
		holder, until, name, holder, micros(now))
	if err != nil {
		return false, fmt.Errorf("taking the lease %s: %w", name, err)
	}
	if k, err := res.RowsAffected(); err == nil && k > 0 {
		return true, nil
	}
	_, err = conn.ExecContext(ctx, `INSERT INTO notification_leases (name, holder, expires_at) VALUES (?, ?, ?)`, name, holder, until)
	if err == nil {
		return true, nil
	}
	if !s.db.Dialect.IsDuplicate(err) {
		return false, fmt.Errorf("taking the lease %s: %w", name, err)
	}
	// Someone holds it — or we do and MySQL reported no change (a renewal
	// within the same microsecond).
	var (
		current string
		expires int64
	)
	if err := conn.QueryRowContext(ctx, `SELECT holder, expires_at FROM notification_leases WHERE name = ?`, name).Scan(&current, &expires); err != nil {
		return false, fmt.Errorf("reading the lease %s: %w", name, err)
	}
	return current == holder && expires > micros(now), nil
}
