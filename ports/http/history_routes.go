package httpport

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	analyticsapp "github.com/taskd/taskd/modules/analytics/app"
	analyticsquery "github.com/taskd/taskd/modules/analytics/app/query"
	identityquery "github.com/taskd/taskd/modules/identity/app/query"
	"github.com/taskd/taskd/ports/http/auth"
	"github.com/taskd/taskd/ports/http/httpio"
)

// MsgTaskHistory is the message of a task's history.
const MsgTaskHistory = "작업 이력 조회"

// HistoryRoutesDeps are what the history route needs.
type HistoryRoutesDeps struct {
	App analyticsapp.Application
	// UsersByIDs renders the actors (identity's query).
	UsersByIDs identityquery.UsersByIDsHandler
	Auth       *auth.Authenticator
}

// HistoryRoutes serves GET /api/tasks/{id}/history[?after=N&limit=N]: the
// task's changes in order — who, when, what changed (field, old → new) —
// from the analytics event log. Anyone who may read the task may read it;
// a deleted task's history only managers and admins (404 for others).
type HistoryRoutes struct {
	app        analyticsapp.Application
	usersByIDs identityquery.UsersByIDsHandler
	auth       *auth.Authenticator
}

// NewHistoryRoutes checks d and builds the route.
func NewHistoryRoutes(d HistoryRoutesDeps) (*HistoryRoutes, error) {
	if d.Auth == nil || d.UsersByIDs == nil || d.App.Queries.TaskHistory == nil {
		return nil, errors.New("httpport: history routes need Auth, UsersByIDs and the TaskHistory query")
	}
	return &HistoryRoutes{app: d.App, usersByIDs: d.UsersByIDs, auth: d.Auth}, nil
}

// RegisterRoutes implements RouteRegistrar.
func (h *HistoryRoutes) RegisterRoutes(r *mux.Router) {
	r.Handle("/api/tasks/{id}/history", h.auth.Require(http.HandlerFunc(h.history))).Methods(http.MethodGet)
}

type historyActorJSON struct {
	ID    string  `json:"id"`
	Email *string `json:"email"`
	Name  *string `json:"name"`
}

type historyEntryJSON struct {
	Sequence int64             `json:"sequence"`
	Event    string            `json:"event"`
	At       string            `json:"at"`
	Actor    *historyActorJSON `json:"actor"`
	Changes  []changeJSON      `json:"changes"`
}

type historyJSON struct {
	Message   string             `json:"message"`
	TaskID    string             `json:"task_id"`
	Deleted   bool               `json:"deleted"`
	History   []historyEntryJSON `json:"history"`
	NextAfter *int64             `json:"next_after"`
}

func (h *HistoryRoutes) history(w http.ResponseWriter, r *http.Request) {
	act, ok := actorFrom(w, r)
	if !ok {
		return
	}
	id, err := taskID(r)
	if err != nil {
		httpio.Error(w, r, err)
		return
	}
	params, err := queryParams(r, "after", "limit")
	if err != nil {
		httpio.Error(w, r, err)
		return
	}
	q := analyticsquery.TaskHistory{Actor: act, TaskID: id}
	if s := params.Get("after"); s != "" {
		if q.AfterSequence, err = strconv.ParseInt(s, 10, 64); err != nil || q.AfterSequence < 0 {
			httpio.Error(w, r, errInvalidParameter.WithField("after").WithMessage("after must be a sequence number (0 or more)"))
			return
		}
	}
	if s := params.Get("limit"); s != "" {
		if q.Limit, err = strconv.Atoi(s); err != nil || q.Limit < 1 {
			httpio.Error(w, r, analyticsquery.ErrInvalidLimit)
			return
		}
	}
	page, err := h.app.Queries.TaskHistory.Handle(r.Context(), q)
	if err != nil {
		httpio.Error(w, r, err)
		return
	}
	var ids []string
	for _, e := range page.Entries {
		if e.ActorID != "" {
			ids = append(ids, e.ActorID)
		}
	}
	users, err := h.usersByIDs.Handle(r.Context(), identityquery.UsersByIDs{IDs: ids})
	if err != nil {
		httpio.Error(w, r, err)
		return
	}
	out := historyJSON{Message: MsgTaskHistory, TaskID: page.TaskID, Deleted: page.Deleted, History: make([]historyEntryJSON, 0, len(page.Entries))}
	if page.NextAfter > 0 {
		out.NextAfter = &page.NextAfter
	}
	for _, e := range page.Entries {
		entry := historyEntryJSON{Sequence: e.Sequence, Event: e.Event, At: formatTime(e.At), Changes: changesJSON(e.Changes)}
		if e.ActorID != "" {
			a := &historyActorJSON{ID: e.ActorID}
			if u, ok := users[e.ActorID]; ok {
				a.Email, a.Name = nilIfEmpty(u.Email), nilIfEmpty(u.Name)
			}
			entry.Actor = a
		}
		out.History = append(out.History, entry)
	}
	httpio.JSON(w, r, http.StatusOK, out)
}
