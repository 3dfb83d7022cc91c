package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"go.uber.org/fx"

	"github.com/taskd/taskd/adapters/prometheus"
	"github.com/taskd/taskd/adapters/sqlstore"
	identityapp "github.com/taskd/taskd/modules/identity/app"
	"github.com/taskd/taskd/modules/kernel/sys"
	tasksapp "github.com/taskd/taskd/modules/tasks/app"
	httpport "github.com/taskd/taskd/ports/http"
	"github.com/taskd/taskd/ports/http/auth"
	"github.com/taskd/taskd/ports/http/ratelimit"
	"github.com/taskd/taskd/web"
)

// asRoutes annotates a route constructor for the "routes" value group: each
// module contributes its routes, NewHandler collects them.
func asRoutes(f any) any {
	return fx.Annotate(f, fx.As(new(httpport.RouteRegistrar)), fx.ResultTags(`group:"routes"`))
}

func httpConfig(cfg Config) httpport.Config {
	perMinute := ratelimit.Limit{Events: cfg.SignInPerMinute, Per: time.Minute}
	return httpport.Config{
		RefreshTokenTTL:  cfg.RefreshTTL,
		SignInPerEmail:   perMinute,
		SignInPerAddress: ratelimit.Limit{Events: 4 * cfg.SignInPerMinute, Per: time.Minute},
	}
}

// httpModule serves the REST API on TASKD_ADDR.
func httpModule(cfg Config) fx.Option {
	return fx.Module("http",
		fx.Provide(
			func(logger *slog.Logger, clock sys.Clock, newID sys.IDGenerator) (*auth.Tokens, error) {
				secret, err := jwtSecret(cfg, logger)
				if err != nil {
					return nil, err
				}
				return auth.NewTokens(auth.TokensConfig{
					Secret: secret, Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience, AccessTTL: cfg.AccessTTL,
					Clock: clock, NewID: newID,
				})
			},
			func(t *auth.Tokens, id identityapp.Application, clock sys.Clock) *auth.Authenticator {
				return httpport.NewAuthenticator(t, id, httpConfig(cfg), clock)
			},
			asRoutes(func(a identityapp.Application, t *auth.Tokens, authn *auth.Authenticator, clock sys.Clock, newID sys.IDGenerator) (*httpport.IdentityRoutes, error) {
				return httpport.NewIdentityRoutes(httpport.IdentityRoutesDeps{
					App: a, Tokens: t, Auth: authn, Clock: clock, NewID: newID, Config: httpConfig(cfg),
				})
			}),
			asRoutes(func(a tasksapp.Application, id identityapp.Application, authn *auth.Authenticator, db *sqlstore.DB, clock sys.Clock, newID sys.IDGenerator) (*httpport.TaskRoutes, error) {
				return httpport.NewTaskRoutes(httpport.TaskRoutesDeps{
					App: a, UsersByIDs: id.Queries.UsersByIDs, ResolveUser: id.Queries.ResolveUser, Auth: authn,
					Idempotency: sqlstore.NewIdempotencyStore(db), Clock: clock, NewID: newID, Config: httpConfig(cfg),
				})
			}),
			fx.Annotate(
				func(logger *slog.Logger, newID sys.IDGenerator, m *prometheus.Metrics, routes []httpport.RouteRegistrar) apiHandler {
					return httpport.NewHandler(httpport.HandlerDeps{
						Logger: logger, NewID: newID, Fallback: web.Handler(),
						Instrument: m.HTTPMiddleware(httpport.RouteOf),
					}, routes)
				},
				fx.ParamTags(``, ``, ``, `group:"routes"`),
			),
		),
	)
}

// apiHandler is the REST API and the web app; only the api role has one.
type apiHandler http.Handler

type serverDeps struct {
	fx.In
	LC        fx.Lifecycle
	SD        fx.Shutdowner
	API       apiHandler `optional:"true"`
	Metrics   *prometheus.Metrics
	Readiness readinessChecks
	Draining  *draining
	Logger    *slog.Logger
}

// serverModule listens on TASKD_ADDR in every role: the API (api role) and
// /healthz, /readyz, /metrics (all roles).
func serverModule(cfg Config) fx.Option {
	return fx.Module("server", fx.Invoke(func(d serverDeps) {
		var next http.Handler
		if d.API != nil {
			next = d.API
		}
		startHTTPServer(cfg, d.LC, d.SD, opsHandler(next, d.Metrics, d.Readiness.Checks, d.Draining), d.Draining, d.Logger)
	}))
}

// startHTTPServer listens synchronously on start (so a taken port fails the
// start), serves in a goroutine and, on stop, reports not ready and lets
// in-flight requests finish within the stop deadline.
func startHTTPServer(cfg Config, lc fx.Lifecycle, sd fx.Shutdowner, h http.Handler, d *draining, logger *slog.Logger) {
	{
		srv := &http.Server{
			Addr:              cfg.Addr,
			Handler:           h,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      60 * time.Second,
			IdleTimeout:       120 * time.Second,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		}
		lc.Append(fx.Hook{
			OnStart: func(ctx context.Context) error {
				ln, err := net.Listen("tcp", cfg.Addr)
				if err != nil {
					return fmt.Errorf("TASKD_ADDR %s: %w", cfg.Addr, err)
				}
				logger.Info("listening", slog.String("addr", ln.Addr().String()))
				go func() {
					if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
						logger.Error("HTTP server stopped", slog.String("error", err.Error()))
						_ = sd.Shutdown(fx.ExitCode(1))
					}
				}()
				return nil
			},
			OnStop: func(ctx context.Context) error {
				d.Store(true)
				return logStopError(logger, "the HTTP server", srv.Shutdown(ctx))
			},
		})
	}
}
