package httpport_test

// docs/openapi.yaml and the router must not drift apart (STYLE.md, Ports):
//
//   - TestOpenAPIDocumentIsValid loads the document with kin-openapi and
//     validates it (OpenAPI 3.1, examples included).
//   - TestOpenAPIDocumentMatchesRouter compares the routes the router answers
//     (httpport.ListRoutes over the real registrars) with the document's
//     operations, method and path template, both ways.
//   - TestOpenAPIExampleAnswers drives the real handler — both modules' real
//     use cases over SQLite in a temp dir — through a scripted walk of every
//     operation and validates each request (openapi3filter.ValidateRequest)
//     and each answer, status, headers and body (ValidateResponse), against
//     the document. A request marked `breaks` must be rejected by the
//     document too, so the document is not looser than the API. The walk must
//     give every operation a validated 2xx answer and hit every documented
//     error status class.
//   - TestOpenAPIValidationCatchesDrift proves the harness bites: with one
//     schema broken on purpose the same answers fail.
//
// A module that adds routes adds its registrar to specStack.registrars, its
// paths to docs/openapi.yaml and a few steps to the walk.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/google/uuid"

	"github.com/taskd/taskd/adapters/sqlite"
	"github.com/taskd/taskd/adapters/sqlstore"
	"github.com/taskd/taskd/modules/identity"
	identityapp "github.com/taskd/taskd/modules/identity/app"
	identityquery "github.com/taskd/taskd/modules/identity/app/query"
	"github.com/taskd/taskd/modules/identity/domain/user"
	"github.com/taskd/taskd/modules/kernel/decorator"
	"github.com/taskd/taskd/modules/kernel/sys"
	"github.com/taskd/taskd/modules/tasks"
	tasksapp "github.com/taskd/taskd/modules/tasks/app"
	taskscommand "github.com/taskd/taskd/modules/tasks/app/command"
	httpport "github.com/taskd/taskd/ports/http"
	"github.com/taskd/taskd/ports/http/auth"
	"github.com/taskd/taskd/ports/http/ratelimit"
)

const specFile = "../../docs/openapi.yaml"

// loadSpec loads and validates the document.
func loadSpec(t testing.TB) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(specFile)
	if err != nil {
		t.Fatalf("loading %s: %v", specFile, err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("%s is OpenAPI %s, want 3.1", specFile, doc.OpenAPI)
	}
	if err := doc.Validate(loader.Context, openapi3.EnableExamplesValidation()); err != nil {
		t.Fatalf("%s is not a valid OpenAPI document: %v", specFile, err)
	}
	return doc
}

// muxVar strips a gorilla/mux variable's pattern: {id:[0-9]+} → {id}.
var muxVar = regexp.MustCompile(`\{([^{}:]+):[^{}]*\}`)

// specOperations lists the document's operations as "METHOD /path".
func specOperations(doc *openapi3.T) []string {
	var out []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, strings.ToUpper(method)+" "+path)
		}
	}
	sort.Strings(out)
	return out
}

func routerOperations(routes []httpport.Route) []string {
	var out []string
	for _, r := range routes {
		out = append(out, strings.ToUpper(r.Method)+" "+muxVar.ReplaceAllString(r.Path, "{$1}"))
	}
	sort.Strings(out)
	return slices.Compact(out)
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	t.Parallel()
	doc := loadSpec(t)
	for _, op := range specOperations(doc) {
		method, path, _ := strings.Cut(op, " ")
		o := doc.Paths.Value(path).GetOperation(method)
		if o.OperationID == "" {
			t.Errorf("%s has no operationId", op)
		}
		if o.Responses.Default() != nil {
			t.Errorf("%s has a default answer: list every status, so an undocumented one fails the walk", op)
		}
	}
}

func TestOpenAPIDocumentMatchesRouter(t *testing.T) {
	t.Parallel()
	doc := loadSpec(t)
	st := newSpecStack(t)
	documented := specOperations(doc)
	routed := routerOperations(httpport.ListRoutes(st.registrars))
	for _, op := range routed {
		if !slices.Contains(documented, op) {
			t.Errorf("the router answers %s, but docs/openapi.yaml does not describe it", op)
		}
	}
	for _, op := range documented {
		if !slices.Contains(routed, op) {
			t.Errorf("docs/openapi.yaml describes %s, but the router does not answer it", op)
		}
	}
}

// ---------------------------------------------------------------- the stack

// specStack is the real HTTP port over both modules' real use cases and the
// SQL adapters on SQLite in a temp dir: answers as the embedded binary gives
// them.
type specStack struct {
	handler       http.Handler
	registrars    []httpport.RouteRegistrar
	notifications specNotifications
	reports       specReports
}

// specUserDirectory and specTaskReleaser are the two bridges cmd/taskd wires
// between the modules (bridges.go).
type specUserDirectory struct{ app identityapp.Application }

func (d specUserDirectory) ResolveUser(ctx context.Context, ref string) (string, error) {
	u, err := d.app.Queries.ResolveUser.Handle(ctx, identityquery.ResolveUser{Ref: ref})
	if errors.Is(err, user.ErrNotFound) {
		return "", taskscommand.ErrUnknownUser
	}
	if err != nil {
		return "", err
	}
	return u.ID, nil
}

type specTaskReleaser struct{ app *tasksapp.Application }

func (r *specTaskReleaser) ReleaseUserTasks(ctx context.Context, userID string) error {
	return r.app.Commands.ReleaseUserTasks.Handle(ctx, taskscommand.ReleaseUserTasks{UserID: userID})
}

// specSignInPerEmail is low so that the walk meets the 429.
const specSignInPerEmail = 3

func newSpecStack(t testing.TB) *specStack {
	t.Helper()
	ctx := context.Background()
	raw, err := sqlite.OpenInDir(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	if _, err := sqlstore.Migrate(ctx, raw, sqlstore.SQLite); err != nil {
		t.Fatal(err)
	}
	db := sqlstore.New(raw, sqlstore.SQLite)
	logger := slog.New(slog.DiscardHandler)
	clock, newID := sys.Clock(sys.SystemClock), sys.IDGenerator(sys.NewUUIDv7)
	metrics := decorator.NopMetrics{}

	releaser := &specTaskReleaser{}
	idApp := identity.NewApplication(identity.Deps{
		Users: sqlstore.NewUserRepository(db, newID), Tokens: sqlstore.NewRefreshTokenStore(db),
		ReadModel: sqlstore.NewUsersReadModel(db), Tx: db, Tasks: releaser, Clock: clock, NewID: newID,
		HashParams: user.HashParams{Time: 1, Memory: 64, Threads: 1}, // cheap: the walk signs in a lot
		Logger:     logger, Metrics: metrics,
	})
	taskApp := tasks.NewApplication(tasks.Deps{
		Repo: sqlstore.NewTaskRepository(db, newID), ReadModel: sqlstore.NewTasksReadModel(db),
		Users: specUserDirectory{idApp}, Clock: clock, NewID: newID, Logger: logger, Metrics: metrics,
	})
	releaser.app = &taskApp

	tokens, err := auth.NewTokens(auth.TokensConfig{
		Secret: []byte("openapi-walk-secret-0123456789abcdef"), Issuer: "taskd", Audience: "taskd-api",
		AccessTTL: 15 * time.Minute, Clock: clock, NewID: newID,
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := httpport.Config{
		SignInPerEmail:   ratelimit.Limit{Events: specSignInPerEmail, Per: time.Minute},
		SignInPerAddress: ratelimit.Limit{Events: 1000, Per: time.Minute},
	}
	authn := httpport.NewAuthenticator(tokens, idApp, cfg, clock)
	ir, err := httpport.NewIdentityRoutes(httpport.IdentityRoutesDeps{
		App: idApp, Tokens: tokens, Auth: authn, Clock: clock, NewID: newID, Config: cfg,
	})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := httpport.NewTaskRoutes(httpport.TaskRoutesDeps{
		App: taskApp, UsersByIDs: idApp.Queries.UsersByIDs, ResolveUser: idApp.Queries.ResolveUser, Auth: authn,
		Idempotency: sqlstore.NewIdempotencyStore(db), Clock: clock, NewID: newID, Config: cfg,
	})
	if err != nil {
		t.Fatal(err)
	}
	nr, notes := newSpecNotifications(t, db, idApp, authn, cfg)
	rr, reps := newSpecReports(t, db, idApp, taskApp, authn)
	// Every module's routes: add new registrars here.
	registrars := append(append([]httpport.RouteRegistrar{ir, tr}, nr...), rr...)
	return &specStack{
		handler:       httpport.NewHandler(httpport.HandlerDeps{Logger: logger, NewID: newID}, registrars),
		registrars:    registrars,
		notifications: notes,
		reports:       reps,
	}
}

// ---------------------------------------------------------------- the walk

// specWalk sends requests to the handler and checks each against the document.
type specWalk struct {
	t       testing.TB
	router  routers.Router
	handler http.Handler
	// covered: operations that gave a validated 2xx; statuses: every status met.
	covered  map[string]bool
	statuses map[int]bool
	// stack is the handler's stack, for steps that reach behind the API.
	stack *specStack
}

func newSpecWalk(t testing.TB, doc *openapi3.T, h http.Handler) *specWalk {
	t.Helper()
	doc.Servers = nil // match paths on any host
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &specWalk{t: t, router: router, handler: h, covered: map[string]bool{}, statuses: map[int]bool{}}
}

// call is one request of the walk.
type call struct {
	name        string
	method      string
	path        string // with the query string
	body        any    // marshalled to JSON; a string or []byte is sent as is
	token       string
	header      map[string]string
	contentType string // default application/json when there is a body
	want        int
	// breaks marks a request the document itself forbids (an unknown field,
	// a wrong type, a value outside an enum, no token…): request validation
	// must reject it, as the API does.
	breaks bool
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("answer is not a JSON object: %v: %s", err, a.body)
	}
	return m
}

func (a answer) str(t testing.TB, key string) string {
	t.Helper()
	s, _ := a.json(t)[key].(string)
	return s
}

func (c call) bodyBytes(t testing.TB) []byte {
	switch b := c.body.(type) {
	case nil:
		return nil
	case string:
		return []byte(b)
	case []byte:
		return b
	default:
		out, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
}

func (c call) request(body []byte) *http.Request {
	var r *http.Request
	if body == nil {
		r = httptest.NewRequest(c.method, c.path, nil)
	} else {
		r = httptest.NewRequest(c.method, c.path, bytes.NewReader(body))
		ct := c.contentType
		if ct == "" {
			ct = "application/json"
		}
		r.Header.Set("Content-Type", ct)
	}
	if c.token != "" {
		r.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range c.header {
		r.Header.Set(k, v)
	}
	return r
}

// bearerPresent is the request validator's view of security: a request to
// a secured operation must carry a Bearer token (the API checks the rest).
func bearerPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	h := in.RequestValidationInput.Request.Header.Get("Authorization")
	if tok, ok := strings.CutPrefix(h, "Bearer "); !ok || strings.TrimSpace(tok) == "" {
		return errors.New("no Bearer token")
	}
	return nil
}

// do sends c, checks the status, and validates request and answer against
// the document.
func (w *specWalk) do(c call) answer {
	w.t.Helper()
	body := c.bodyBytes(w.t)
	label := fmt.Sprintf("%s (%s %s)", c.name, c.method, c.path)

	// The request, as the document sees it.
	vr := c.request(body)
	route, params, err := w.router.FindRoute(vr)
	if err != nil {
		w.t.Fatalf("%s: the document has no operation for it: %v", label, err)
	}
	in := &openapi3filter.RequestValidationInput{
		Request: vr, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: bearerPresent},
	}
	reqErr := openapi3filter.ValidateRequest(context.Background(), in)
	switch {
	case !c.breaks && reqErr != nil:
		w.failf("%s: the document rejects this request, the API takes it: %v", label, reqErr)
	case c.breaks && reqErr == nil:
		w.failf("%s: the document accepts this request, the API rejects it (%d)", label, c.want)
	}

	// The answer of the real handler.
	rec := httptest.NewRecorder()
	w.handler.ServeHTTP(rec, c.request(body))
	a := answer{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	if a.status != c.want {
		w.t.Fatalf("%s: status %d, want %d: %s", label, a.status, c.want, a.body)
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: a.status, Header: a.header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}
	out.SetBodyBytes(a.body)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		w.failf("%s: the answer does not match the document: %v\nanswer: %d %s", label, err, a.status, a.body)
	} else if a.status < 300 {
		w.covered[strings.ToUpper(c.method)+" "+route.Path] = true
	}
	w.statuses[a.status] = true
	return a
}

func (w *specWalk) failf(format string, args ...any) {
	w.t.Helper()
	w.t.Errorf(format, args...)
}

// ---------------------------------------------------------------- the script

const specPassword = "correct horse battery"

// walkSession is a signed-in user of the walk.
type walkSession struct {
	email, id, access, refresh string
}

// specScript walks every operation: the seed's table first, then the
// extensions and the error answers of each status class.
func specScript(t testing.TB, w *specWalk) {
	w.do(call{name: "health", method: "GET", path: "/healthz", want: 200})
	w.do(call{name: "health head", method: "HEAD", path: "/healthz", want: 200})

	// --- identity
	suffix := strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	email := func(name string) string { return name + "-" + suffix + "@example.com" }
	signUp := func(name string) string {
		a := w.do(call{name: "sign up " + name, method: "POST", path: "/api/sign_up", want: 201,
			body: map[string]any{"email": strings.ToUpper(email(name)), "password": specPassword, "name": name, "phone": "+821012345678"}})
		if got := a.str(t, "email"); got != email(name) {
			t.Fatalf("sign-up answers e-mail %q, want the normalised %q", got, email(name))
		}
		if a.header.Get("Location") != "/api/users/me" {
			t.Errorf("sign-up Location = %q", a.header.Get("Location"))
		}
		return a.str(t, "User_id")
	}
	ids := map[string]string{}
	for _, n := range []string{"alice", "bob", "carol", "dave"} {
		ids[n] = signUp(n)
	}
	w.do(call{name: "sign up twice", method: "POST", path: "/api/sign_up", want: 409,
		body: map[string]any{"email": email("alice"), "password": specPassword, "name": "Alice"}})
	w.do(call{name: "password is the e-mail", method: "POST", path: "/api/sign_up", want: 422,
		body: map[string]any{"email": email("eve"), "password": email("eve"), "name": "Eve"}})
	w.do(call{name: "short password", method: "POST", path: "/api/sign_up", want: 422, breaks: true,
		body: map[string]any{"email": email("eve"), "password": "short", "name": "Eve"}})
	w.do(call{name: "bad phone", method: "POST", path: "/api/sign_up", want: 422, breaks: true,
		body: map[string]any{"email": email("eve"), "password": specPassword, "name": "Eve", "phone": "010-1234"}})
	w.do(call{name: "unknown field", method: "POST", path: "/api/sign_up", want: 400, breaks: true,
		body: map[string]any{"email": email("eve"), "password": specPassword, "name": "Eve", "Email": "x"}})
	w.do(call{name: "malformed JSON", method: "POST", path: "/api/sign_up", want: 400, breaks: true, body: `{"email":`})
	w.do(call{name: "not JSON", method: "POST", path: "/api/sign_up", want: 415, breaks: true,
		body: `email=eve`, contentType: "application/x-www-form-urlencoded"})

	signIn := func(method, name string) walkSession {
		a := w.do(call{name: "sign in " + name, method: method, path: "/api/sign_in", want: 200,
			body: map[string]any{"email": email(name), "password": specPassword}})
		return walkSession{email: email(name), id: ids[name], access: a.str(t, "access_token"), refresh: a.str(t, "refresh_token")}
	}
	alice := signIn("GET", "alice") // the seed's GET with a JSON body
	bob := signIn("POST", "bob")
	carol := signIn("GET", "carol")
	dave := signIn("POST", "dave")

	w.do(call{name: "wrong password", method: "GET", path: "/api/sign_in", want: 401,
		body: map[string]any{"email": email("alice"), "password": "not the password"}})
	w.do(call{name: "sign in without body", method: "POST", path: "/api/sign_in", want: 400, breaks: true})
	for i := 0; i < specSignInPerEmail; i++ {
		w.do(call{name: "throttled attempt", method: "POST", path: "/api/sign_in", want: 401,
			body: map[string]any{"email": email("ghost"), "password": specPassword}})
	}
	w.do(call{name: "one attempt too many", method: "POST", path: "/api/sign_in", want: 429,
		body: map[string]any{"email": email("ghost"), "password": specPassword}})

	w.do(call{name: "refresh", method: "POST", path: "/api/token/refresh", want: 200,
		body: map[string]any{"refresh_token": alice.refresh}})
	w.do(call{name: "refresh token spent", method: "POST", path: "/api/token/refresh", want: 401,
		body: map[string]any{"refresh_token": alice.refresh}})
	w.do(call{name: "sign out", method: "POST", path: "/api/sign_out", want: 200,
		body: map[string]any{"refresh_token": bob.refresh}})
	w.do(call{name: "sign out with an empty token", method: "POST", path: "/api/sign_out", want: 401, breaks: true,
		body: map[string]any{"refresh_token": ""}})

	w.do(call{name: "me", method: "GET", path: "/api/users/me", token: alice.access, want: 200})
	w.do(call{name: "me without a token", method: "GET", path: "/api/users/me", want: 401, breaks: true})
	w.do(call{name: "me with a forged token", method: "GET", path: "/api/users/me", token: "e30.e30.c2ln", want: 401})
	w.do(call{name: "update me", method: "PATCH", path: "/api/users/me", token: alice.access, want: 200,
		body: map[string]any{"name": "Alice Kim", "phone": nil, "locale": "en", "notification_preferences": map[string]any{"email": true}}})
	w.do(call{name: "update me: bad locale", method: "PATCH", path: "/api/users/me", token: alice.access, want: 422, breaks: true,
		body: map[string]any{"locale": "fr"}})
	w.do(call{name: "update me: null name", method: "PATCH", path: "/api/users/me", token: alice.access, want: 400, breaks: true,
		body: map[string]any{"name": nil}})

	w.do(call{name: "change password: wrong old", method: "PUT", path: "/api/users/me/password", token: carol.access, want: 401,
		body: map[string]any{"old_password": "not the password", "new_password": "another long passphrase"}})
	w.do(call{name: "change password: too short", method: "PUT", path: "/api/users/me/password", token: carol.access, want: 422, breaks: true,
		body: map[string]any{"old_password": specPassword, "new_password": "short"}})
	w.do(call{name: "change password", method: "PUT", path: "/api/users/me/password", token: carol.access, want: 200,
		body: map[string]any{"old_password": specPassword, "new_password": "another long passphrase"}})
	w.do(call{name: "old token after a password change", method: "GET", path: "/api/users/me", token: carol.access, want: 401})
	a := w.do(call{name: "sign in with the new password", method: "POST", path: "/api/sign_in", want: 200,
		body: map[string]any{"email": email("carol"), "password": "another long passphrase"}})
	carol.access = a.str(t, "access_token")

	w.do(call{name: "search users", method: "GET", path: "/api/users?q=" + suffix + "&limit=5", token: bob.access, want: 200})
	w.do(call{name: "search users: limit 0", method: "GET", path: "/api/users?limit=0", token: bob.access, want: 422, breaks: true})
	w.do(call{name: "search users: unknown parameter", method: "GET", path: "/api/users?name=x", token: bob.access, want: 400})

	// --- tasks: the seed's table
	a = w.do(call{name: "create (seed)", method: "POST", path: "/api/tasks", token: alice.access, want: 201,
		body: map[string]any{"Task_name": "Write the Q4 report", "Task_contents": "numbers + summary", "Task_status": "대기 중",
			"Deadline": "2026-12-01", "PIC": bob.email, "Supervisor": alice.email}})
	taskID := a.str(t, "Task_id")
	if a.header.Get("Location") != "/api/tasks/"+taskID {
		t.Errorf("create Location = %q", a.header.Get("Location"))
	}
	task := "/api/tasks/" + taskID
	w.do(call{name: "list (seed)", method: "GET", path: "/api/tasks", token: alice.access, want: 200})
	a = w.do(call{name: "get", method: "GET", path: task, token: bob.access, want: 200})
	if a.header.Get("ETag") != `"1"` {
		t.Errorf("ETag of a new task = %q", a.header.Get("ETag"))
	}
	a = w.do(call{name: "update → in_progress (seed)", method: "PUT", path: task, token: bob.access, want: 200,
		header: map[string]string{"If-Match": `"1"`}, body: map[string]any{"Task_status": "진행 중", "Task_contents": "numbers + summary + charts"}})
	if a.header.Get("ETag") != `"2"` {
		t.Errorf("ETag after an update = %q", a.header.Get("ETag"))
	}
	w.do(call{name: "stale If-Match", method: "PUT", path: task, token: bob.access, want: 412,
		header: map[string]string{"If-Match": `"1"`}, body: map[string]any{"Task_status": "done"}})
	w.do(call{name: "weak If-Match", method: "PUT", path: task, token: bob.access, want: 400, breaks: true,
		header: map[string]string{"If-Match": `W/"2"`}, body: map[string]any{"Task_status": "done"}})
	w.do(call{name: "update by a stranger", method: "PUT", path: task, token: carol.access, want: 403,
		body: map[string]any{"Task_status": "done"}})
	w.do(call{name: "update → done (seed)", method: "PUT", path: task, token: bob.access, want: 200,
		body: map[string]any{"Task_status": "완료"}})
	w.do(call{name: "done → waiting", method: "PUT", path: task, token: bob.access, want: 422,
		body: map[string]any{"Task_status": "waiting"}})
	w.do(call{name: "update: null name", method: "PUT", path: task, token: bob.access, want: 400, breaks: true,
		body: map[string]any{"Task_name": nil}})
	w.do(call{name: "update: unknown PIC", method: "PUT", path: task, token: alice.access, want: 422,
		body: map[string]any{"PIC": email("nobody")}})
	w.do(call{name: "update: clear and reassign", method: "PUT", path: task, token: alice.access, want: 200,
		body: map[string]any{"Task_priority": "urgent", "Deadline": nil, "PIC": nil, "Supervisor": ids["carol"]}})
	w.do(call{name: "update: bad deadline", method: "PUT", path: task, token: alice.access, want: 422, breaks: true,
		body: map[string]any{"Deadline": "next friday"}})
	w.do(call{name: "update a missing task", method: "PUT", path: "/api/tasks/" + uuid.NewString(), token: alice.access, want: 404,
		body: map[string]any{"Task_status": "done"}})

	// --- tasks: status changes
	a = w.do(call{name: "reopen", method: "POST", path: task + "/status", token: alice.access, want: 200,
		header: map[string]string{"If-Match": "*"}, body: map[string]any{"Task_status": "in_progress"}})
	if a.str(t, "Task_status") != "in_progress" {
		t.Errorf("reopen answered %s", a.body)
	}
	w.do(call{name: "status by a stranger", method: "POST", path: task + "/status", token: bob.access, want: 403,
		body: map[string]any{"Task_status": "done"}})
	w.do(call{name: "status: unknown value", method: "POST", path: task + "/status", token: alice.access, want: 422, breaks: true,
		body: map[string]any{"Task_status": "paused"}})
	w.do(call{name: "status: stale", method: "POST", path: task + "/status", token: alice.access, want: 412,
		header: map[string]string{"If-Match": "1"}, body: map[string]any{"Task_status": "done"}})

	// --- tasks: create extensions and bad input
	keyed := map[string]any{"Task_name": "Keyed", "Task_priority": "high", "Deadline": "2026-12-01T18:00:00+09:00", "PIC": ids["bob"]}
	first := w.do(call{name: "create with a key", method: "POST", path: "/api/tasks", token: alice.access, want: 201,
		header: map[string]string{"Idempotency-Key": "walk-" + suffix}, body: keyed})
	again := w.do(call{name: "create with the key again", method: "POST", path: "/api/tasks", token: alice.access, want: 201,
		header: map[string]string{"Idempotency-Key": "walk-" + suffix}, body: keyed})
	if again.header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(first.body, again.body) {
		t.Errorf("a repeated key answered %s %v, want the first answer %s", again.body, again.header, first.body)
	}
	w.do(call{name: "key reused with another body", method: "POST", path: "/api/tasks", token: alice.access, want: 422,
		header: map[string]string{"Idempotency-Key": "walk-" + suffix}, body: map[string]any{"Task_name": "Other"}})
	w.do(call{name: "bad key", method: "POST", path: "/api/tasks", token: alice.access, want: 400, breaks: true,
		header: map[string]string{"Idempotency-Key": "has space"}, body: map[string]any{"Task_name": "x"}})
	w.do(call{name: "create: unknown PIC", method: "POST", path: "/api/tasks", token: alice.access, want: 422,
		body: map[string]any{"Task_name": "x", "PIC": email("nobody")}})
	w.do(call{name: "create: no name", method: "POST", path: "/api/tasks", token: alice.access, want: 422, breaks: true,
		body: map[string]any{"Task_contents": "x"}})
	w.do(call{name: "create: bad status", method: "POST", path: "/api/tasks", token: alice.access, want: 422, breaks: true,
		body: map[string]any{"Task_name": "x", "Task_status": "paused"}})
	w.do(call{name: "create: wrong type", method: "POST", path: "/api/tasks", token: alice.access, want: 400, breaks: true,
		body: map[string]any{"Task_name": 5}})
	w.do(call{name: "create: 1 MiB body", method: "POST", path: "/api/tasks", token: alice.access, want: 413, breaks: true,
		body: map[string]any{"Task_name": strings.Repeat("a", 1<<20)}})
	w.do(call{name: "create: text body", method: "POST", path: "/api/tasks", token: alice.access, want: 415, breaks: true,
		body: "Task_name=x", contentType: "text/plain"})
	w.do(call{name: "create without a token", method: "POST", path: "/api/tasks", want: 401, breaks: true,
		body: map[string]any{"Task_name": "x"}})

	// --- tasks: list queries
	w.do(call{name: "list: assigned to me", method: "GET", path: "/api/tasks?pic=me", token: bob.access, want: 200})
	page := url.Values{"creator": {alice.email}, "sort": {"priority"}, "limit": {"1"}, "q": {"E"}}
	a = w.do(call{name: "list: first page", method: "GET", path: "/api/tasks?" + page.Encode(), token: bob.access, want: 200})
	cur, _ := a.json(t)["next_cursor"].(string)
	if cur == "" {
		t.Fatalf("a page of 1 of 2 tasks has no next_cursor: %s", a.body)
	}
	page.Set("cursor", cur)
	w.do(call{name: "list: next page", method: "GET", path: "/api/tasks?" + page.Encode(), token: bob.access, want: 200})
	w.do(call{name: "list: status and due", method: "GET", path: "/api/tasks?" + url.Values{
		"status": {"대기 중"}, "priority": {"high"}, "due_after": {"2026-01-01"}, "pic": {bob.id},
	}.Encode(), token: bob.access, want: 200})
	w.do(call{name: "list: supervised by me, due before", method: "GET", path: "/api/tasks?supervisor=me&due_before=2030-01-01T00:00:00Z&sort=-updated",
		token: carol.access, want: 200})
	w.do(call{name: "list: bad status", method: "GET", path: "/api/tasks?status=paused", token: bob.access, want: 422, breaks: true})
	w.do(call{name: "list: limit too big", method: "GET", path: "/api/tasks?limit=500", token: bob.access, want: 422, breaks: true})
	w.do(call{name: "list: bad sort", method: "GET", path: "/api/tasks?sort=name", token: bob.access, want: 422, breaks: true})
	w.do(call{name: "list: bad date", method: "GET", path: "/api/tasks?due_before=tomorrow", token: bob.access, want: 422, breaks: true})
	w.do(call{name: "list: unknown e-mail", method: "GET", path: "/api/tasks?pic=" + url.QueryEscape(email("nobody")), token: bob.access, want: 404})
	w.do(call{name: "list: bad user ref", method: "GET", path: "/api/tasks?pic=bob", token: bob.access, want: 400})
	w.do(call{name: "list: bad cursor", method: "GET", path: "/api/tasks?cursor=garbage", token: bob.access, want: 400})
	w.do(call{name: "list: repeated parameter", method: "GET", path: "/api/tasks?pic=me&pic=me", token: bob.access, want: 400})

	// --- tasks: delete (seed)
	w.do(call{name: "delete by a stranger", method: "DELETE", path: task, token: bob.access, want: 403})
	w.do(call{name: "delete: other Task_id", method: "DELETE", path: task, token: alice.access, want: 400,
		body: map[string]any{"Task_id": uuid.NewString()}})
	w.do(call{name: "delete: stale", method: "DELETE", path: task, token: alice.access, want: 412,
		header: map[string]string{"If-Match": `"1"`}})
	a = w.do(call{name: "delete (seed)", method: "DELETE", path: task, token: alice.access, want: 200,
		body: map[string]any{"Task_id": taskID}})
	if a.str(t, "Task_name") != "Write the Q4 report" || a.str(t, "Task_id") != taskID {
		t.Errorf("delete answered %s", a.body)
	}
	w.do(call{name: "get a deleted task", method: "GET", path: task, token: alice.access, want: 404})
	w.do(call{name: "delete again", method: "DELETE", path: task, token: alice.access, want: 404})

	// --- notifications (notification_openapi_test.go)
	specNotificationSteps(t, w, alice, bob)

	// --- history and reports (report_openapi_test.go)
	specReportSteps(t, w, bob, taskID)

	// --- account deletion
	w.do(call{name: "delete me: wrong password", method: "DELETE", path: "/api/users/me", token: dave.access, want: 401,
		body: map[string]any{"password": "not the password"}})
	w.do(call{name: "delete me: no body", method: "DELETE", path: "/api/users/me", token: dave.access, want: 400, breaks: true})
	w.do(call{name: "delete me", method: "DELETE", path: "/api/users/me", token: dave.access, want: 200,
		body: map[string]any{"password": specPassword}})
	w.do(call{name: "a deleted user's token", method: "GET", path: "/api/users/me", token: dave.access, want: 401})
}

func TestOpenAPIExampleAnswers(t *testing.T) {
	t.Parallel()
	doc := loadSpec(t)
	st := newSpecStack(t)
	w := newSpecWalk(t, doc, st.handler)
	w.stack = st
	specScript(t, w)

	for _, op := range specOperations(doc) {
		if !w.covered[op] {
			t.Errorf("no validated 2xx answer of %s in the walk: add a step", op)
		}
	}
	for _, s := range []int{400, 401, 403, 404, 409, 412, 413, 415, 422, 429} {
		if !w.statuses[s] {
			t.Errorf("the walk met no %d answer", s)
		}
	}
}

// TestOpenAPIValidationCatchesDrift breaks the document the way drift would
// (a field the handler sends is no longer described; a message changed) and
// expects the walk to notice.
func TestOpenAPIValidationCatchesDrift(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		wantStep string // the step that must fail
		breakDoc func(*openapi3.T)
	}{
		{"undocumented field", "get (GET", func(doc *openapi3.T) {
			s := doc.Components.Schemas["Task"].Value
			delete(s.Properties, "Version")
			s.Required = slices.DeleteFunc(s.Required, func(r string) bool { return r == "Version" })
		}},
		{"changed message", "create (POST", func(doc *openapi3.T) {
			doc.Components.Schemas["TaskCreatedResponse"].Value.Properties["message"].Value.Const = "작업이 생성되었습니다."
		}},
		{"undocumented status", "get a missing task", func(doc *openapi3.T) {
			doc.Paths.Value("/api/tasks/{id}").Get.Responses.Delete("404")
		}},
		{"looser request", "create: wrong type", func(doc *openapi3.T) {
			doc.Components.Schemas["TaskName"].Value.Type = &openapi3.Types{"string", "integer"}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			doc := loadSpec(t)
			c.breakDoc(doc)
			st := newSpecStack(t)
			rec := &recordingTB{TB: t}
			w := newSpecWalk(rec, doc, st.handler)
			w.do(call{name: "sign up", method: "POST", path: "/api/sign_up", want: 201,
				body: map[string]any{"email": "drift@example.com", "password": specPassword, "name": "Drift"}})
			a := w.do(call{name: "sign in", method: "POST", path: "/api/sign_in", want: 200,
				body: map[string]any{"email": "drift@example.com", "password": specPassword}})
			token := a.str(t, "access_token")
			a = w.do(call{name: "create", method: "POST", path: "/api/tasks", token: token, want: 201, body: map[string]any{"Task_name": "x"}})
			w.do(call{name: "get", method: "GET", path: "/api/tasks/" + a.str(t, "Task_id"), token: token, want: 200})
			w.do(call{name: "get a missing task", method: "GET", path: "/api/tasks/" + uuid.NewString(), token: token, want: 404})
			w.do(call{name: "create: wrong type", method: "POST", path: "/api/tasks", token: token, want: 400, breaks: true,
				body: map[string]any{"Task_name": 5}})
			if len(rec.errors) == 0 {
				t.Fatal("the broken document still validated every request and answer")
			}
			for _, e := range rec.errors {
				if !strings.HasPrefix(e, c.wantStep) {
					t.Errorf("unexpected failure: %.300s", e)
				}
			}
		})
	}
}

// recordingTB swallows Errorf, so a test can expect validation failures.
type recordingTB struct {
	testing.TB
	errors []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
