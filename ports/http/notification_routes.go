package httpport

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/taskd/taskd/modules/kernel/errs"
	notifyapp "github.com/taskd/taskd/modules/notifications/app"
	notifycommand "github.com/taskd/taskd/modules/notifications/app/command"
	notifyquery "github.com/taskd/taskd/modules/notifications/app/query"
	"github.com/taskd/taskd/ports/http/auth"
	"github.com/taskd/taskd/ports/http/httpio"
)

// NotificationRoutesDeps are what the notification routes need.
type NotificationRoutesDeps struct {
	App    notifyapp.Application
	Auth   *auth.Authenticator
	Config Config
}

// NotificationRoutes serve the in-app inbox and the preferences
// (docs/notifications.md):
//
//	GET  /api/notifications[?unread=true][&cursor=][&limit=]  newest first, with the unread count
//	GET  /api/notifications/unread-count
//	POST /api/notifications/{id}/read
//	POST /api/notifications/read-all
//	GET  /api/users/me/notifications                           preferences
//	PUT  /api/users/me/notifications
type NotificationRoutes struct {
	app     notifyapp.Application
	auth    *auth.Authenticator
	maxBody int64
}

// NewNotificationRoutes checks d and builds the routes.
func NewNotificationRoutes(d NotificationRoutesDeps) (*NotificationRoutes, error) {
	c, q := d.App.Commands, d.App.Queries
	var missing []error
	for _, dep := range []struct {
		name string
		ok   bool
	}{
		{"Auth", d.Auth != nil}, {"MarkNotificationRead", c.MarkNotificationRead != nil},
		{"MarkAllNotificationsRead", c.MarkAllNotificationsRead != nil}, {"UpdatePreferences", c.UpdatePreferences != nil},
		{"Inbox", q.Inbox != nil}, {"UnreadCount", q.UnreadCount != nil}, {"NotificationPreferences", q.NotificationPreferences != nil},
	} {
		if !dep.ok {
			missing = append(missing, errors.New("httpport: notification routes need "+dep.name))
		}
	}
	if err := errors.Join(missing...); err != nil {
		return nil, err
	}
	return &NotificationRoutes{app: d.App, auth: d.Auth, maxBody: d.Config.withDefaults().MaxBodyBytes}, nil
}

// RegisterRoutes implements RouteRegistrar.
func (h *NotificationRoutes) RegisterRoutes(r *mux.Router) {
	authed := func(f http.HandlerFunc) http.Handler { return h.auth.Require(f) }
	r.Handle("/api/notifications", authed(h.list)).Methods(http.MethodGet)
	r.Handle("/api/notifications/unread-count", authed(h.unreadCount)).Methods(http.MethodGet)
	r.Handle("/api/notifications/read-all", authed(h.readAll)).Methods(http.MethodPost)
	r.Handle("/api/notifications/{id}/read", authed(h.read)).Methods(http.MethodPost)
	r.Handle("/api/users/me/notifications", authed(h.preferences)).Methods(http.MethodGet)
	r.Handle("/api/users/me/notifications", authed(h.updatePreferences)).Methods(http.MethodPut)
}

type notificationActorJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type notificationJSON struct {
	ID        string                 `json:"id"`
	Kind      string                 `json:"kind"`
	Title     string                 `json:"title"`
	Message   string                 `json:"message"`
	TaskID    *string                `json:"task_id"`
	TaskName  *string                `json:"task_name"`
	Actor     *notificationActorJSON `json:"actor"`
	Link      *string                `json:"link"`
	Read      bool                   `json:"read"`
	CreatedAt string                 `json:"created_at"`
	ReadAt    *string                `json:"read_at"`
}

type inboxResponse struct {
	Notifications []notificationJSON `json:"notifications"`
	NextCursor    *string            `json:"next_cursor"`
	UnreadCount   int                `json:"unread_count"`
}

type unreadCountResponse struct {
	UnreadCount int `json:"unread_count"`
}

var (
	errInvalidUnread = errs.Invalid("invalid_unread", "unread", "unread must be true or false")
	errPageLimit     = errs.Invalid("invalid_limit", "limit", "limit must be between 1 and 100")
)

// list is GET /api/notifications.
func (h *NotificationRoutes) list(w http.ResponseWriter, r *http.Request) {
	act, ok := actorFrom(w, r)
	if !ok {
		return
	}
	params, err := queryParams(r, "unread", "cursor", "limit")
	if err != nil {
		httpio.Error(w, r, err)
		return
	}
	q := notifyquery.Inbox{UserID: act.UserID, Cursor: strings.TrimSpace(params.Get("cursor"))}
	switch strings.ToLower(strings.TrimSpace(params.Get("unread"))) {
	case "", "false", "0":
	case "true", "1":
		q.UnreadOnly = true
	default:
		httpio.Error(w, r, errInvalidUnread)
		return
	}
	if q.Limit, err = pageLimit(params.Get("limit")); err != nil {
		httpio.Error(w, r, err)
		return
	}
	if len(q.Cursor) > maxCursorLength {
		httpio.Error(w, r, notifyquery.ErrInvalidCursor)
		return
	}
	page, err := h.app.Queries.Inbox.Handle(r.Context(), q)
	if err != nil {
		httpio.Error(w, r, err)
		return
	}
	out := inboxResponse{Notifications: make([]notificationJSON, 0, len(page.Items)), NextCursor: nilIfEmpty(page.NextCursor), UnreadCount: page.UnreadCount}
	for _, n := range page.Items {
		j := notificationJSON{
			ID: n.ID, Kind: n.Kind, Title: n.Title, Message: n.Message, TaskID: nilIfEmpty(n.TaskID),
			TaskName: nilIfEmpty(n.TaskName), Link: nilIfEmpty(n.Link), Read: n.ReadAt != nil,
			CreatedAt: formatTime(n.CreatedAt), ReadAt: formatTimePtr(n.ReadAt),
		}
		if n.ActorID != "" {
			j.Actor = &notificationActorJSON{ID: n.ActorID, Name: n.ActorName}
		}
		out.Notifications = append(out.Notifications, j)
	}
	httpio.JSON(w, r, http.StatusOK, out)
}

// pageLimit reads the limit of the notification and delivery lists: 0
// (the default) when absent, else 1 to 100.
func pageLimit(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > notifyquery.MaxLimit {
		return 0, errPageLimit
	}
	return n, nil
}

// unreadCount is GET /api/notifications/unread-count.
func (h *NotificationRoutes) unreadCount(w http.ResponseWriter, r *http.Request) {
	act, ok := actorFrom(w, r)
	if !ok {
		return
	}
	if _, err := queryParams(r); err != nil {
		httpio.Error(w, r, err)
		return
	}
	h.renderUnread(w, r, act.UserID, http.StatusOK)
}

func (h *NotificationRoutes) renderUnread(w http.ResponseWriter, r *http.Request, userID string, status int) {
	n, err := h.app.Queries.UnreadCount.Handle(r.Context(), notifyquery.UnreadCount{UserID: userID})
	if err != nil {
		httpio.Error(w, r, err)
		return
	}
	httpio.JSON(w, r, status, unreadCountResponse{UnreadCount: n})
}

// emptyBody is the body of POSTs that take none: nothing, or {}.
type emptyBody struct{}

// read is POST /api/notifications/{id}/read: marking a read one again is fine.
func (h *NotificationRoutes) read(w http.ResponseWriter, r *http.Request) {
	act, ok := actorFrom(w, r)
	if !ok {
		return
	}
	var body emptyBody
	if _, err := httpio.DecodeOptional(w, r, h.maxBody, &body); err != nil {
		httpio.Error(w, r, err)
		return
	}
	id := mux.Vars(r)["id"]
	if len(id) > 64 {
		httpio.Error(w, r, notifycommand.ErrNotificationNotFound)
		return
	}
	if err := h.app.Commands.MarkNotificationRead.Handle(r.Context(), notifycommand.MarkNotificationRead{UserID: act.UserID, ID: id}); err != nil {
		httpio.Error(w, r, err)
		return
	}
	h.renderUnread(w, r, act.UserID, http.StatusOK)
}

// readAll is POST /api/notifications/read-all.
func (h *NotificationRoutes) readAll(w http.ResponseWriter, r *http.Request) {
	act, ok := actorFrom(w, r)
	if !ok {
		return
	}
	var body emptyBody
	if _, err := httpio.DecodeOptional(w, r, h.maxBody, &body); err != nil {
		httpio.Error(w, r, err)
		return
	}
	if err := h.app.Commands.MarkAllNotificationsRead.Handle(r.Context(), notifycommand.MarkAllNotificationsRead{UserID: act.UserID}); err != nil {
		httpio.Error(w, r, err)
		return
	}
	h.renderUnread(w, r, act.UserID, http.StatusOK)
}

type quietHoursJSON struct {
	Start    string `json:"start"`
	End      string `json:"end"`
	TimeZone string `json:"time_zone"`
}

type preferencesResponse struct {
	Preferences map[string]map[string]bool `json:"preferences"`
	QuietHours  *quietHoursJSON            `json:"quiet_hours"`
}

// preferences is GET /api/users/me/notifications.
func (h *NotificationRoutes) preferences(w http.ResponseWriter, r *http.Request) {
	act, ok := actorFrom(w, r)
	if !ok {
		return
	}
	if _, err := queryParams(r); err != nil {
		httpio.Error(w, r, err)
		return
	}
	h.renderPreferences(w, r, act.UserID)
}

func (h *NotificationRoutes) renderPreferences(w http.ResponseWriter, r *http.Request, userID string) {
	p, err := h.app.Queries.NotificationPreferences.Handle(r.Context(), notifyquery.NotificationPreferences{UserID: userID})
	if err != nil {
		httpio.Error(w, r, err)
		return
	}
	out := preferencesResponse{Preferences: p.Channels}
	if p.Quiet != nil {
		out.QuietHours = &quietHoursJSON{Start: p.Quiet.Start, End: p.Quiet.End, TimeZone: p.Quiet.TimeZone}
	}
	httpio.JSON(w, r, http.StatusOK, out)
}

type updatePreferencesRequest struct {
	Preferences map[string]json.RawMessage       `json:"preferences"`
	QuietHours  httpio.Optional[json.RawMessage] `json:"quiet_hours"`
}

type quietHoursRequest struct {
	Start    string `json:"start"`
	End      string `json:"end"`
	TimeZone string `json:"time_zone"`
}

// updatePreferences is PUT /api/users/me/notifications. Each kind takes
// {"inbox": true, "email": false, …} or ["inbox", "email"]; a kind left
// out keeps its defaults (inbox and e-mail), a channel left out is off.
// quiet_hours null or absent removes them; time_zone defaults to the
// user's locale's (Asia/Seoul for ko, UTC for en).
func (h *NotificationRoutes) updatePreferences(w http.ResponseWriter, r *http.Request) {
	act, ok := actorFrom(w, r)
	if !ok {
		return
	}
	var req updatePreferencesRequest
	if err := httpio.Decode(w, r, h.maxBody, &req); err != nil {
		httpio.Error(w, r, err)
		return
	}
	cmd := notifycommand.UpdatePreferences{UserID: act.UserID, Channels: map[string]map[string]bool{}}
	for kind, raw := range req.Preferences {
		field := "preferences." + kind
		raw = bytes.TrimSpace(raw)
		switch {
		case len(raw) > 0 && raw[0] == '[':
			var list []string
			if err := json.Unmarshal(raw, &list); err != nil {
				httpio.Error(w, r, httpio.ErrInvalidType.WithField(field).WithMessage("%s must list channels or map them to true/false", field))
				return
			}
			m := map[string]bool{}
			for _, c := range list {
				m[c] = true
			}
			cmd.Channels[kind] = m
		default:
			var m map[string]bool
			if err := json.Unmarshal(raw, &m); err != nil || m == nil {
				httpio.Error(w, r, httpio.ErrInvalidType.WithField(field).WithMessage("%s must list channels or map them to true/false", field))
				return
			}
			cmd.Channels[kind] = m
		}
	}
	if req.QuietHours.Set && !req.QuietHours.Null {
		var q quietHoursRequest
		if err := httpio.DecodeBytes(req.QuietHours.Value, &q); err != nil {
			httpio.Error(w, r, refieldQuiet(err))
			return
		}
		cmd.Quiet = &notifycommand.QuietHours{Start: strings.TrimSpace(q.Start), End: strings.TrimSpace(q.End), TimeZone: strings.TrimSpace(q.TimeZone)}
	}
	if err := h.app.Commands.UpdatePreferences.Handle(r.Context(), cmd); err != nil {
		httpio.Error(w, r, err)
		return
	}
	h.renderPreferences(w, r, act.UserID)
}

// refieldQuiet names the nested field at fault (quiet_hours.start …).
func refieldQuiet(err error) error {
	if e, ok := errs.As(err); ok {
		if e.Field != "" {
			return e.WithField("quiet_hours." + e.Field)
		}
		return e.WithField("quiet_hours")
	}
	return err
}
