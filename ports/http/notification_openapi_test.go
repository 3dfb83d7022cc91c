package httpport_test

// The notifications module's part of the OpenAPI walk (openapi_test.go):
// its registrars on the spec stack, with the module's real use cases over
// the same SQLite database, and its steps.

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/taskd/taskd/adapters/sqlstore"
	identityapp "github.com/taskd/taskd/modules/identity/app"
	identitycommand "github.com/taskd/taskd/modules/identity/app/command"
	identityquery "github.com/taskd/taskd/modules/identity/app/query"
	"github.com/taskd/taskd/modules/kernel/decorator"
	"github.com/taskd/taskd/modules/kernel/sys"
	"github.com/taskd/taskd/modules/notifications"
	notifycommand "github.com/taskd/taskd/modules/notifications/app/command"
	tasks "github.com/taskd/taskd/modules/tasks/contracts"
	httpport "github.com/taskd/taskd/ports/http"
	"github.com/taskd/taskd/ports/http/auth"
)

// specNotifications is what the walk needs of the notifications module
// besides its routes.
type specNotifications struct {
	// deliver hands every task event of the outbox to the module, as its
	// event handler group does in a worker (processed once each).
	deliver func(t testing.TB)
	// promote makes a user an admin.
	promote func(t testing.TB, email string)
}

type specRecipients struct {
	users identityquery.UsersByIDsHandler
}

func (d specRecipients) Users(ctx context.Context, ids []string) (map[string]notifycommand.User, error) {
	found, err := d.users.Handle(ctx, identityquery.UsersByIDs{IDs: ids})
	if err != nil {
		return nil, err
	}
	out := map[string]notifycommand.User{}
	for id, u := range found {
		out[id] = notifycommand.User{ID: u.ID, Name: u.Name, Email: u.Email, Phone: u.Phone, Locale: u.Locale}
	}
	return out, nil
}

func newSpecNotifications(t testing.TB, db *sqlstore.DB, idApp identityapp.Application, authn *auth.Authenticator, cfg httpport.Config) ([]httpport.RouteRegistrar, specNotifications) {
	t.Helper()
	app := notifications.NewApplication(notifications.Deps{
		Store: sqlstore.NewNotificationStore(db), Directory: specRecipients{idApp.Queries.UsersByIDs},
		Config: notifycommand.Config{PublicURL: "http://127.0.0.1:8080"},
		Clock:  sys.SystemClock, NewID: sys.NewUUIDv7, Logger: slog.New(slog.DiscardHandler), Metrics: decorator.NopMetrics{},
	})
	nr, err := httpport.NewNotificationRoutes(httpport.NotificationRoutesDeps{App: app, Auth: authn, Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	ar, err := httpport.NewAdminRoutes(httpport.AdminRoutesDeps{Notifications: app, Auth: authn})
	if err != nil {
		t.Fatal(err)
	}
	return []httpport.RouteRegistrar{nr, ar}, specNotifications{
		deliver: func(t testing.TB) {
			t.Helper()
			evs, err := sqlstore.NewOutboxReader(db).List(context.Background(), 0, 100000)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range evs {
				if !strings.HasPrefix(e.Name, "Task") {
					continue
				}
				var te tasks.TaskEvent
				if err := json.Unmarshal(e.Payload, &te); err != nil {
					t.Fatal(err)
				}
				if err := app.Commands.HandleTaskEvent.Handle(context.Background(), notifycommand.HandleTaskEvent{Event: te}); err != nil {
					t.Fatal(err)
				}
			}
		},
		promote: func(t testing.TB, email string) {
			t.Helper()
			if err := idApp.Commands.ChangeRole.Handle(context.Background(), identitycommand.ChangeRole{Email: email, Role: "admin"}); err != nil {
				t.Fatal(err)
			}
		},
	}
}

// specNotificationSteps walks the inbox, the preferences and the admin view.
// bob is the PIC of the walk's tasks, so his inbox has entries.
func specNotificationSteps(t testing.TB, w *specWalk, alice, bob walkSession) {
	w.stack.notifications.deliver(t)
	a := w.do(call{name: "inbox", method: "GET", path: "/api/notifications", token: bob.access, want: 200})
	var inbox struct {
		Notifications []struct{ ID string } `json:"notifications"`
	}
	_ = json.Unmarshal(a.body, &inbox)
	if len(inbox.Notifications) < 2 {
		t.Fatalf("bob's inbox after the walk's task changes: %s", a.body)
	}
	a = w.do(call{name: "inbox: unread, first page", method: "GET", path: "/api/notifications?unread=true&limit=1", token: bob.access, want: 200})
	cur, _ := a.json(t)["next_cursor"].(string)
	if cur == "" {
		t.Fatalf("no next_cursor: %s", a.body)
	}
	w.do(call{name: "inbox: next page", method: "GET", path: "/api/notifications?limit=1&cursor=" + url.QueryEscape(cur), token: bob.access, want: 200})
	w.do(call{name: "inbox: limit 0", method: "GET", path: "/api/notifications?limit=0", token: bob.access, want: 422, breaks: true})
	w.do(call{name: "inbox: bad unread", method: "GET", path: "/api/notifications?unread=maybe", token: bob.access, want: 422, breaks: true})
	w.do(call{name: "inbox: bad cursor", method: "GET", path: "/api/notifications?cursor=garbage", token: bob.access, want: 400})
	w.do(call{name: "inbox without a token", method: "GET", path: "/api/notifications", want: 401, breaks: true})
	w.do(call{name: "unread count", method: "GET", path: "/api/notifications/unread-count", token: bob.access, want: 200})
	one := "/api/notifications/" + inbox.Notifications[0].ID + "/read"
	w.do(call{name: "read one", method: "POST", path: one, token: bob.access, want: 200})
	w.do(call{name: "read someone else's", method: "POST", path: one, token: alice.access, want: 404})
	w.do(call{name: "read one: a body with a field", method: "POST", path: one, token: bob.access, want: 400, breaks: true,
		body: map[string]any{"read": true}})
	w.do(call{name: "read all", method: "POST", path: "/api/notifications/read-all", token: bob.access, want: 200, body: map[string]any{}})

	w.do(call{name: "preferences", method: "GET", path: "/api/users/me/notifications", token: bob.access, want: 200})
	w.do(call{name: "set preferences", method: "PUT", path: "/api/users/me/notifications", token: bob.access, want: 200,
		body: map[string]any{"preferences": map[string]any{"overdue": []string{"inbox", "sms"}, "status_changed": map[string]bool{"email": false, "inbox": true}},
			"quiet_hours": map[string]string{"start": "22:00", "end": "07:00", "time_zone": "Asia/Seoul"}}})
	w.do(call{name: "preferences: unknown kind", method: "PUT", path: "/api/users/me/notifications", token: bob.access, want: 422,
		body: map[string]any{"preferences": map[string]any{"weather": []string{"inbox"}}}})
	w.do(call{name: "preferences: bad quiet hours", method: "PUT", path: "/api/users/me/notifications", token: bob.access, want: 422,
		body: map[string]any{"quiet_hours": map[string]string{"start": "7pm", "end": "07:00"}}})
	w.do(call{name: "preferences: wrong type", method: "PUT", path: "/api/users/me/notifications", token: bob.access, want: 400, breaks: true,
		body: map[string]any{"preferences": map[string]any{"overdue": "all"}}})
	w.do(call{name: "preferences: unknown field", method: "PUT", path: "/api/users/me/notifications", token: bob.access, want: 400, breaks: true,
		body: map[string]any{"mute": true}})

	w.do(call{name: "deliveries as a member", method: "GET", path: "/api/admin/deliveries?status=failed", token: bob.access, want: 403})
	w.stack.notifications.promote(t, alice.email)
	a = w.do(call{name: "sign in as an admin", method: "POST", path: "/api/sign_in", want: 200,
		body: map[string]any{"email": alice.email, "password": specPassword}})
	admin := a.str(t, "access_token")
	w.do(call{name: "deliveries", method: "GET", path: "/api/admin/deliveries?status=failed&channel=email&limit=10", token: admin, want: 200})
	w.do(call{name: "deliveries: bad status", method: "GET", path: "/api/admin/deliveries?status=lost", token: admin, want: 422, breaks: true})
}
