package httpport_test

import (
	"context"
	"encoding/csv"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/taskd/taskd/adapters/sqlite"
	"github.com/taskd/taskd/adapters/sqlstore"
	"github.com/taskd/taskd/modules/analytics"
	analyticsapp "github.com/taskd/taskd/modules/analytics/app"
	analyticscommand "github.com/taskd/taskd/modules/analytics/app/command"
	analyticsquery "github.com/taskd/taskd/modules/analytics/app/query"
	analyticscontracts "github.com/taskd/taskd/modules/analytics/contracts"
	identityapp "github.com/taskd/taskd/modules/identity/app"
	identityquery "github.com/taskd/taskd/modules/identity/app/query"
	"github.com/taskd/taskd/modules/identity/domain/user"
	"github.com/taskd/taskd/modules/kernel/actor"
	"github.com/taskd/taskd/modules/tasks/domain/task"
	httpport "github.com/taskd/taskd/ports/http"
)

// reportEnv is the report and history routes over the real analytics
// application on SQLite, with the identity fakes of env for users and
// tokens. Events are recorded straight into the analytics module, made by
// the tasks module's aggregate.
type reportEnv struct {
	*env
	app     analyticsapp.Application
	handler http.Handler
	deleted sync.Map // task id → true
	tasks   map[string]*task.Task
}

// analyticsUsers is identity seen by the analytics module (cmd/taskd has
// the same bridge).
type analyticsUsers struct{ identity identityapp.Application }

func (d analyticsUsers) ResolveUser(ctx context.Context, ref string) (analyticscontracts.UserInfo, error) {
	u, err := d.identity.Queries.ResolveUser.Handle(ctx, identityquery.ResolveUser{Ref: ref})
	if errors.Is(err, user.ErrNotFound) {
		return analyticscontracts.UserInfo{}, analyticsquery.ErrUserNotFound
	}
	if err != nil {
		return analyticscontracts.UserInfo{}, err
	}
	return analyticscontracts.UserInfo{ID: u.ID, Email: u.Email, Name: u.Name}, nil
}

func (d analyticsUsers) UsersByIDs(ctx context.Context, ids []string) (map[string]analyticscontracts.UserInfo, error) {
	users, err := d.identity.Queries.UsersByIDs.Handle(ctx, identityquery.UsersByIDs{IDs: ids})
	if err != nil {
		return nil, err
	}
	out := make(map[string]analyticscontracts.UserInfo, len(users))
	for id, u := range users {
		out[id] = analyticscontracts.UserInfo{ID: u.ID, Email: u.Email, Name: u.Name}
	}
	return out, nil
}

type analyticsTasks struct{ e *reportEnv }

func (d analyticsTasks) TaskExists(_ context.Context, id string) (bool, error) {
	_, gone := d.e.deleted.Load(id)
	return !gone, nil
}

func newReportEnv(t *testing.T) *reportEnv {
	t.Helper()
	e := &reportEnv{env: newEnv(t), tasks: map[string]*task.Task{}}
	e.clock.Advance(8 * 24 * time.Hour) // Tuesday 10 March 2026, week 11
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "taskd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := sqlstore.Migrate(t.Context(), db, sqlstore.SQLite); err != nil {
		t.Fatal(err)
	}
	e.app, err = analytics.NewApplication(analytics.Deps{
		Store: sqlstore.NewAnalyticsStore(sqlstore.New(db, sqlstore.SQLite)),
		Users: analyticsUsers{e.identity}, Tasks: analyticsTasks{e}, Clock: e.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	authn := httpport.NewAuthenticator(e.tokens, e.identity, httpport.Config{}, e.clock.Now)
	rr, err := httpport.NewReportRoutes(httpport.ReportRoutesDeps{App: e.app, Auth: authn})
	if err != nil {
		t.Fatal(err)
	}
	hr, err := httpport.NewHistoryRoutes(httpport.HistoryRoutesDeps{App: e.app, UsersByIDs: e.identity.Queries.UsersByIDs, Auth: authn})
	if err != nil {
		t.Fatal(err)
	}
	e.handler = httpport.NewHandler(httpport.HandlerDeps{}, []httpport.RouteRegistrar{rr, hr})
	e.env.handler = e.handler // e.do and the shape checks
	return e
}

// record delivers the task's pending events to the analytics module, as
// the repository publishes them.
func (e *reportEnv) record(tk *task.Task, first bool) {
	e.t.Helper()
	if !first {
		tk.BumpVersion()
	}
	for _, ev := range tk.PendingEvents() {
		if err := e.app.Commands.RecordEvent.Handle(context.Background(), analyticscommand.RecordEvent{Event: ev}); err != nil {
			e.t.Fatal(err)
		}
	}
}

func (e *reportEnv) newTask(creator, pic, sup, name string, deadline *time.Time, at time.Time) *task.Task {
	e.t.Helper()
	tk, err := task.NewTask(task.NewTaskParams{ID: uuid.NewString(), Name: name, CreatorID: creator, PICID: pic, SupervisorID: sup, Deadline: deadline}, at,
		func() string { return uuid.Must(uuid.NewV7()).String() })
	if err != nil {
		e.t.Fatal(err)
	}
	e.tasks[tk.ID()] = tk
	e.record(tk, true)
	return tk
}

// raw serves a request without the JSON shape check (CSV answers).
func (e *reportEnv) raw(path, token string, headers ...string) *httptest.ResponseRecorder {
	hr := httptest.NewRequest(http.MethodGet, path, nil)
	hr.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(headers); i += 2 {
		hr.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, hr)
	return rec
}

// week10 fills week 2026-W10 (2 to 8 March): alice completes a task on time
// (the boss supervises it) and one late, and leaves one overdue. The
// clock is in the next week.
func (e *reportEnv) week10(alice, boss string) (onTime, late, overdue *task.Task) {
	e.t.Helper()
	mon := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	due := func(d time.Duration) *time.Time { t := mon.Add(d); return &t }
	a := actor.Actor{UserID: alice, Role: "member"}
	onTime = e.newTask(boss, alice, boss, "on time", due(72*time.Hour), mon)
	late = e.newTask(boss, alice, "", "=late", due(2*time.Hour), mon)
	overdue = e.newTask(boss, alice, "", "overdue", due(24*time.Hour), mon)
	for _, step := range []struct {
		tk *task.Task
		do func(*task.Task, time.Time) error
		at time.Duration
	}{
		{onTime, func(t *task.Task, at time.Time) error { return t.Start(a, at) }, time.Hour},
		{onTime, func(t *task.Task, at time.Time) error { return t.Complete(a, at) }, 25 * time.Hour},
		{late, func(t *task.Task, at time.Time) error { return t.Complete(a, at) }, 50 * time.Hour},
	} {
		if err := step.do(step.tk, mon.Add(step.at)); err != nil {
			e.t.Fatal(err)
		}
		e.record(step.tk, false)
	}
	return onTime, late, overdue
}

func TestWeeklyReport(t *testing.T) {
	e := newReportEnv(t)
	alice, aliceTok := e.user("alice@example.com")
	boss, _ := e.user("boss@example.com")
	onTime, late, overdue := e.week10(alice.ID, boss.ID)

	rec := e.do(req{method: "GET", path: "/api/reports/weekly?week=2026-W10", token: aliceTok})
	wantStatus(t, rec, http.StatusOK)
	m := obj(t, rec)
	if got := keys(m); got != "assigned,by_priority,completed,completed_late,completed_on_time,completion_rate,created,cycle_time_hours,delta,message,on_time_rate,open,overdue,period,previous,reopened,started,tasks,user" {
		t.Fatalf("keys = %s", got)
	}
	for k, want := range map[string]any{
		"message": httpport.MsgWeeklyReport, "created": 0.0, "assigned": 3.0, "started": 2.0, "completed": 2.0,
		"completed_on_time": 1.0, "completed_late": 1.0, "open": 1.0, "overdue": 1.0, "on_time_rate": 0.5,
		"completion_rate": 0.6667,
	} {
		if m[k] != want {
			t.Errorf("%s = %v, want %v", k, m[k], want)
		}
	}
	p := m["period"].(map[string]any)
	if p["week"] != "2026-W10" || p["start"] != "2026-03-02T00:00:00Z" || p["end"] != "2026-03-09T00:00:00Z" || p["current"] != false || p["time_zone"] != "UTC" {
		t.Errorf("period = %v", p)
	}
	if u := m["user"].(map[string]any); u["id"] != alice.ID || u["email"] != "alice@example.com" {
		t.Errorf("user = %v", u)
	}
	if d := m["delta"].(map[string]any); d["completed"] != 2.0 || d["completion_rate"] != nil {
		t.Errorf("delta = %v (the previous week had no completion to rate)", d)
	}
	if prev := m["previous"].(map[string]any); prev["completed"] != 0.0 || prev["period"].(map[string]any)["week"] != "2026-W09" {
		t.Errorf("previous = %v", prev)
	}
	if ct := m["cycle_time_hours"].(map[string]any); ct["count"] != 2.0 || ct["mean"] == nil {
		t.Errorf("cycle_time_hours = %v", ct)
	}
	if bp := m["by_priority"].(map[string]any)["medium"].(map[string]any); bp["completed"] != 2.0 {
		t.Errorf("by_priority.medium = %v", bp)
	}
	tasks := m["tasks"].([]any)
	want := map[string]string{onTime.ID(): "completed_on_time", late.ID(): "completed_late", overdue.ID(): "overdue"}
	if len(tasks) != 3 {
		t.Fatalf("tasks = %v", tasks)
	}
	for _, x := range tasks {
		tk := x.(map[string]any)
		id := tk["id"].(string)
		if tk["link"] != "/api/tasks/"+id || !strings.Contains(strings.Join(anyStrings(tk["counted_as"]), ","), want[id]) {
			t.Errorf("task %v, want counted as %s", tk, want[id])
		}
	}

	// The current week by default; a manager reads alice's by e-mail.
	rec = e.do(req{method: "GET", path: "/api/reports/weekly", token: aliceTok})
	wantStatus(t, rec, http.StatusOK)
	if p := obj(t, rec)["period"].(map[string]any); p["week"] != "2026-W11" || p["current"] != true {
		t.Errorf("default period = %v", p)
	}
	_, mgrTok := e.userWithRole("mgr@example.com", "manager")
	rec = e.do(req{method: "GET", path: "/api/reports/monthly?month=2026-03&user=alice@example.com", token: mgrTok})
	wantStatus(t, rec, http.StatusOK)
	if m := obj(t, rec); m["message"] != httpport.MsgMonthlyReport || m["completed"] != 2.0 || m["period"].(map[string]any)["month"] != "2026-03" {
		t.Errorf("monthly = %v", m)
	}
}

func anyStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func (e *env) userWithRole(email, role string) (*fakeUser, string) {
	e.t.Helper()
	u := e.world.add(fakeUser{Email: email, Password: "correct horse battery", Role: role})
	return u, e.token(u)
}

func TestReportPermissionsAndBadParameters(t *testing.T) {
	e := newReportEnv(t)
	alice, aliceTok := e.user("alice@example.com")
	bob, _ := e.user("bob@example.com")
	_, mgrTok := e.userWithRole("mgr@example.com", "manager")
	e.week10(alice.ID, bob.ID)
	cases := []struct {
		name, path, token string
		status            int
		code, field       string
	}{
		{"no token", "/api/reports/weekly", "", 401, "-", "-"},
		{"a member reads another's", "/api/reports/weekly?user=bob@example.com", aliceTok, 403, "report_forbidden", ""},
		{"a member asks for nobody", "/api/reports/weekly?user=nobody@example.com", aliceTok, 403, "report_forbidden", ""},
		{"a member reads by id", "/api/reports/weekly?user=" + bob.ID, aliceTok, 403, "report_forbidden", ""},
		{"a manager asks for nobody", "/api/reports/weekly?user=nobody@example.com", mgrTok, 404, "user_not_found", ""},
		{"an unknown id", "/api/reports/weekly?user=" + uuid.NewString(), mgrTok, 404, "user_not_found", ""},
		{"not a user", "/api/reports/weekly?user=bob", mgrTok, 400, "invalid_user_ref", "user"},
		{"week 54", "/api/reports/weekly?week=2026-W54", aliceTok, 400, "invalid_week", "week"},
		{"week 53 of a short year", "/api/reports/weekly?week=2025-W53", aliceTok, 400, "invalid_week", "week"},
		{"week 00", "/api/reports/weekly?week=2026-W00", aliceTok, 400, "invalid_week", "week"},
		{"week as a date", "/api/reports/weekly?week=2026-03-02", aliceTok, 400, "invalid_week", "week"},
		{"a future week", "/api/reports/weekly?week=2026-W53", aliceTok, 400, "period_in_future", ""},
		{"month 13", "/api/reports/monthly?month=2026-13", aliceTok, 400, "invalid_month", "month"},
		{"month 0", "/api/reports/monthly?month=2026-00", aliceTok, 400, "invalid_month", "month"},
		{"month without a zero", "/api/reports/monthly?month=2026-3", aliceTok, 400, "invalid_month", "month"},
		{"week on the monthly", "/api/reports/monthly?week=2026-W10", aliceTok, 400, "unknown_parameter", "week"},
		{"twice", "/api/reports/weekly?week=2026-W10&week=2026-W09", aliceTok, 400, "duplicate_parameter", "week"},
		{"format xml", "/api/reports/weekly?format=xml", aliceTok, 400, "invalid_format", "format"},
		{"team for a member", "/api/reports/team", aliceTok, 403, "report_forbidden", ""},
		{"another's people for a member", "/api/reports/team?supervisor=bob@example.com", aliceTok, 403, "report_forbidden", ""},
		{"week and month", "/api/reports/team?week=2026-W10&month=2026-03", mgrTok, 400, "ambiguous_period", ""},
		{"team of nobody", "/api/reports/team?supervisor=nobody@example.com", mgrTok, 404, "user_not_found", ""},
		{"everyone's activity for a member", "/api/reports/activity", aliceTok, 403, "report_forbidden", ""},
		{"activity limit", "/api/reports/activity?user=me&limit=0", aliceTok, 400, "invalid_limit", "limit"},
		{"activity range", "/api/reports/activity?user=me&from=2026-03-05&to=2026-03-01", aliceTok, 400, "invalid_range", ""},
		{"activity time", "/api/reports/activity?user=me&from=yesterday", aliceTok, 400, "invalid_time", "from"},
		{"activity cursor", "/api/reports/activity?user=me&cursor=xyz", aliceTok, 400, "invalid_cursor", "cursor"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := e.do(req{method: "GET", path: c.path, token: c.token})
			if c.code == "-" {
				wantStatus(t, rec, c.status)
				return
			}
			wantErr(t, rec, c.status, c.code, c.field)
		})
	}
}

func TestTeamReportJSONAndCSV(t *testing.T) {
	e := newReportEnv(t)
	alice, aliceTok := e.user("alice@example.com")
	boss, bossTok := e.user("boss@example.com")
	_, mgrTok := e.userWithRole("mgr@example.com", "manager")
	e.week10(alice.ID, boss.ID)

	rec := e.do(req{method: "GET", path: "/api/reports/team?week=2026-W10", token: mgrTok})
	wantStatus(t, rec, http.StatusOK)
	m := obj(t, rec)
	rows := m["rows"].([]any)
	if len(rows) != 2 { // alice (PIC) and boss (creator)
		t.Fatalf("rows = %v", rows)
	}
	first := rows[0].(map[string]any)
	if first["user"].(map[string]any)["email"] != "alice@example.com" || first["completed"] != 2.0 || first["delta"].(map[string]any)["completed"] != 2.0 {
		t.Errorf("alice's row = %v", first)
	}
	if tot := m["totals"].(map[string]any); tot["created"] != 3.0 || tot["completed"] != 2.0 || tot["user"] != nil {
		t.Errorf("totals = %v", tot)
	}

	// The boss's people: alice, over the one task the boss supervises.
	rec = e.do(req{method: "GET", path: "/api/reports/team?week=2026-W10&supervisor=me", token: bossTok})
	wantStatus(t, rec, http.StatusOK)
	m = obj(t, rec)
	if rows := m["rows"].([]any); len(rows) != 1 || rows[0].(map[string]any)["completed"] != 1.0 {
		t.Errorf("the boss's people = %v", m["rows"])
	}
	if s := m["supervisor"].(map[string]any); s["id"] != boss.ID {
		t.Errorf("supervisor = %v", s)
	}

	for _, how := range []struct {
		path    string
		headers []string
	}{
		{"/api/reports/team?week=2026-W10&format=csv", nil},
		{"/api/reports/team?week=2026-W10", []string{"Accept", "text/csv"}},
		{"/api/reports/team?week=2026-W10", []string{"Accept", "application/json;q=0.5, text/csv"}},
	} {
		rec := e.raw(how.path, mgrTok, how.headers...)
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/csv; charset=utf-8" {
			t.Fatalf("%s %v: %d %s", how.path, how.headers, rec.Code, rec.Header().Get("Content-Type"))
		}
		if cd := rec.Header().Get("Content-Disposition"); cd != `attachment; filename=team-2026-W10.csv` {
			t.Errorf("Content-Disposition = %q", cd)
		}
		lines, err := csv.NewReader(strings.NewReader(rec.Body.String())).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(lines) != 4 || lines[0][0] != "row" || lines[0][4] != "created" || lines[3][0] != "total" {
			t.Fatalf("CSV = %q", lines)
		}
		if lines[1][2] != "alice@example.com" || lines[1][7] != "2" {
			t.Errorf("alice's CSV line = %q", lines[1])
		}
	}
	// JSON stays the answer when it is preferred, and for errors.
	rec = e.raw("/api/reports/team?week=2026-W10", mgrTok, "Accept", "application/json, text/csv;q=0.5")
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q", ct)
	}
	rec = e.raw("/api/reports/team?week=2026-W99&format=csv", mgrTok)
	if rec.Code != 400 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Errorf("a bad CSV request: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	// A member's own weekly report as CSV.
	rec = e.raw("/api/reports/weekly?week=2026-W10&format=csv", aliceTok)
	lines, err := csv.NewReader(strings.NewReader(rec.Body.String())).ReadAll()
	if err != nil || len(lines) < 2 || strings.Join(lines[0], ",") != "metric,2026-W10,2026-W09,delta" || strings.Join(lines[4], ",") != "completed,2,0,2" {
		t.Errorf("weekly CSV = %q (%v)", lines, err)
	}
}

func TestTaskHistory(t *testing.T) {
	e := newReportEnv(t)
	alice, aliceTok := e.user("alice@example.com")
	boss, _ := e.user("boss@example.com")
	_, mgrTok := e.userWithRole("mgr@example.com", "manager")
	onTime, _, _ := e.week10(alice.ID, boss.ID)

	rec := e.do(req{method: "GET", path: "/api/tasks/" + onTime.ID() + "/history", token: aliceTok})
	wantStatus(t, rec, http.StatusOK)
	m := obj(t, rec)
	if m["message"] != httpport.MsgTaskHistory || m["task_id"] != onTime.ID() || m["deleted"] != false || m["next_after"] != nil {
		t.Errorf("history = %v", m)
	}
	h := m["history"].([]any)
	var events []string
	for _, x := range h {
		events = append(events, x.(map[string]any)["event"].(string))
	}
	if strings.Join(events, ",") != "TaskCreated,TaskStatusChanged,TaskStatusChanged,TaskCompleted" {
		t.Fatalf("events = %v", events)
	}
	start := h[1].(map[string]any)
	if start["sequence"] != 2.0 || start["at"] != "2026-03-02T10:00:00Z" || start["actor"].(map[string]any)["email"] != "alice@example.com" {
		t.Errorf("start = %v", start)
	}
	if c := start["changes"].([]any)[0].(map[string]any); c["field"] != "status" || c["old"] != "waiting" || c["new"] != "in_progress" {
		t.Errorf("start changes = %v", c)
	}
	created := h[0].(map[string]any)
	if created["actor"].(map[string]any)["id"] != boss.ID || len(created["changes"].([]any)) < 3 {
		t.Errorf("created = %v", created)
	}
	// Pages.
	rec = e.do(req{method: "GET", path: "/api/tasks/" + onTime.ID() + "/history?limit=3", token: aliceTok})
	if m := obj(t, rec); len(m["history"].([]any)) != 3 || m["next_after"] != 3.0 {
		t.Errorf("first page = %v", m)
	}
	rec = e.do(req{method: "GET", path: "/api/tasks/" + onTime.ID() + "/history?after=3", token: aliceTok})
	if m := obj(t, rec); len(m["history"].([]any)) != 1 || m["next_after"] != nil {
		t.Errorf("second page = %v", m)
	}

	// Deleted: managers and admins only.
	if err := onTime.Delete(actor.Actor{UserID: boss.ID, Role: "member"}, time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	e.record(onTime, false)
	e.deleted.Store(onTime.ID(), true)
	wantErr(t, e.do(req{method: "GET", path: "/api/tasks/" + onTime.ID() + "/history", token: aliceTok}), 404, "task_not_found", "")
	rec = e.do(req{method: "GET", path: "/api/tasks/" + onTime.ID() + "/history", token: mgrTok})
	wantStatus(t, rec, http.StatusOK)
	if m := obj(t, rec); m["deleted"] != true || len(m["history"].([]any)) != 5 {
		t.Errorf("deleted task's history = %v", m)
	}

	missing := uuid.NewString()
	e.deleted.Store(missing, true)
	wantErr(t, e.do(req{method: "GET", path: "/api/tasks/" + missing + "/history", token: mgrTok}), 404, "task_not_found", "")
	wantErr(t, e.do(req{method: "GET", path: "/api/tasks/not-a-uuid/history", token: aliceTok}), 404, "task_not_found", "")
	wantErr(t, e.do(req{method: "GET", path: "/api/tasks/" + onTime.ID() + "/history?limit=5000", token: mgrTok}), 400, "invalid_limit", "limit")
	wantErr(t, e.do(req{method: "GET", path: "/api/tasks/" + onTime.ID() + "/history?after=-1", token: mgrTok}), 400, "invalid_parameter", "after")
	wantStatus(t, e.do(req{method: "GET", path: "/api/tasks/" + onTime.ID() + "/history"}), 401)
}

func TestActivity(t *testing.T) {
	e := newReportEnv(t)
	alice, aliceTok := e.user("alice@example.com")
	boss, _ := e.user("boss@example.com")
	_, mgrTok := e.userWithRole("mgr@example.com", "manager")
	e.week10(alice.ID, boss.ID)

	rec := e.do(req{method: "GET", path: "/api/reports/activity?user=me&from=2026-03-01&to=2026-03-09&limit=2", token: aliceTok})
	wantStatus(t, rec, http.StatusOK)
	m := obj(t, rec)
	evs := m["events"].([]any)
	if len(evs) != 2 || m["next_cursor"] == nil {
		t.Fatalf("alice's first page = %v", m)
	}
	if ev := evs[0].(map[string]any); ev["actor_id"] != alice.ID || ev["event"] != "TaskStatusChanged" || ev["link"] == nil {
		t.Errorf("first event = %v", ev)
	}
	seen := len(evs)
	for cursor := m["next_cursor"]; cursor != nil; {
		rec = e.do(req{method: "GET", path: "/api/reports/activity?user=me&from=2026-03-01&to=2026-03-09&limit=2&cursor=" + cursor.(string), token: aliceTok})
		m = obj(t, rec)
		seen += len(m["events"].([]any))
		cursor = m["next_cursor"]
	}
	if seen != 5 { // start, status ×2 + completed ×2 of her two completions
		t.Errorf("alice's events = %d, want 5", seen)
	}
	rec = e.do(req{method: "GET", path: "/api/reports/activity?from=2026-03-01&to=2026-03-09", token: mgrTok})
	wantStatus(t, rec, http.StatusOK)
	if n := len(obj(t, rec)["events"].([]any)); n != 8 {
		t.Errorf("everyone's events = %d, want 8", n)
	}
}
