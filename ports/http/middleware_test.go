package httpport_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/mux"

	httpport "github.com/taskd/taskd/ports/http"
)

func TestRequestID(t *testing.T) {
	e := newEnv(t)
	rec := e.do(req{method: "GET", path: "/healthz", headers: []string{"X-Request-ID", "abc-123"}})
	if rec.Header().Get("X-Request-ID") != "abc-123" {
		t.Fatalf("X-Request-ID = %q", rec.Header().Get("X-Request-ID"))
	}
	for _, bad := range []string{"", "has space", strings.Repeat("x", 200), "<script>"} {
		rec := e.do(req{method: "GET", path: "/healthz", headers: []string{"X-Request-ID", bad}})
		got := rec.Header().Get("X-Request-ID")
		if got == "" || got == bad {
			t.Fatalf("request id %q for %q", got, bad)
		}
	}
}

func TestAccessLog(t *testing.T) {
	e := newEnv(t)
	u, tok := e.user("kim@example.com")
	id := e.createTask(tok, `{"Task_name":"secret task name","Task_contents":"private contents"}`)
	e.do(req{method: "GET", path: "/api/tasks/" + id, token: tok, headers: []string{"X-Request-ID", "req-42"}})
	e.do(req{method: "POST", path: "/api/sign_in", body: `{"email":"kim@example.com","password":"correct horse battery"}`})

	var found bool
	for _, line := range strings.Split(strings.TrimSpace(e.logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if m["msg"] == "http request" && m["request_id"] == "req-42" {
			found = true
			if m["method"] != "GET" || m["route"] != "/api/tasks/{id}" || m["status"] != float64(200) || m["user_id"] != u.ID || m["duration"] == nil {
				t.Fatalf("access log %v", m)
			}
		}
	}
	if !found {
		t.Fatalf("no access log line: %s", e.logs.String())
	}
	logs := e.logs.String()
	for _, secret := range []string{tok, "secret task name", "private contents", "correct horse battery", "refresh_token", id} {
		if strings.Contains(logs, secret) {
			t.Fatalf("log holds %q", secret)
		}
	}
}

func TestCommonAnswers(t *testing.T) {
	e := newEnv(t)
	rec := e.do(req{method: "GET", path: "/healthz"})
	wantStatus(t, rec, 200)
	for h, want := range map[string]string{
		"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
		"Cache-Control": "no-store", "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
	} {
		if got := rec.Header().Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	wantErr(t, e.do(req{method: "GET", path: "/api/nothing"}), 404, "not_found", "")
	wantErr(t, e.do(req{method: "GET", path: "/"}), 404, "not_found", "")
	wantErr(t, e.do(req{method: "PATCH", path: "/api/tasks"}), 405, "method_not_allowed", "")
	wantErr(t, e.do(req{method: "DELETE", path: "/api/sign_up"}), 405, "method_not_allowed", "")
}

func TestPanicRecovery(t *testing.T) {
	logs := &syncBuffer{}
	h := httpport.NewHandler(httpport.HandlerDeps{Logger: slog.New(slog.NewJSONHandler(logs, nil))},
		[]httpport.RouteRegistrar{httpport.RouteRegistrarFunc(func(r *mux.Router) {
			r.HandleFunc("/api/boom", func(http.ResponseWriter, *http.Request) { panic("kaboom") })
		})})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/boom", nil))
	checkShape(t, rec)
	wantErr(t, rec, 500, "internal", "")
	if strings.Contains(rec.Body.String(), "kaboom") || !strings.Contains(logs.String(), "kaboom") {
		t.Fatalf("panic must be logged, not sent: %s", rec.Body.String())
	}
	if !strings.Contains(logs.String(), `"status":500`) {
		t.Fatalf("access log misses the 500: %s", logs.String())
	}
}

func TestFallbackServesOutsideAPI(t *testing.T) {
	web := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"web":true}`))
	})
	h := httpport.NewHandler(httpport.HandlerDeps{Fallback: web}, nil)
	for path, want := range map[string]int{"/": 200, "/index.html": 200, "/api/nope": 404, "/api": 404} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != want {
			t.Fatalf("%s: %d", path, rec.Code)
		}
	}
}

func TestListRoutes(t *testing.T) {
	e := newEnv(t)
	authn := httpport.NewAuthenticator(e.tokens, e.identity, httpport.Config{}, e.clock.Now)
	ir, err := httpport.NewIdentityRoutes(httpport.IdentityRoutesDeps{App: e.identity, Tokens: e.tokens, Auth: authn})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range httpport.ListRoutes([]httpport.RouteRegistrar{ir}) {
		got = append(got, r.Method+" "+r.Path)
	}
	want := "GET /healthz,HEAD /healthz,POST /api/sign_up,GET /api/sign_in,POST /api/sign_in,POST /api/token/refresh,POST /api/sign_out," +
		"GET /api/users/me,PATCH /api/users/me,DELETE /api/users/me,PUT /api/users/me/password,GET /api/users"
	if strings.Join(got, ",") != want {
		t.Fatalf("routes\n got %s\nwant %s", strings.Join(got, ","), want)
	}
}

func TestConstructorsReportMissingDeps(t *testing.T) {
	_, err := httpport.NewTaskRoutes(httpport.TaskRoutesDeps{})
	if err == nil || !strings.Contains(err.Error(), "CreateTask") || !strings.Contains(err.Error(), "Idempotency") {
		t.Fatalf("err = %v", err)
	}
	_, err = httpport.NewIdentityRoutes(httpport.IdentityRoutesDeps{})
	if err == nil || !strings.Contains(err.Error(), "SignUp") {
		t.Fatalf("err = %v", err)
	}
	if _, err := httpport.NewRouter(httpport.Deps{}); err == nil {
		t.Fatal("NewRouter without deps")
	}
}
