package httpport

import (
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	identityquery "github.com/taskd/taskd/modules/identity/app/query"
	"github.com/taskd/taskd/modules/kernel/actor"
	"github.com/taskd/taskd/modules/kernel/errs"
	"github.com/taskd/taskd/modules/tasks/app/query"
	"github.com/taskd/taskd/modules/tasks/domain/task"
)

// The query parameters of GET /api/tasks.
var taskListParams = []string{
	"status", "priority", "pic", "supervisor", "creator", "due_before", "due_after", "q", "sort", "limit", "cursor",
}

const (
	maxNameQuery    = 200
	maxCursorLength = 1024
)

var (
	errInvalidDate     = errs.Invalid("invalid_date", "", "a date must be RFC 3339 (2026-12-01T18:00:00+09:00) or YYYY-MM-DD")
	errInvalidUserRef  = errs.BadRequest("invalid_user_ref", "", "a user filter takes an e-mail address, a user id or me")
	errNameQueryLength = errs.Invalid("query_too_long", "q", "q is at most 200 characters")
)

// parseFilter reads the list's query parameters. An empty value means the
// parameter is not given. A user filter takes me, a user id (used as is, so
// the tasks a since-deleted user created can still be listed) or an e-mail
// (resolved; one that names no user is 404 user_not_found).
func (h *TaskRoutes) parseFilter(r *http.Request, act actor.Actor) (query.Filter, error) {
	var f query.Filter
	params, err := queryParams(r, taskListParams...)
	if err != nil {
		return f, err
	}
	get := func(name string) string { return strings.TrimSpace(params.Get(name)) }

	if s := get("status"); s != "" {
		st, err := task.StatusFromString(s)
		if err != nil {
			return f, refield(err, "status")
		}
		f.Status = st.String()
	}
	if s := get("priority"); s != "" {
		p, err := task.PriorityFromString(s)
		if err != nil {
			return f, refield(err, "priority")
		}
		f.Priority = p.String()
	}
	for _, uf := range []struct {
		name string
		dst  *string
	}{{"pic", &f.PICID}, {"supervisor", &f.SupervisorID}, {"creator", &f.CreatorID}} {
		if s := get(uf.name); s != "" {
			if *uf.dst, err = h.userRef(r, act, uf.name, s); err != nil {
				return f, err
			}
		}
	}
	if s := get("due_before"); s != "" {
		t, err := parseDateParam(s, "due_before")
		if err != nil {
			return f, err
		}
		f.DueBefore = &t
	}
	if s := get("due_after"); s != "" {
		t, err := parseDateParam(s, "due_after")
		if err != nil {
			return f, err
		}
		f.DueAfter = &t
	}
	f.NameContains = get("q")
	if utf8.RuneCountInString(f.NameContains) > maxNameQuery {
		return f, errNameQueryLength
	}
	if f.Sort, err = query.SortFromString(get("sort")); err != nil {
		return f, err
	}
	f.Limit = query.DefaultLimit
	if s := get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > query.MaxLimit {
			return f, query.ErrInvalidLimit
		}
		f.Limit = n
	}
	f.Cursor = get("cursor")
	if len(f.Cursor) > maxCursorLength {
		return f, query.ErrInvalidCursor
	}
	return f, nil
}

func (h *TaskRoutes) userRef(r *http.Request, act actor.Actor, name, ref string) (string, error) {
	switch {
	case strings.EqualFold(ref, "me"):
		return act.UserID, nil
	case strings.Contains(ref, "@"):
		u, err := h.resolve.Handle(r.Context(), identityquery.ResolveUser{Ref: ref})
		if err != nil {
			if e, ok := errs.As(err); ok && e.Kind == errs.KindNotFound {
				return "", errUnknownTaskUser.WithField(name).WithMessage("%s: no user with this e-mail", name)
			}
			return "", err
		}
		return u.ID, nil
	}
	u, err := uuid.Parse(ref)
	if err != nil {
		return "", errInvalidUserRef.WithField(name)
	}
	return u.String(), nil
}

// parseDateParam reads RFC 3339 or a bare date, which means the start of
// that day in UTC: due_after=2026-12-01 includes tasks due that day (a date
// deadline is the end of its day), due_before=2026-12-01 excludes them.
func parseDateParam(s, name string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil && t.Year() >= 1 && t.Year() <= 9999 {
		return t.UTC(), nil
	}
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		return d, nil
	}
	return time.Time{}, errInvalidDate.WithField(name)
}

// refield names the query parameter at fault in a module's error.
func refield(err error, name string) error {
	if e, ok := errs.As(err); ok {
		return e.WithField(name)
	}
	return err
}
