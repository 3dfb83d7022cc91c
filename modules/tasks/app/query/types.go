// Package query holds the tasks module's read side: DTOs and the read-model
// interfaces they are served from, declared beside the queries that use them.
package query

import (
	"time"

	"github.com/taskd/taskd/modules/kernel/errs"
)

// Task is the read view of a task; user fields hold user ids (the port
// renders e-mails).
type Task struct {
	ID           string
	Name         string
	Contents     string
	Status       string
	Priority     string
	Deadline     *time.Time
	PICID        string
	SupervisorID string
	CreatorID    string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	StartedAt    *time.Time
	CompletedAt  *time.Time
	Version      int64
}

// Sort orders a task list. Every order ends with the task id, so pages are stable.
type Sort string

const (
	// SortPriority: urgent first, then the earliest deadline (none last).
	SortPriority Sort = "priority"
	// SortDeadline: earliest deadline first, none last.
	SortDeadline Sort = "deadline"
	// SortCreated: oldest first; SortCreatedDesc newest first (the default).
	SortCreated     Sort = "created"
	SortCreatedDesc Sort = "-created"
	// SortUpdated: least recently updated first; SortUpdatedDesc most recent first.
	SortUpdated     Sort = "updated"
	SortUpdatedDesc Sort = "-updated"
)

var ErrInvalidSort = errs.Invalid("invalid_sort", "sort", "sort must be one of priority, deadline, created, -created, updated, -updated")

// SortFromString parses a sort; "" is the default, newest first.
func SortFromString(s string) (Sort, error) {
	switch Sort(s) {
	case "":
		return SortCreatedDesc, nil
	case SortPriority, SortDeadline, SortCreated, SortCreatedDesc, SortUpdated, SortUpdatedDesc:
		return Sort(s), nil
	}
	return "", ErrInvalidSort
}

// MaxLimit is the largest page.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// Filter selects tasks; zero fields do not filter. User fields are user ids
// (the port resolves e-mails and "me").
type Filter struct {
	Status       string // canonical status ("waiting", …)
	Priority     string // canonical priority
	PICID        string
	SupervisorID string
	CreatorID    string
	DueBefore    *time.Time // deadline < DueBefore
	DueAfter     *time.Time // deadline >= DueAfter
	NameContains string     // case-insensitive substring of the name
	Sort         Sort
	Limit        int
	// Cursor is the opaque position after which the page starts ("" = first page).
	Cursor string
}

// Page is one page of tasks; NextCursor is "" on the last page.
type Page struct {
	Tasks      []Task
	NextCursor string
}

// ErrInvalidCursor is returned for a cursor the read model did not make, or made for another sort.
var ErrInvalidCursor = errs.BadRequest("invalid_cursor", "cursor", "cursor is not valid for this list")
