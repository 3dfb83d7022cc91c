package httpport_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	identityapp "github.com/taskd/taskd/modules/identity/app"
	"github.com/taskd/taskd/modules/kernel/decorator"
	tasksapp "github.com/taskd/taskd/modules/tasks/app"
	taskcommand "github.com/taskd/taskd/modules/tasks/app/command"
	taskquery "github.com/taskd/taskd/modules/tasks/app/query"
	httpport "github.com/taskd/taskd/ports/http"
	"github.com/taskd/taskd/ports/http/auth"
)

var (
	testSecret = []byte("0123456789abcdef0123456789abcdef-test-secret")
	t0         = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
)

const (
	testIssuer   = "taskd-test"
	testAudience = "taskd-api-test"
	jsonCT       = "application/json"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// syncBuffer collects log output from concurrent requests.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is the HTTP port wired to fakes: identity handler fakes over a tiny
// world, the tasks module's real handlers over an in-memory repository.
type env struct {
	t        testing.TB
	clock    *fakeClock
	world    *identityWorld
	idf      *identityFakes
	store    *taskStore
	idem     *memIdempotency
	tokens   *auth.Tokens
	handler  http.Handler
	logs     *syncBuffer
	identity identityapp.Application

	CreateTask       *recCmd[taskcommand.CreateTask]
	UpdateTask       *recCmd[taskcommand.UpdateTask]
	ChangeTaskStatus *recCmd[taskcommand.ChangeTaskStatus]
	DeleteTask       *recCmd[taskcommand.DeleteTask]
	TaskByID         *recQuery[taskquery.TaskByID, taskquery.Task]
	Tasks            *recQuery[taskquery.Tasks, taskquery.Page]
}

type envOption func(*httpport.Config)

func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	clock := &fakeClock{now: t0}
	e := &env{t: t, clock: clock, store: newTaskStore(), idem: newMemIdempotency(), logs: &syncBuffer{}}
	e.world = newIdentityWorld(clock.Now)
	e.idf = e.world.fakes()
	tokens, err := auth.NewTokens(auth.TokensConfig{
		Secret: testSecret, Issuer: testIssuer, Audience: testAudience, AccessTTL: 15 * time.Minute, Clock: clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.tokens = tokens

	discard := slog.New(slog.DiscardHandler)
	m := decorator.NopMetrics{}
	newID := func() string { return uuid.Must(uuid.NewV7()).String() }
	dir := userDirectory{e.world}
	e.CreateTask = &recCmd[taskcommand.CreateTask]{inner: taskcommand.NewCreateTaskHandler(e.store, dir, clock.Now, newID, discard, m)}
	e.UpdateTask = &recCmd[taskcommand.UpdateTask]{inner: taskcommand.NewUpdateTaskHandler(e.store, dir, clock.Now, discard, m)}
	e.ChangeTaskStatus = &recCmd[taskcommand.ChangeTaskStatus]{inner: taskcommand.NewChangeTaskStatusHandler(e.store, clock.Now, discard, m)}
	e.DeleteTask = &recCmd[taskcommand.DeleteTask]{inner: taskcommand.NewDeleteTaskHandler(e.store, clock.Now, discard, m)}
	e.TaskByID = &recQuery[taskquery.TaskByID, taskquery.Task]{inner: taskquery.NewTaskByIDHandler(e.store, discard, m)}
	e.Tasks = &recQuery[taskquery.Tasks, taskquery.Page]{inner: taskquery.NewTasksHandler(e.store, discard, m)}
	tasks := tasksapp.Application{
		Commands: tasksapp.Commands{
			CreateTask: e.CreateTask, UpdateTask: e.UpdateTask, ChangeTaskStatus: e.ChangeTaskStatus, DeleteTask: e.DeleteTask,
		},
		Queries: tasksapp.Queries{TaskByID: e.TaskByID, Tasks: e.Tasks},
	}
	f := e.idf
	e.identity = identityapp.Application{
		Commands: identityapp.Commands{
			SignUp: f.SignUp, StartSession: f.StartSession, RefreshSession: f.RefreshSession, EndSession: f.EndSession,
			UpdateProfile: f.UpdateProfile, ChangePassword: f.ChangePassword, DeleteAccount: f.DeleteAccount,
		},
		Queries: identityapp.Queries{
			Authenticate: f.Authenticate, UserByID: f.UserByID, UsersByIDs: f.UsersByIDs, ResolveUser: f.ResolveUser,
			PrincipalByID: f.PrincipalByID, SessionPrincipal: f.SessionPrincipal, Users: f.Users,
		},
	}
	cfg := httpport.Config{}
	for _, o := range opts {
		o(&cfg)
	}
	logger := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h, err := httpport.NewRouter(httpport.Deps{
		Tasks: tasks, Identity: e.identity, Tokens: tokens, Idempotency: e.idem,
		Clock: clock.Now, NewID: newID, Logger: logger, Config: cfg,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.handler = h
	return e
}

// user adds a user to the identity world and returns it with a token.
func (e *env) user(email string) (*fakeUser, string) {
	e.t.Helper()
	u := e.world.add(fakeUser{Email: email, Password: "correct horse battery"})
	return u, e.token(u)
}

func (e *env) token(u *fakeUser) string {
	e.t.Helper()
	tok, _, err := e.tokens.Issue(u.ID, u.Role, u.TV)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// req is one request; headers are name, value pairs.
type req struct {
	method, path, body string
	token              string
	headers            []string
	noContentType      bool
}

func (e *env) do(r req) *httptest.ResponseRecorder {
	e.t.Helper()
	var body io.Reader = http.NoBody
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr := httptest.NewRequest(r.method, r.path, body)
	if r.body != "" && !r.noContentType {
		hr.Header.Set("Content-Type", jsonCT)
	}
	if r.token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	for i := 0; i+1 < len(r.headers); i += 2 {
		hr.Header.Add(r.headers[i], r.headers[i+1])
	}
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, hr)
	checkShape(e.t, rec)
	return rec
}

// checkShape asserts what holds for every answer: JSON, and an error
// answer is exactly the one error shape.
func checkShape(t testing.TB, rec *httptest.ResponseRecorder) {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type = %q, body %s", ct, rec.Body.String())
	}
	if rec.Code >= 400 {
		var shape struct {
			Error *struct {
				Code    string `json:"code"`
				Message string `json:"message"`
				Field   string `json:"field"`
			} `json:"error"`
		}
		dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&shape); err != nil || shape.Error == nil || shape.Error.Code == "" || shape.Error.Message == "" {
			t.Fatalf("error answer not in the error shape (%v): %s", err, rec.Body.String())
		}
		return
	}
	if !json.Valid(rec.Body.Bytes()) {
		t.Fatalf("answer is not JSON: %q", rec.Body.String())
	}
}

// obj decodes a JSON object answer.
func obj(t testing.TB, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("answer is not a JSON object: %v: %s", err, rec.Body.String())
	}
	return m
}

// wantErr checks status, code and (when not "-") field of an error answer.
func wantErr(t testing.TB, rec *httptest.ResponseRecorder, status int, code, field string) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status = %d, want %d; body %s", rec.Code, status, rec.Body.String())
	}
	e := obj(t, rec)["error"].(map[string]any)
	if e["code"] != code {
		t.Fatalf("code = %v, want %s; body %s", e["code"], code, rec.Body.String())
	}
	if field != "-" {
		got, _ := e["field"].(string)
		if got != field {
			t.Fatalf("field = %q, want %q; body %s", got, field, rec.Body.String())
		}
	}
}

func wantStatus(t testing.TB, rec *httptest.ResponseRecorder, status int) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status = %d, want %d; body %s", rec.Code, status, rec.Body.String())
	}
}

// keys returns the sorted keys of m, to compare answers to the letter.
func keys(m map[string]any) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ",")
}

// createTask creates a task through the API and returns its id.
func (e *env) createTask(token, body string) string {
	e.t.Helper()
	rec := e.do(req{method: "POST", path: "/api/tasks", body: body, token: token})
	wantStatus(e.t, rec, http.StatusCreated)
	return obj(e.t, rec)["Task_id"].(string)
}
