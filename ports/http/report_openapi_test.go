package httpport_test

// The analytics module's part of the OpenAPI walk (openapi_test.go): the
// report and history registrars on the spec stack, with the module's real
// use cases over the same SQLite database, and their steps.

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/taskd/taskd/adapters/sqlstore"
	"github.com/taskd/taskd/modules/analytics"
	analyticscommand "github.com/taskd/taskd/modules/analytics/app/command"
	identityapp "github.com/taskd/taskd/modules/identity/app"
	identitycommand "github.com/taskd/taskd/modules/identity/app/command"
	"github.com/taskd/taskd/modules/kernel/actor"
	"github.com/taskd/taskd/modules/kernel/decorator"
	"github.com/taskd/taskd/modules/kernel/sys"
	tasksapp "github.com/taskd/taskd/modules/tasks/app"
	taskquery "github.com/taskd/taskd/modules/tasks/app/query"
	"github.com/taskd/taskd/modules/tasks/domain/task"
	httpport "github.com/taskd/taskd/ports/http"
	"github.com/taskd/taskd/ports/http/auth"
)

// specReports is what the walk needs of the analytics module besides its routes.
type specReports struct {
	// deliver hands every event of the outbox to the module, as its event
	// handler group does in a worker.
	deliver func(t testing.TB)
	// promote makes a user a manager.
	promote func(t testing.TB, email string)
}

// specTaskDirectory is the tasks module seen by the history query.
type specTaskDirectory struct{ app tasksapp.Application }

func (d specTaskDirectory) TaskExists(ctx context.Context, id string) (bool, error) {
	_, err := d.app.Queries.TaskByID.Handle(ctx, taskquery.TaskByID{ID: id, Actor: actor.System})
	if errors.Is(err, task.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

func newSpecReports(t testing.TB, db *sqlstore.DB, idApp identityapp.Application, taskApp tasksapp.Application, authn *auth.Authenticator) ([]httpport.RouteRegistrar, specReports) {
	t.Helper()
	app, err := analytics.NewApplication(analytics.Deps{
		Store: sqlstore.NewAnalyticsStore(db), Users: analyticsUsers{idApp}, Tasks: specTaskDirectory{taskApp},
		Clock: sys.SystemClock, Logger: slog.New(slog.DiscardHandler), Metrics: decorator.NopMetrics{},
	})
	if err != nil {
		t.Fatal(err)
	}
	rr, err := httpport.NewReportRoutes(httpport.ReportRoutesDeps{App: app, Auth: authn})
	if err != nil {
		t.Fatal(err)
	}
	hr, err := httpport.NewHistoryRoutes(httpport.HistoryRoutesDeps{App: app, UsersByIDs: idApp.Queries.UsersByIDs, Auth: authn})
	if err != nil {
		t.Fatal(err)
	}
	return []httpport.RouteRegistrar{rr, hr}, specReports{
		deliver: func(t testing.TB) {
			t.Helper()
			evs, err := sqlstore.NewOutboxReader(db).List(context.Background(), 0, 100000)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range evs {
				if err := app.Commands.RecordEvent.Handle(context.Background(), analyticscommand.RecordEvent{Payload: e.Payload}); err != nil {
					t.Fatal(err)
				}
			}
		},
		promote: func(t testing.TB, email string) {
			t.Helper()
			if err := idApp.Commands.ChangeRole.Handle(context.Background(), identitycommand.ChangeRole{Email: email, Role: "manager"}); err != nil {
				t.Fatal(err)
			}
		},
	}
}

// specReportSteps walks the history, the reports and the activity. bob is
// the PIC of the walk's tasks; deletedTask was deleted by the walk.
func specReportSteps(t testing.TB, w *specWalk, bob walkSession, deletedTask string) {
	// A manager of our own (sign-in attempts are limited per e-mail).
	mgrEmail := "manager-" + strings.ReplaceAll(uuid.NewString()[:8], "-", "") + "@example.com"
	w.do(call{name: "sign up a manager", method: "POST", path: "/api/sign_up", want: 201,
		body: map[string]any{"email": mgrEmail, "password": specPassword, "name": "Mona"}})
	w.stack.reports.promote(t, mgrEmail)
	a := w.do(call{name: "sign in as a manager", method: "POST", path: "/api/sign_in", want: 200,
		body: map[string]any{"email": mgrEmail, "password": specPassword}})
	mgr := a.str(t, "access_token")

	a = w.do(call{name: "create for the history", method: "POST", path: "/api/tasks", token: bob.access, want: 201,
		body: map[string]any{"Task_name": "Draft the slides", "Deadline": "2026-01-01", "PIC": bob.email}})
	live := "/api/tasks/" + a.str(t, "Task_id")
	w.do(call{name: "start it", method: "POST", path: live + "/status", token: bob.access, want: 200, body: map[string]any{"Task_status": "in_progress"}})
	w.do(call{name: "finish it", method: "POST", path: live + "/status", token: bob.access, want: 200, body: map[string]any{"Task_status": "done"}})
	w.stack.reports.deliver(t)

	a = w.do(call{name: "history", method: "GET", path: live + "/history", token: bob.access, want: 200})
	if h, _ := a.json(t)["history"].([]any); len(h) != 4 {
		t.Errorf("history of a created, started, finished task: %s", a.body)
	}
	w.do(call{name: "history: a page", method: "GET", path: live + "/history?after=1&limit=2", token: bob.access, want: 200})
	w.do(call{name: "history of a deleted task", method: "GET", path: "/api/tasks/" + deletedTask + "/history", token: mgr, want: 200})
	w.do(call{name: "history of a deleted task, a member", method: "GET", path: "/api/tasks/" + deletedTask + "/history", token: bob.access, want: 404})
	w.do(call{name: "history: limit 0", method: "GET", path: live + "/history?limit=0", token: bob.access, want: 400, breaks: true})
	w.do(call{name: "history without a token", method: "GET", path: live + "/history", want: 401, breaks: true})

	w.do(call{name: "weekly report", method: "GET", path: "/api/reports/weekly", token: bob.access, want: 200})
	a = w.do(call{name: "weekly report as CSV", method: "GET", path: "/api/reports/weekly?format=csv", token: bob.access, want: 200})
	if !strings.HasPrefix(string(a.body), "metric,") {
		t.Errorf("weekly CSV: %s", a.body)
	}
	w.do(call{name: "monthly report of someone", method: "GET", path: "/api/reports/monthly?user=" + url.QueryEscape(bob.email), token: mgr, want: 200})
	w.do(call{name: "team report", method: "GET", path: "/api/reports/team", token: mgr, want: 200})
	w.do(call{name: "team report as CSV", method: "GET", path: "/api/reports/team?format=csv", token: mgr, want: 200,
		header: map[string]string{"Accept": "text/csv"}})
	w.do(call{name: "a supervisor's people", method: "GET", path: "/api/reports/team?supervisor=me", token: bob.access, want: 200})
	w.do(call{name: "activity", method: "GET", path: "/api/reports/activity?user=me&limit=5", token: bob.access, want: 200})

	w.do(call{name: "week 54", method: "GET", path: "/api/reports/weekly?week=2026-W54", token: bob.access, want: 400})
	w.do(call{name: "month 13", method: "GET", path: "/api/reports/monthly?month=2026-13", token: bob.access, want: 400})
	w.do(call{name: "format xml", method: "GET", path: "/api/reports/weekly?format=xml", token: bob.access, want: 400, breaks: true})
	w.do(call{name: "someone else's report, a member", method: "GET", path: "/api/reports/weekly?user=" + url.QueryEscape(mgrEmail), token: bob.access, want: 403})
	w.do(call{name: "team report, a member", method: "GET", path: "/api/reports/team", token: bob.access, want: 403})
	w.do(call{name: "report of nobody", method: "GET", path: "/api/reports/monthly?user=nobody-" + url.QueryEscape(mgrEmail), token: mgr, want: 404})
	w.do(call{name: "everyone's activity, a member", method: "GET", path: "/api/reports/activity", token: bob.access, want: 403})
	w.do(call{name: "report without a token", method: "GET", path: "/api/reports/weekly", want: 401, breaks: true})
}
