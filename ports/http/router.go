// Package httpport is the driving HTTP side of taskd: the REST API on
// gorilla/mux. Each module contributes its routes through a RouteRegistrar
// (IdentityRoutes, TaskRoutes); NewHandler collects them behind the common
// middleware (request id, access log, security headers, panic recovery).
//
// Every handler has one shape: the actor from the context (auth
// middleware) → strict decoding (httpio) → a command or query of the module
// → httpio.Error, the one error mapper → render.
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
	r := mux.NewRouter()
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
	return chain(r, d.Logger, d.NewID)
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
