package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/taskd/taskd/adapters/internal/tasklist"
	"github.com/taskd/taskd/modules/tasks/app/query"
	"github.com/taskd/taskd/modules/tasks/domain/task"
)

// TasksReadModel serves single tasks and task lists from the tasks table.
type TasksReadModel struct {
	db *DB
}

var (
	_ query.TaskReadModel  = (*TasksReadModel)(nil)
	_ query.TasksReadModel = (*TasksReadModel)(nil)
)

func NewTasksReadModel(db *DB) *TasksReadModel { return &TasksReadModel{db: db} }

// TaskByID returns the task, or task.ErrNotFound.
func (m *TasksReadModel) TaskByID(ctx context.Context, id string) (query.Task, error) {
	rows, err := (&TaskRepository{db: m.db}).queryRows(ctx, m.db.Conn(ctx), `SELECT `+taskColumns+` FROM tasks WHERE id = ?`, id)
	if err != nil {
		return query.Task{}, err
	}
	if len(rows) == 0 {
		return query.Task{}, task.ErrNotFound
	}
	return rows[0].dto(), nil
}

// FindTasks returns one page of the tasks matching f, in f.Sort order, by
// keyset pagination: the cursor holds the sort keys of the last task of
// the previous page and the next page starts strictly after it, so inserts
// and deletes between pages never make a page repeat or skip a task (a task
// whose own sort key changes in between may of course move across the cursor).
func (m *TasksReadModel) FindTasks(ctx context.Context, f query.Filter) (query.Page, error) {
	c, err := tasklist.Parse(f)
	if err != nil {
		return query.Page{}, err
	}
	where, args := m.filter(c)
	cols, desc := tasklist.Columns(c.Sort)
	cols = append(cols, "id")
	if c.After != nil {
		var after []any
		for _, v := range c.After.Values(c.Sort) {
			after = append(after, v)
		}
		after = append(after, c.After.ID)
		cond, cargs := keysetCondition(cols, after, desc)
		where = append(where, cond)
		args = append(args, cargs...)
	}
	dir := " ASC"
	if desc {
		dir = " DESC"
	}
	order := make([]string, len(cols))
	for i, col := range cols {
		order[i] = col + dir
	}
	q := `SELECT ` + taskColumns + ` FROM tasks`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	// One more than a page: its presence says there is a next page.
	q += ` ORDER BY ` + strings.Join(order, ", ") + fmt.Sprintf(` LIMIT %d`, c.Limit+1)
	rows, err := (&TaskRepository{db: m.db}).queryRows(ctx, m.db.Conn(ctx), q, args...)
	if err != nil {
		return query.Page{}, err
	}
	page := query.Page{Tasks: make([]query.Task, 0, min(len(rows), c.Limit))}
	for i, r := range rows {
		if i == c.Limit {
			page.NextCursor = tasklist.EncodeCursor(c.Sort, rows[i-1].keys())
			break
		}
		page.Tasks = append(page.Tasks, r.dto())
	}
	return page, nil
}

func (m *TasksReadModel) filter(c tasklist.Criteria) (where []string, args []any) {
	if c.Status != "" {
		where, args = append(where, "status = ?"), append(args, c.Status)
	}
	if c.HasPriority {
		// By rank: the (priority_rank, deadline_key, id) index serves it.
		where, args = append(where, "priority_rank = ?"), append(args, c.PriorityRank)
	}
	for _, eq := range []struct {
		col, v string
	}{{"pic_id", c.PICID}, {"supervisor_id", c.SupervisorID}, {"creator_id", c.CreatorID}} {
		if eq.v != "" {
			where, args = append(where, eq.col+" = ?"), append(args, eq.v)
		}
	}
	// deadline_key is the deadline, or the largest int64 when there is none.
	if c.DueBefore != nil {
		where, args = append(where, "deadline_key < ?"), append(args, *c.DueBefore)
	}
	if c.DueAfter != nil {
		where, args = append(where, "deadline_key >= ? AND deadline IS NOT NULL"), append(args, *c.DueAfter)
	}
	if c.NameContains != "" {
		cond, arg := m.db.Dialect.foldedLike("name", c.NameContains)
		where, args = append(where, cond), append(args, arg)
	}
	return where, args
}

// keysetCondition returns "(c1, c2, …) > (v1, v2, …)" (or < when desc),
// spelled out as c1 >= v1 AND (c1 > v1 OR (c1 = v1 AND (c2 > v2 OR …))): the
// same meaning as a row-value comparison, with a leading range both
// MariaDB's and SQLite's planners turn into an index range scan.
func keysetCondition(cols []string, values []any, desc bool) (string, []any) {
	gt, ge := " > ?", " >= ?"
	if desc {
		gt, ge = " < ?", " <= ?"
	}
	var b strings.Builder
	var args []any
	b.WriteString("(" + cols[0] + ge + " AND ")
	args = append(args, values[0])
	var rec func(i int)
	rec = func(i int) {
		b.WriteString("(" + cols[i] + gt)
		args = append(args, values[i])
		if i+1 < len(cols) {
			b.WriteString(" OR (" + cols[i] + " = ? AND ")
			args = append(args, values[i])
			rec(i + 1)
			b.WriteString(")")
		}
		b.WriteString(")")
	}
	rec(0)
	b.WriteString(")")
	return b.String(), args
}

func (r taskRow) keys() tasklist.Keys {
	return tasklist.Keys{PriorityRank: r.PriorityRank, DeadlineKey: r.DeadlineKey, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, ID: r.ID}
}

func (r taskRow) dto() query.Task {
	return query.Task{
		ID: r.ID, Name: r.Name, Contents: r.Contents, Status: r.Status, Priority: r.Priority,
		Deadline: timePtr(r.Deadline), PICID: r.PICID.String, SupervisorID: r.SupervisorID.String, CreatorID: r.CreatorID,
		CreatedAt: fromMicros(r.CreatedAt), UpdatedAt: fromMicros(r.UpdatedAt),
		StartedAt: timePtr(r.StartedAt), CompletedAt: timePtr(r.CompletedAt), Version: r.Version,
	}
}
