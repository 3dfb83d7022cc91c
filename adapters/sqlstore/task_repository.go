package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/taskd/taskd/adapters/internal/tasklist"
	"github.com/taskd/taskd/modules/kernel/errs"
	"github.com/taskd/taskd/modules/kernel/event"
	"github.com/taskd/taskd/modules/tasks/domain/task"
)

// ErrTaskExists is returned by Add for an id already stored.
var ErrTaskExists = errs.Conflict("task_exists", "a task with this id already exists")

// TaskRepository stores tasks and, in the same transaction, their events.
type TaskRepository struct {
	db         *DB
	newEventID func() string
}

var _ task.Repository = (*TaskRepository)(nil)

// NewTaskRepository returns the repository; newEventID makes the ids of the
// events that loaded tasks record.
func NewTaskRepository(db *DB, newEventID func() string) *TaskRepository {
	return &TaskRepository{db: db, newEventID: newEventID}
}

// taskRow is the tasks table's row: storage, mapped explicitly to and from
// the aggregate's Snapshot.
type taskRow struct {
	ID, Name, Contents, Status, Priority string
	PriorityRank                         int64
	Deadline                             sql.NullInt64
	DeadlineKey                          int64
	PICID, SupervisorID                  sql.NullString
	CreatorID                            string
	CreatedAt, UpdatedAt                 int64
	StartedAt, CompletedAt               sql.NullInt64
	Version, LastSequence                int64
}

const taskColumns = `id, name, contents, status, priority, priority_rank, deadline, deadline_key, pic_id, supervisor_id,
	creator_id, created_at, updated_at, started_at, completed_at, version, last_sequence`

func (r *taskRow) scanArgs() []any {
	return []any{&r.ID, &r.Name, &r.Contents, &r.Status, &r.Priority, &r.PriorityRank, &r.Deadline, &r.DeadlineKey,
		&r.PICID, &r.SupervisorID, &r.CreatorID, &r.CreatedAt, &r.UpdatedAt, &r.StartedAt, &r.CompletedAt,
		&r.Version, &r.LastSequence}
}

func rowFromSnapshot(s task.Snapshot) (taskRow, error) {
	p, err := task.PriorityFromString(s.Priority)
	if err != nil {
		return taskRow{}, err
	}
	return taskRow{
		ID: s.ID, Name: s.Name, Contents: s.Contents, Status: s.Status, Priority: s.Priority,
		PriorityRank: int64(p.Rank()), Deadline: microsPtr(s.Deadline), DeadlineKey: tasklist.DeadlineKey(s.Deadline),
		PICID: nullString(s.PICID), SupervisorID: nullString(s.SupervisorID), CreatorID: s.CreatorID,
		CreatedAt: micros(s.CreatedAt), UpdatedAt: micros(s.UpdatedAt),
		StartedAt: microsPtr(s.StartedAt), CompletedAt: microsPtr(s.CompletedAt),
		Version: s.Version, LastSequence: s.LastSequence,
	}, nil
}

func (r taskRow) snapshot() task.Snapshot {
	return task.Snapshot{
		ID: r.ID, Name: r.Name, Contents: r.Contents, Status: r.Status, Priority: r.Priority,
		Deadline: timePtr(r.Deadline), PICID: r.PICID.String, SupervisorID: r.SupervisorID.String, CreatorID: r.CreatorID,
		CreatedAt: fromMicros(r.CreatedAt), UpdatedAt: fromMicros(r.UpdatedAt),
		StartedAt: timePtr(r.StartedAt), CompletedAt: timePtr(r.CompletedAt),
		Version: r.Version, LastSequence: r.LastSequence,
	}
}

// Add stores a new task (version 1) and its events in one transaction.
//
// Its events are taken from t before the transaction starts, so a retried
// transaction still writes them; called inside an outer transaction that is
// retried, build the task inside the transaction function.
func (r *TaskRepository) Add(ctx context.Context, t *task.Task) error {
	row, err := rowFromSnapshot(t.Snapshot())
	if err != nil {
		return err
	}
	evs := t.PendingEvents()
	return r.db.WithinTransaction(ctx, func(ctx context.Context) error {
		tx, err := tx(ctx)
		if err != nil {
			return err
		}
		_, err = r.db.Conn(ctx).ExecContext(ctx, `INSERT INTO tasks (`+taskColumns+`) VALUES (`+placeholders(17)+`)`,
			row.ID, row.Name, row.Contents, row.Status, row.Priority, row.PriorityRank, row.Deadline, row.DeadlineKey,
			row.PICID, row.SupervisorID, row.CreatorID, row.CreatedAt, row.UpdatedAt, row.StartedAt, row.CompletedAt,
			row.Version, row.LastSequence)
		if err != nil {
			if r.db.Dialect.IsDuplicate(err) {
				return ErrTaskExists
			}
			return fmt.Errorf("inserting task %s: %w", row.ID, err)
		}
		return r.db.Outbox.Append(ctx, tx, evs)
	})
}

// Update loads and locks the task, applies fn and, when fn recorded events,
// saves the task with its version bumped and its events.
func (r *TaskRepository) Update(ctx context.Context, id string, fn func(ctx context.Context, t *task.Task) error) error {
	return r.db.WithinTransaction(ctx, func(ctx context.Context) error {
		tx, err := tx(ctx)
		if err != nil {
			return err
		}
		t, err := r.lock(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := fn(ctx, t); err != nil {
			return err
		}
		if !t.HasPendingEvents() {
			return nil
		}
		evs, err := r.save(ctx, tx, t)
		if err != nil {
			return err
		}
		return r.db.Outbox.Append(ctx, tx, evs)
	})
}

// Delete loads and locks the task, applies fn (which records TaskDeleted)
// and removes the row, storing the events.
func (r *TaskRepository) Delete(ctx context.Context, id string, fn func(ctx context.Context, t *task.Task) error) error {
	return r.db.WithinTransaction(ctx, func(ctx context.Context) error {
		tx, err := tx(ctx)
		if err != nil {
			return err
		}
		t, err := r.lock(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := fn(ctx, t); err != nil {
			return err
		}
		if !t.HasPendingEvents() {
			// A deletion without its event would vanish from the history.
			return fmt.Errorf("deleting task %s: the delete function recorded no event", id)
		}
		old := t.Version()
		t.BumpVersion()
		evs := t.PendingEvents()
		res, err := tx.ExecContext(ctx, `DELETE FROM tasks WHERE id = ? AND version = ?`, id, old)
		if err != nil {
			return fmt.Errorf("deleting task %s: %w", id, err)
		}
		if err := oneRow(res, id); err != nil {
			return err
		}
		return r.db.Outbox.Append(ctx, tx, evs)
	})
}

// UpdateInvolving locks every task whose PIC or supervisor is userID (in id
// order) and applies fn to each as Update does, in one transaction — the
// caller's, when ctx carries one.
func (r *TaskRepository) UpdateInvolving(ctx context.Context, userID string, fn func(ctx context.Context, t *task.Task) error) error {
	if userID == "" {
		return nil
	}
	return r.db.WithinTransaction(ctx, func(ctx context.Context) error {
		tx, err := tx(ctx)
		if err != nil {
			return err
		}
		// Two indexed lookups rather than one OR: each locks only the rows
		// (and index ranges) it reads, where an OR may scan and lock the table.
		byID := map[string]taskRow{}
		for _, col := range []string{"pic_id", "supervisor_id"} {
			rows, err := r.queryRows(ctx, tx, `SELECT `+taskColumns+` FROM tasks WHERE `+col+` = ? ORDER BY id`+r.db.Dialect.ForUpdate, userID)
			if err != nil {
				return err
			}
			for _, row := range rows {
				byID[row.ID] = row
			}
		}
		ids := make([]string, 0, len(byID))
		for id := range byID {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		var all []event.Event
		for _, id := range ids {
			t, err := task.UnmarshalTaskFromDatabase(byID[id].snapshot(), r.newEventID)
			if err != nil {
				return fmt.Errorf("loading task %s: %w", id, err)
			}
			if err := fn(ctx, t); err != nil {
				return err
			}
			if !t.HasPendingEvents() {
				continue
			}
			evs, err := r.save(ctx, tx, t)
			if err != nil {
				return err
			}
			all = append(all, evs...)
		}
		return r.db.Outbox.Append(ctx, tx, all)
	})
}

// lock reads the task, locking its row until the transaction ends.
func (r *TaskRepository) lock(ctx context.Context, tx *sql.Tx, id string) (*task.Task, error) {
	var row taskRow
	// ctx carries tx: Conn runs the statement in it (prepared, on SQLite).
	err := r.db.Conn(ctx).QueryRowContext(ctx, `SELECT `+taskColumns+` FROM tasks WHERE id = ?`+r.db.Dialect.ForUpdate, id).Scan(row.scanArgs()...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, task.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("loading task %s: %w", id, err)
	}
	t, err := task.UnmarshalTaskFromDatabase(row.snapshot(), r.newEventID)
	if err != nil {
		return nil, fmt.Errorf("loading task %s: %w", id, err)
	}
	return t, nil
}

func (r *TaskRepository) queryRows(ctx context.Context, q Querier, query string, args ...any) ([]taskRow, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("querying tasks: %w", err)
	}
	defer rows.Close()
	var out []taskRow
	for rows.Next() {
		var row taskRow
		if err := rows.Scan(row.scanArgs()...); err != nil {
			return nil, fmt.Errorf("scanning task: %w", err)
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

// save bumps the version of a changed task and writes its row, guarded by
// the version it was loaded at; it returns the task's events.
func (r *TaskRepository) save(ctx context.Context, tx *sql.Tx, t *task.Task) ([]event.Event, error) {
	old := t.Version()
	t.BumpVersion()
	evs := t.PendingEvents()
	row, err := rowFromSnapshot(t.Snapshot())
	if err != nil {
		return nil, err
	}
	res, err := r.db.Conn(ctx).ExecContext(ctx, `UPDATE tasks SET name = ?, contents = ?, status = ?, priority = ?, priority_rank = ?,
		deadline = ?, deadline_key = ?, pic_id = ?, supervisor_id = ?, updated_at = ?, started_at = ?, completed_at = ?,
		version = ?, last_sequence = ? WHERE id = ? AND version = ?`,
		row.Name, row.Contents, row.Status, row.Priority, row.PriorityRank, row.Deadline, row.DeadlineKey,
		row.PICID, row.SupervisorID, row.UpdatedAt, row.StartedAt, row.CompletedAt, row.Version, row.LastSequence,
		row.ID, old)
	if err != nil {
		return nil, fmt.Errorf("updating task %s: %w", row.ID, err)
	}
	if err := oneRow(res, row.ID); err != nil {
		return nil, err
	}
	return evs, nil
}

// oneRow checks that a guarded write hit its row: none means another
// writer changed it since it was read (which the row lock should prevent).
func oneRow(res sql.Result, id string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("writing %s: %w", id, err)
	}
	if n != 1 {
		return fmt.Errorf("writing %s: %w", id, errs.ErrConcurrentUpdate)
	}
	return nil
}
