package prometheus

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/taskd/taskd/modules/kernel/decorator"
)

var _ decorator.Metrics = (*Metrics)(nil)

// The metrics the issue promises, with their types and labels. Dashboards and
// alert rules are checked against Exported(); this table checks Exported()
// against the promise.
var promised = []MetricInfo{
	{Name: "taskd_http_requests_total", Type: "counter", Labels: []string{"method", "route", "status"}},
	{Name: "taskd_http_request_duration_seconds", Type: "histogram", Labels: []string{"method", "route"}},
	{Name: "taskd_handler_duration_seconds", Type: "histogram", Labels: []string{"kind", "name"}},
	{Name: "taskd_handler_errors_total", Type: "counter", Labels: []string{"kind", "name"}},
	{Name: "taskd_outbox_backlog", Type: "gauge"},
	{Name: "taskd_outbox_oldest_age_seconds", Type: "gauge"},
	{Name: "taskd_events_relayed_total", Type: "counter"},
	{Name: "taskd_events_consumed_total", Type: "counter", Labels: []string{"event", "group"}},
	{Name: "taskd_events_retries_total", Type: "counter", Labels: []string{"group"}},
	{Name: "taskd_events_dead_lettered_total", Type: "counter", Labels: []string{"queue"}},
	{Name: "taskd_dlq_depth", Type: "gauge", Labels: []string{"queue"}},
	{Name: "taskd_notifications_sent_total", Type: "counter", Labels: []string{"channel"}},
	{Name: "taskd_notifications_failed_total", Type: "counter", Labels: []string{"channel"}},
	{Name: "taskd_projection_lag_seconds", Type: "gauge", Labels: []string{"projection"}},
	{Name: "taskd_reports_served_total", Type: "counter", Labels: []string{"kind"}},
	// Runtime, process and database pool collectors (a sample of each).
	{Name: "go_goroutines", Type: "gauge"},
	{Name: "go_gc_duration_seconds", Type: "summary"},
	{Name: "process_cpu_seconds_total", Type: "counter"},
	{Name: "process_resident_memory_bytes", Type: "gauge"},
	{Name: "go_sql_open_connections", Type: "gauge", Labels: []string{"db_name"}},
	{Name: "go_sql_in_use_connections", Type: "gauge", Labels: []string{"db_name"}},
	{Name: "go_sql_wait_duration_seconds_total", Type: "counter", Labels: []string{"db_name"}},
}

func TestExportedKeepsThePromise(t *testing.T) {
	exported := map[string]MetricInfo{}
	for _, info := range Exported() {
		exported[info.Name] = info
	}
	for _, want := range promised {
		got, ok := exported[want.Name]
		if !ok {
			t.Errorf("%s is not exported", want.Name)
			continue
		}
		if got.Type != want.Type || !slices.Equal(got.Labels, want.Labels) {
			t.Errorf("%s: exported as %s %v, promised %s %v", want.Name, got.Type, got.Labels, want.Type, want.Labels)
		}
	}
	// Every taskd_ family is promised: a new metric gets a line above (and
	// usually a dashboard panel).
	for name := range exported {
		if strings.HasPrefix(name, "taskd_") && !slices.ContainsFunc(promised, func(i MetricInfo) bool { return i.Name == name }) {
			t.Errorf("%s is exported but not in the promised table of this test", name)
		}
	}
}

// Everything a real process exposes through the public methods is covered by
// Exported(), so checks against Exported() are checks against the binary.
func TestExportedCoversWhatTheMethodsProduce(t *testing.T) {
	m := New()
	exerciseAll(m)
	db := openProbeDB(t)
	if err := m.RegisterDB(db, "main"); err != nil {
		t.Fatal(err)
	}
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	exported := map[string]MetricInfo{}
	for _, info := range Exported() {
		exported[info.Name] = info
	}
	for _, f := range families {
		info, ok := exported[f.GetName()]
		if !ok {
			t.Errorf("%s is gathered but missing from Exported()", f.GetName())
			continue
		}
		for _, metric := range f.GetMetric() {
			for _, lp := range metric.GetLabel() {
				if !slices.Contains(info.Labels, lp.GetName()) {
					t.Errorf("%s has label %s, Exported() says %v", f.GetName(), lp.GetName(), info.Labels)
				}
			}
		}
	}
}

func TestHandlerAndEventMetrics(t *testing.T) {
	m := New()
	m.ObserveHandler("command", "CreateTask", 3*time.Millisecond, nil)
	m.ObserveHandler("command", "CreateTask", 2*time.Millisecond, errors.New("boom"))
	m.ObserveHandler("query", "Tasks", time.Millisecond, nil)
	m.SetOutbox(7, 90*time.Second)
	m.EventsRelayed(3)
	m.EventsRelayed(0)
	m.EventConsumed("analytics", "TaskCreated")
	m.EventConsumed("analytics", "TaskCreated")
	m.EventRetried("notifications")
	m.EventDeadLettered("taskd-notifications-dlq")
	m.SetDLQDepth("taskd-notifications-dlq", 2)
	m.NotificationSent("email")
	m.NotificationFailed("sms")
	m.SetProjectionLag("weekly", 1500*time.Millisecond)
	m.ReportServed("weekly")

	reg := m.Registry()
	if n := testutil.CollectAndCount(reg, "taskd_handler_duration_seconds"); n != 2 {
		t.Errorf("handler duration series = %d, want 2 (CreateTask, Tasks)", n)
	}
	checks := []struct {
		name string
		got  float64
		want float64
	}{
		{"handler errors CreateTask", testutil.ToFloat64(m.handlerErrors.WithLabelValues("command", "CreateTask")), 1},
		{"handler errors Tasks", testutil.ToFloat64(m.handlerErrors.WithLabelValues("query", "Tasks")), 0},
		{"outbox backlog", testutil.ToFloat64(m.outboxBacklog), 7},
		{"outbox oldest age", testutil.ToFloat64(m.outboxOldestAge), 90},
		{"events relayed", testutil.ToFloat64(m.eventsRelayed), 3},
		{"events consumed", testutil.ToFloat64(m.eventsConsumed.WithLabelValues("analytics", "TaskCreated")), 2},
		{"retries", testutil.ToFloat64(m.eventsRetries.WithLabelValues("notifications")), 1},
		{"dead lettered", testutil.ToFloat64(m.eventsDeadLettered.WithLabelValues("taskd-notifications-dlq")), 1},
		{"dlq depth", testutil.ToFloat64(m.dlqDepth.WithLabelValues("taskd-notifications-dlq")), 2},
		{"sent", testutil.ToFloat64(m.notificationsSent.WithLabelValues("email")), 1},
		{"failed", testutil.ToFloat64(m.notificationsFailed.WithLabelValues("sms")), 1},
		{"lag", testutil.ToFloat64(m.projectionLag.WithLabelValues("weekly")), 1.5},
		{"reports", testutil.ToFloat64(m.reportsServed.WithLabelValues("weekly")), 1},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestHTTPMiddlewareLabels(t *testing.T) {
	m := New()
	// A stand-in for mux.CurrentRoute(r).GetPathTemplate(): known paths map
	// to templates, anything else matches no route.
	routes := map[string]string{"/api/tasks/42": "/api/tasks/{id}", "/api/tasks": "/api/tasks"}
	routeName := func(r *http.Request) string { return routes[r.URL.Path] }
	h := m.HTTPMiddleware(routeName)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/api/tasks" && r.Method == http.MethodPost:
			w.WriteHeader(http.StatusCreated)
		case routes[r.URL.Path] == "":
			http.NotFound(w, r)
		default:
			_, _ = io.WriteString(w, "ok") // implicit 200
		}
	}))
	do := func(method, path string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	}
	do(http.MethodGet, "/api/tasks/42")
	do(http.MethodGet, "/api/tasks/42")
	do(http.MethodPost, "/api/tasks")
	// A scanner: every path different, none may become a label value.
	for _, p := range []string{"/wp-admin", "/.env", "/a/b/c", "/api/tasks/42/../../etc/passwd"} {
		do(http.MethodGet, p)
	}
	do("BREW", "/api/tasks")

	reqs := func(route, method, status string) float64 {
		return testutil.ToFloat64(m.httpRequests.WithLabelValues(route, method, status))
	}
	if got := reqs("/api/tasks/{id}", "GET", "200"); got != 2 {
		t.Errorf("GET /api/tasks/{id} 200 = %v, want 2", got)
	}
	if got := reqs("/api/tasks", "POST", "201"); got != 1 {
		t.Errorf("POST /api/tasks 201 = %v, want 1", got)
	}
	if got := reqs(UnmatchedRoute, "GET", "404"); got != 4 {
		t.Errorf("unmatched GET 404 = %v, want 4", got)
	}
	if got := reqs("/api/tasks", "OTHER", "200"); got != 1 {
		t.Errorf("BREW /api/tasks = %v, want 1 labelled OTHER", got)
	}
	// Bounded cardinality: 4 series, whatever the scanner tried.
	if n := testutil.CollectAndCount(m.Registry(), "taskd_http_requests_total"); n != 4 {
		t.Errorf("taskd_http_requests_total has %d series, want 4", n)
	}
	if n := testutil.CollectAndCount(m.Registry(), "taskd_http_request_duration_seconds"); n != 4 {
		t.Errorf("duration histogram has %d series, want 4", n)
	}
	out := scrape(t, m)
	for _, raw := range []string{"/wp-admin", "/.env", "passwd", "BREW"} {
		if strings.Contains(out, raw) {
			t.Errorf("/metrics contains the raw value %q", raw)
		}
	}
}

func TestHTTPMiddlewareCountsPanicsAs500(t *testing.T) {
	m := New()
	h := m.HTTPMiddleware(func(*http.Request) string { return "/boom" })(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("boom")
	}))
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic was swallowed; a recoverer outside must still see it")
			}
		}()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/boom", nil))
	}()
	if got := testutil.ToFloat64(m.httpRequests.WithLabelValues("/boom", "GET", "500")); got != 1 {
		t.Errorf("panicking request counted %v times as 500", got)
	}
}

func TestHandlerServesRuntimeAndDBMetrics(t *testing.T) {
	m := New()
	if err := m.RegisterDB(openProbeDB(t), "main"); err != nil {
		t.Fatal(err)
	}
	m.ReportServed("monthly")
	out := scrape(t, m)
	for _, want := range []string{
		"go_goroutines ", "process_cpu_seconds_total ", `go_sql_open_connections{db_name="main"}`,
		`taskd_reports_served_total{kind="monthly"} 1`, "taskd_outbox_backlog 0",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	// Two registries never collide (no global state).
	if err := New().RegisterDB(openProbeDB(t), "main"); err != nil {
		t.Fatal(err)
	}
}

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics answered %d", rec.Code)
	}
	return rec.Body.String()
}

// exerciseAll calls every public recording method once.
func exerciseAll(m *Metrics) {
	m.ObserveHandler("command", "X", time.Millisecond, errors.New("x"))
	m.SetOutbox(1, time.Second)
	m.EventsRelayed(1)
	m.EventConsumed("g", "E")
	m.EventRetried("g")
	m.EventDeadLettered("q")
	m.SetDLQDepth("q", 1)
	m.NotificationSent("c")
	m.NotificationFailed("c")
	m.SetProjectionLag("p", time.Second)
	m.ReportServed("k")
	h := m.HTTPMiddleware(func(*http.Request) string { return "/r" })(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/r", nil))
	_ = m.Handler()
}

func openProbeDB(t *testing.T) *sql.DB {
	t.Helper()
	db := sql.OpenDB(probeConnector{})
	t.Cleanup(func() { _ = db.Close() })
	return db
}

type probeConnector struct{}

func (probeConnector) Connect(context.Context) (driver.Conn, error) {
	return nil, errors.New("probe database")
}
func (probeConnector) Driver() driver.Driver { return nil }
