package httpport

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	notifyapp "github.com/taskd/taskd/modules/notifications/app"
	notifyquery "github.com/taskd/taskd/modules/notifications/app/query"
	"github.com/taskd/taskd/ports/http/auth"
	"github.com/taskd/taskd/ports/http/httpio"
)

// AdminRoutesDeps are what the admin routes need.
type AdminRoutesDeps struct {
	Notifications notifyapp.Application
	Auth          *auth.Authenticator
}

// AdminRoutes serve the operators' views, admins only:
//
//	GET /api/admin/deliveries[?status=failed][&channel=email][&cursor=][&limit=]
type AdminRoutes struct {
	deliveries notifyquery.DeliveriesHandler
	auth       *auth.Authenticator
}

// NewAdminRoutes checks d and builds the routes.
func NewAdminRoutes(d AdminRoutesDeps) (*AdminRoutes, error) {
	if d.Auth == nil || d.Notifications.Queries.Deliveries == nil {
		return nil, errors.New("httpport: admin routes need Auth and the Deliveries query")
	}
	return &AdminRoutes{deliveries: d.Notifications.Queries.Deliveries, auth: d.Auth}, nil
}

// RegisterRoutes implements RouteRegistrar.
func (h *AdminRoutes) RegisterRoutes(r *mux.Router) {
	r.Handle("/api/admin/deliveries", h.auth.Require(http.HandlerFunc(h.listDeliveries))).Methods(http.MethodGet)
}

type deliveryJSON struct {
	ID          string  `json:"id"`
	SourceID    string  `json:"source_id"`
	Event       string  `json:"event"`
	Channel     string  `json:"channel"`
	RecipientID string  `json:"recipient_id"`
	Kind        string  `json:"kind"`
	TaskID      *string `json:"task_id"`
	Subject     string  `json:"subject"`
	Status      string  `json:"status"`
	Attempts    int     `json:"attempts"`
	NextAttempt *string `json:"next_attempt_at"`
	Address     *string `json:"address"`
	ProviderID  *string `json:"provider_id"`
	LastError   *string `json:"last_error"`
	CreatedAt   string  `json:"created_at"`
	UpdatedAt   string  `json:"updated_at"`
	SentAt      *string `json:"sent_at"`
}

type deliveriesResponse struct {
	Deliveries []deliveryJSON `json:"deliveries"`
	NextCursor *string        `json:"next_cursor"`
}

// listDeliveries is GET /api/admin/deliveries (403 for non-admins).
func (h *AdminRoutes) listDeliveries(w http.ResponseWriter, r *http.Request) {
	act, ok := actorFrom(w, r)
	if !ok {
		return
	}
	params, err := queryParams(r, "status", "channel", "cursor", "limit")
	if err != nil {
		httpio.Error(w, r, err)
		return
	}
	q := notifyquery.Deliveries{Actor: act, Status: strings.TrimSpace(params.Get("status")),
		Channel: strings.TrimSpace(params.Get("channel")), Cursor: strings.TrimSpace(params.Get("cursor"))}
	if q.Limit, err = pageLimit(params.Get("limit")); err != nil {
		httpio.Error(w, r, err)
		return
	}
	if len(q.Cursor) > maxCursorLength {
		httpio.Error(w, r, notifyquery.ErrInvalidCursor)
		return
	}
	page, err := h.deliveries.Handle(r.Context(), q)
	if err != nil {
		httpio.Error(w, r, err)
		return
	}
	out := deliveriesResponse{Deliveries: make([]deliveryJSON, 0, len(page.Items)), NextCursor: nilIfEmpty(page.NextCursor)}
	for _, d := range page.Items {
		out.Deliveries = append(out.Deliveries, deliveryJSON{
			ID: d.ID, SourceID: d.SourceID, Event: d.EventName, Channel: d.Channel, RecipientID: d.RecipientID, Kind: d.Kind,
			TaskID: nilIfEmpty(d.TaskID), Subject: d.Subject, Status: d.Status, Attempts: d.Attempts,
			NextAttempt: formatTimePtr(d.NextAttempt), Address: nilIfEmpty(d.Address), ProviderID: nilIfEmpty(d.ProviderID),
			LastError: nilIfEmpty(d.LastError), CreatedAt: formatTime(d.CreatedAt), UpdatedAt: formatTime(d.UpdatedAt),
			SentAt: formatTimePtr(d.SentAt),
		})
	}
	httpio.JSON(w, r, http.StatusOK, out)
}
