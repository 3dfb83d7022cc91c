// Package httpport is the driving HTTP side of taskd: the REST API on
// gorilla/mux. Each module contributes its routes through a RouteRegistrar
// (IdentityRoutes, TaskRoutes); NewHandler collects them behind the common
// middleware (request id, access log, security headers, panic recovery).
//
// Every handler has one shape: the actor from the context (auth
// middleware) → strict decoding (httpio) → a command or query of the module
// → httpio.Error, the one error mapper → render.
//
// Decisions where the contract is silent:
//   - A task id in the path that is not a UUID is 404 task_not_found.
//   - List filters pic, supervisor, creator take me, a user id (used as is,
//     so a deleted creator's tasks can still be listed) or an e-mail; an
//     e-mail naming no user is 404 user_not_found, anything else 400
//     invalid_user_ref. An empty query value means "not given".
//   - due_before / due_after take RFC 3339 or a date; a date is the start of
//     that day in UTC (a date deadline is the end of its day, so
//     due_after=D includes tasks due on D and due_before=D excludes them).
//   - PUT: null or "" clears Deadline, PIC, Supervisor and Task_contents;
//     null for Task_name, Task_status or Task_priority is 400 invalid_type.
//   - If-Match takes one version, quoted or bare, or *; weak tags and lists
//     are 400 invalid_if_match; a stale one is 412 version_mismatch.
//   - Idempotency-Key (POST /api/tasks only): the request hash is SHA-256 of
//     the route and the exact body bytes; only 201 answers are remembered;
//     the task id is UUIDv5(user, key, hash). Sign-up has none: a repeated
//     sign-up is a 409, and hashing a body holding a password is avoided.
//   - Sign-out needs only the refresh token (the credential it revokes).
//   - A body may come without Content-Type (curl -d); another media type is
//     415 unsupported_media_type. Keys must match exactly (encoding/json's
//     case-insensitive matching is not used) and appear once.
package httpport

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	identityapp "github.com/taskd/taskd/modules/identity/app"
	tasksapp "github.com/taskd/taskd/modules/tasks/app"
	"github.com/taskd/taskd/ports/http/auth"
	"github.com/taskd/taskd/ports/http/httpio"
	"github.com/taskd/taskd/ports/http/ratelimit"
)

// RouteRegistrar is what a module's HTTP routes implement. The composition
// root collects them (an fx value group, e.g. `group:"routes"`) and hands
// the slice to NewHandler.
type RouteRegistrar interface {
	RegisterRoutes(r *mux.Router)
}

// RouteRegistrarFunc adapts a function to RouteRegistrar.
type RouteRegistrarFunc func(r *mux.Router)

func (f RouteRegistrarFunc) RegisterRoutes(r *mux.Router) { f(r) }

// Config is the HTTP port's configuration. Zero fields take the defaults.
// (Access-token lifetime, issuer, audience and secret configure auth.Tokens.)
type Config struct {
	// RefreshTokenTTL is the lifetime of a refresh token (default 30 days).
	RefreshTokenTTL time.Duration
	// PrincipalCacheTTL caches each user's existence and token version in the
	// auth middleware (default and maximum 2 s; negative disables).
	PrincipalCacheTTL time.Duration
	// SignInPerEmail and SignInPerAddress limit sign-in attempts (defaults
	// 5 and 20 per minute; a negative Events disables the limit).
	SignInPerEmail   ratelimit.Limit
	SignInPerAddress ratelimit.Limit
	// TrustForwardedFor takes the client address from the last
	// X-Forwarded-For entry (behind a load balancer that appends to it);
	// otherwise RemoteAddr is used.
	TrustForwardedFor bool
	// MaxBodyBytes limits request bodies (default 1 MiB).
	MaxBodyBytes int64
}

// Defaults.
const (
	DefaultRefreshTokenTTL = 30 * 24 * time.Hour
	IdempotencyWindow      = 24 * time.Hour
)

var (
	DefaultSignInPerEmail   = ratelimit.Limit{Events: 5, Per: time.Minute}
	DefaultSignInPerAddress = ratelimit.Limit{Events: 20, Per: time.Minute}
)

func (c Config) withDefaults() Config {
	if c.RefreshTokenTTL <= 0 {
		c.RefreshTokenTTL = DefaultRefreshTokenTTL
	}
	if c.PrincipalCacheTTL == 0 {
		c.PrincipalCacheTTL = auth.MaxPrincipalCacheTTL
	}
	if c.SignInPerEmail == (ratelimit.Limit{}) {
		c.SignInPerEmail = DefaultSignInPerEmail
	}
	if c.SignInPerAddress == (ratelimit.Limit{}) {
		c.SignInPerAddress = DefaultSignInPerAddress
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = httpio.MaxBodyBytes
	}
	return c
}

// HandlerDeps are what NewHandler needs besides the routes.
type HandlerDeps struct {
	Logger *slog.Logger
	// NewID makes request ids when the client sent no usable X-Request-ID
	// (default UUIDv7).
	NewID func() string
	// Fallback, when set, serves every path no route matches outside /api/
	// (the web app); otherwise those get the JSON 404.
	Fallback http.Handler
	// Instrument, when set, wraps every request inside the request context,
	// so it can read the matched route with RouteOf once the request is
	// served (metrics).
	Instrument func(http.Handler) http.Handler
}

// RouteOf returns the route template the request matched ("" if none).
// It is known once the router has served the request.
func RouteOf(r *http.Request) string {
	if info := httpio.Info(r.Context()); info != nil {
		return info.Route()
	}
	return ""
}

// NewHandler builds the HTTP handler: /healthz, every registrar's routes,
// JSON 404 and 405 answers, wrapped in the common middleware.
func NewHandler(d HandlerDeps, routes []RouteRegistrar) http.Handler {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.NewID == nil {
		d.NewID = newUUIDv7
	}
	// No redirects to cleaned paths: an API answers JSON, a 404 for a path
	// like /api/tasks/x/../y.
	r := mux.NewRouter().SkipClean(true)
	r.Use(recordRoute)
	r.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		httpio.JSON(w, r, http.StatusOK, map[string]string{"status": "ok"})
	}).Methods(http.MethodGet, http.MethodHead)
	for _, rr := range routes {
		if rr != nil {
			rr.RegisterRoutes(r)
		}
	}
	notFound := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpio.Error(w, r, httpio.ErrNotFound)
	})
	if d.Fallback != nil {
		fallback := d.Fallback
		r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isAPIPath(r.URL.Path) {
				notFound(w, r)
				return
			}
			fallback.ServeHTTP(w, r)
		})
	} else {
		r.NotFoundHandler = notFound
	}
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpio.Error(w, r, httpio.ErrMethodNotAllowed)
	})
	return chain(r, d.Logger, d.NewID, d.Instrument)
}

// Deps are everything NewRouter wires.
type Deps struct {
	Tasks    tasksapp.Application
	Identity identityapp.Application
	// Tokens is the JWT component (auth.NewTokens).
	Tokens *auth.Tokens
	// Idempotency remembers answers to POSTs with an Idempotency-Key.
	Idempotency IdempotencyStore
	Clock       func() time.Time // default time.Now
	NewID       func() string    // UUIDv7 ids of new users and tasks, request ids (default uuid.NewV7)
	Logger      *slog.Logger
	Config      Config
	Fallback    http.Handler
}

// NewRouter wires both modules' routes behind the middleware, without fx.
// cmd/taskd may instead provide NewAuthenticator, NewIdentityRoutes and
// NewTaskRoutes into a value group and call NewHandler.
func NewRouter(d Deps) (http.Handler, error) {
	if d.Clock == nil {
		d.Clock = time.Now
	}
	if d.NewID == nil {
		d.NewID = newUUIDv7
	}
	if d.Tokens == nil || d.Identity.Queries.PrincipalByID == nil {
		return nil, errors.New("httpport: NewRouter needs Tokens and the identity PrincipalByID query")
	}
	cfg := d.Config.withDefaults()
	authn := auth.NewAuthenticator(d.Tokens, d.Identity.Queries.PrincipalByID, cfg.PrincipalCacheTTL, d.Clock)
	identity, err := NewIdentityRoutes(IdentityRoutesDeps{
		App: d.Identity, Tokens: d.Tokens, Auth: authn, Clock: d.Clock, NewID: d.NewID, Config: d.Config,
	})
	if err != nil {
		return nil, err
	}
	tasks, err := NewTaskRoutes(TaskRoutesDeps{
		App: d.Tasks, UsersByIDs: d.Identity.Queries.UsersByIDs, ResolveUser: d.Identity.Queries.ResolveUser,
		Auth: authn, Idempotency: d.Idempotency, Clock: d.Clock, NewID: d.NewID, Config: d.Config,
	})
	if err != nil {
		return nil, err
	}
	return NewHandler(HandlerDeps{Logger: d.Logger, NewID: d.NewID, Fallback: d.Fallback},
		[]RouteRegistrar{identity, tasks}), nil
}

// NewAuthenticator builds the auth middleware from the identity module with
// cfg's principal cache (for wiring without NewRouter).
func NewAuthenticator(tokens *auth.Tokens, identity identityapp.Application, cfg Config, clock func() time.Time) *auth.Authenticator {
	return auth.NewAuthenticator(tokens, identity.Queries.PrincipalByID, cfg.withDefaults().PrincipalCacheTTL, clock)
}

func newUUIDv7() string { return uuid.Must(uuid.NewV7()).String() }

func isAPIPath(p string) bool { return p == "/api" || len(p) >= 5 && p[:5] == "/api/" }

// Route is one method and path pattern the API answers.
type Route struct {
	Method string
	Path   string
}

// ListRoutes returns every route NewHandler serves with routes (for the
// test that keeps docs/openapi.yaml and the router in step).
func ListRoutes(routes []RouteRegistrar) []Route {
	r := mux.NewRouter()
	r.HandleFunc("/healthz", nil).Methods(http.MethodGet, http.MethodHead)
	for _, rr := range routes {
		if rr != nil {
			rr.RegisterRoutes(r)
		}
	}
	var out []Route
	_ = r.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		path, err := route.GetPathTemplate()
		if err != nil {
			return nil
		}
		methods, err := route.GetMethods()
		if err != nil {
			return nil
		}
		for _, m := range methods {
			out = append(out, Route{Method: m, Path: path})
		}
		return nil
	})
	return out
}
