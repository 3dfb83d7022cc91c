package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/fx"

	"github.com/taskd/taskd/adapters/prometheus"
	"github.com/taskd/taskd/adapters/sqlstore"
)

// readinessCheck is one dependency /readyz asks about. Components add theirs
// to the "readiness" value group (the database here; SNS/SQS and DynamoDB
// in cloud mode).
type readinessCheck struct {
	Name  string
	Check func(ctx context.Context) error
}

// asReadiness annotates a constructor of a readinessCheck for the group.
func asReadiness(f any) any {
	return fx.Annotate(f, fx.ResultTags(`group:"readiness"`))
}

// draining is set when the process starts to stop: /readyz then answers 503
// so load balancers stop sending requests while in-flight ones finish.
type draining struct{ atomic.Bool }

// opsModule provides metrics, readiness and the operations endpoints
// (/healthz, /readyz, /metrics) every role serves.
var opsModule = fx.Module("ops",
	fx.Provide(
		prometheus.New,
		func() *draining { return &draining{} },
		asReadiness(func(db *sqlstore.DB) readinessCheck {
			return readinessCheck{Name: "database", Check: func(ctx context.Context) error { return db.SQL.PingContext(ctx) }}
		}),
	),
	fx.Invoke(func(m *prometheus.Metrics, db *sqlstore.DB) error { return m.RegisterDB(db.SQL, "main") }),
)

type readinessChecks struct {
	fx.In
	Checks []readinessCheck `group:"readiness"`
}

// opsHandler serves /healthz, /readyz and /metrics, and passes everything
// else to next (the API and web app, or nothing on a worker).
func opsHandler(next http.Handler, m *prometheus.Metrics, checks []readinessCheck, d *draining) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		status, body := readiness(r.Context(), checks, d)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(body)
	})
	if next == nil {
		mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
		})
		next = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error":{"code":"not_found","message":"this process runs the workers only"}}` + "\n"))
		})
	}
	mux.Handle("/", next)
	return mux
}

type readinessBody struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

// readiness runs every check at once, each bounded by two seconds.
func readiness(ctx context.Context, checks []readinessCheck, d *draining) (int, readinessBody) {
	body := readinessBody{Status: "ready", Checks: map[string]string{}}
	if d.Load() {
		body.Status = "draining"
		return http.StatusServiceUnavailable, body
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for _, c := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := c.Check(ctx)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				body.Checks[c.Name] = "unavailable: " + err.Error()
				body.Status = "not ready"
				return
			}
			body.Checks[c.Name] = "ok"
		}()
	}
	wg.Wait()
	if body.Status != "ready" {
		return http.StatusServiceUnavailable, body
	}
	return http.StatusOK, body
}

// logStopError logs a component that failed to stop cleanly.
func logStopError(logger *slog.Logger, what string, err error) error {
	if err != nil && !errors.Is(err, context.Canceled) {
		logger.Warn("stopping "+what, slog.String("error", err.Error()))
	}
	return err
}
