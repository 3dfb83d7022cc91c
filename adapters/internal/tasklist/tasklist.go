// Package tasklist holds what the task-list read models of every adapter
// share, so they page the same way: the sort keys of a task, the opaque
// cursor that remembers a position in one sort, and LIKE escaping.
package tasklist

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"strings"
	"time"

	"github.com/taskd/taskd/modules/tasks/app/query"
	"github.com/taskd/taskd/modules/tasks/domain/task"
)

// NoDeadline is the deadline key of a task without a deadline: the largest
// int64, so "no deadline" sorts after every real deadline in ascending order.
const NoDeadline int64 = math.MaxInt64

// DeadlineKey is the sortable key of a deadline (unix microseconds, or NoDeadline).
func DeadlineKey(d *time.Time) int64 {
	if d == nil {
		return NoDeadline
	}
	return d.UnixMicro()
}

// Keys are the sortable values of one task; times are unix microseconds UTC.
type Keys struct {
	PriorityRank int64
	DeadlineKey  int64
	CreatedAt    int64
	UpdatedAt    int64
	ID           string
}

// Columns returns, for a sort, the key columns in order (the id, always
// last, is not included) and whether the order is descending.
func Columns(s query.Sort) (cols []string, desc bool) {
	switch s {
	case query.SortPriority:
		return []string{"priority_rank", "deadline_key"}, false
	case query.SortDeadline:
		return []string{"deadline_key"}, false
	case query.SortCreated:
		return []string{"created_at"}, false
	case query.SortCreatedDesc:
		return []string{"created_at"}, true
	case query.SortUpdated:
		return []string{"updated_at"}, false
	case query.SortUpdatedDesc:
		return []string{"updated_at"}, true
	}
	return nil, false
}

// Values returns k's values for the columns of sort s, in Columns order.
func (k Keys) Values(s query.Sort) []int64 {
	switch s {
	case query.SortPriority:
		return []int64{k.PriorityRank, k.DeadlineKey}
	case query.SortDeadline:
		return []int64{k.DeadlineKey}
	case query.SortCreated, query.SortCreatedDesc:
		return []int64{k.CreatedAt}
	case query.SortUpdated, query.SortUpdatedDesc:
		return []int64{k.UpdatedAt}
	}
	return nil
}

// Compare orders a and b in sort s: negative when a comes first. The id
// breaks ties (byte order, as the databases' binary collation compares it).
func Compare(s query.Sort, a, b Keys) int {
	_, desc := Columns(s)
	av, bv := a.Values(s), b.Values(s)
	c := 0
	for i := range av {
		if av[i] != bv[i] {
			if av[i] < bv[i] {
				c = -1
			} else {
				c = 1
			}
			break
		}
	}
	if c == 0 {
		c = strings.Compare(a.ID, b.ID)
	}
	if desc {
		c = -c
	}
	return c
}

// cursor is the JSON inside a cursor: the sort it was made for and the
// position (key values and id of the last task of the page).
type cursor struct {
	V  int     `json:"v"`
	S  string  `json:"s"`
	K  []int64 `json:"k"`
	ID string  `json:"i"`
}

const cursorVersion = 1

// EncodeCursor makes the opaque cursor that continues after k in sort s.
func EncodeCursor(s query.Sort, k Keys) string {
	b, _ := json.Marshal(cursor{V: cursorVersion, S: string(s), K: k.Values(s), ID: k.ID})
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reads a cursor made by EncodeCursor for sort s. Garbage, or
// a cursor made for another sort, is query.ErrInvalidCursor.
func DecodeCursor(s query.Sort, c string) (values []int64, id string, err error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, "", query.ErrInvalidCursor
	}
	var cur cursor
	if err := json.Unmarshal(b, &cur); err != nil {
		return nil, "", query.ErrInvalidCursor
	}
	cols, _ := Columns(s)
	if cur.V != cursorVersion || cur.S != string(s) || len(cur.K) != len(cols) || cur.ID == "" || len(cur.ID) > 64 {
		return nil, "", query.ErrInvalidCursor
	}
	return cur.K, cur.ID, nil
}

// LikeEscape is the escape character of every LIKE pattern taskd builds.
// It is not a backslash, whose meaning in string literals differs between
// MySQL and SQLite.
const LikeEscape = "!"

// ContainsPattern returns the LIKE pattern matching s anywhere, with LIKE's
// wildcards in s escaped.
func ContainsPattern(s string) string {
	r := strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")
	return "%" + r.Replace(s) + "%"
}

// Fold is the case folding of case-insensitive search, the same in every
// adapter (SQLite calls it through a registered SQL function).
func Fold(s string) string { return strings.ToLower(s) }

// Limit clamps a page size to [1, query.MaxLimit]; 0 is the default.
func Limit(n int) int {
	switch {
	case n <= 0:
		return query.DefaultLimit
	case n > query.MaxLimit:
		return query.MaxLimit
	}
	return n
}

// Sort validates s; "" is the default.
func Sort(s query.Sort) (query.Sort, error) {
	return query.SortFromString(string(s))
}

// KeysFrom rebuilds the keys a cursor holds for sort s (the other fields stay zero).
func KeysFrom(s query.Sort, values []int64, id string) Keys {
	k := Keys{ID: id}
	switch s {
	case query.SortPriority:
		k.PriorityRank, k.DeadlineKey = values[0], values[1]
	case query.SortDeadline:
		k.DeadlineKey = values[0]
	case query.SortCreated, query.SortCreatedDesc:
		k.CreatedAt = values[0]
	case query.SortUpdated, query.SortUpdatedDesc:
		k.UpdatedAt = values[0]
	}
	return k
}

// Criteria is a validated query.Filter, as every adapter applies it.
type Criteria struct {
	Status       string // canonical, "" = any
	PriorityRank int64
	HasPriority  bool
	PICID        string
	SupervisorID string
	CreatorID    string
	// DueBefore and DueAfter are unix microseconds; a task without a
	// deadline matches neither.
	DueBefore, DueAfter *int64
	// NameContains is folded (case-insensitive search).
	NameContains string
	Sort         query.Sort
	Limit        int
	// After is the position of the cursor, nil on the first page.
	After *Keys
}

// Parse validates f: unknown status, priority or sort, and bad cursors, are
// the domain's and the query's errors.
func Parse(f query.Filter) (Criteria, error) {
	var c Criteria
	var err error
	if c.Sort, err = Sort(f.Sort); err != nil {
		return c, err
	}
	c.Limit = Limit(f.Limit)
	if f.Status != "" {
		s, err := task.StatusFromString(f.Status)
		if err != nil {
			return c, err
		}
		c.Status = s.String()
	}
	if f.Priority != "" {
		p, err := task.PriorityFromString(f.Priority)
		if err != nil {
			return c, err
		}
		c.PriorityRank, c.HasPriority = int64(p.Rank()), true
	}
	c.PICID, c.SupervisorID, c.CreatorID = f.PICID, f.SupervisorID, f.CreatorID
	if f.DueBefore != nil {
		v := f.DueBefore.UnixMicro()
		c.DueBefore = &v
	}
	if f.DueAfter != nil {
		v := f.DueAfter.UnixMicro()
		c.DueAfter = &v
	}
	c.NameContains = Fold(f.NameContains)
	if f.Cursor != "" {
		values, id, err := DecodeCursor(c.Sort, f.Cursor)
		if err != nil {
			return c, err
		}
		k := KeysFrom(c.Sort, values, id)
		c.After = &k
	}
	return c, nil
}
