package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"go.uber.org/fx"
)

// pprofModule serves the Go profiler (net/http/pprof) on TASKD_PPROF_ADDR,
// a loopback address apart from the API, when that is set: for
// `go tool pprof http://127.0.0.1:6060/debug/pprof/profile?seconds=20`
// while a load runs (cmd/taskbench -pprof). Off by default.
func pprofModule(cfg Config) fx.Option {
	if cfg.PprofAddr == "" {
		return fx.Options()
	}
	return fx.Invoke(func(lc fx.Lifecycle, logger *slog.Logger) {
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		lc.Append(fx.Hook{
			OnStart: func(context.Context) error {
				ln, err := net.Listen("tcp", cfg.PprofAddr)
				if err != nil {
					return fmt.Errorf("TASKD_PPROF_ADDR %s: %w", cfg.PprofAddr, err)
				}
				logger.Warn("serving pprof", slog.String("addr", ln.Addr().String()))
				go func() {
					if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
						logger.Error("pprof server stopped", slog.String("error", err.Error()))
					}
				}()
				return nil
			},
			OnStop: func(ctx context.Context) error { return srv.Shutdown(ctx) },
		})
	})
}

// isLoopback tells whether addr is host:port on a loopback address
// (127.0.0.0/8, ::1 or localhost).
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
