package main

import (
	"context"
	"log/slog"
	"time"

	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"

	"github.com/taskd/taskd/adapters/prometheus"

	"github.com/taskd/taskd/modules/identity"
	"github.com/taskd/taskd/modules/kernel/decorator"
	"github.com/taskd/taskd/modules/kernel/sys"
	"github.com/taskd/taskd/modules/tasks"
)

// coreOptions are the modules with their storage: what every subcommand
// that runs use cases needs.
func coreOptions(cfg Config, logger *slog.Logger) []fx.Option {
	return []fx.Option{
		fx.Supply(cfg, logger),
		fx.Provide(
			func() sys.Clock { return sys.SystemClock },
			func() sys.IDGenerator { return sys.NewUUIDv7 },
			func(m *prometheus.Metrics) decorator.Metrics { return m },
		),
		storageModule(cfg),
		opsModule,
		identity.Module,
		tasks.Module,
		bridgesModule,
	}
}

// serveOptions adds the ports this role runs.
func serveOptions(cfg Config, role Role, logger *slog.Logger) []fx.Option {
	opts := coreOptions(cfg, logger)
	opts = append(opts,
		fx.Supply(role),
		fx.WithLogger(func() fxevent.Logger {
			l := &fxevent.SlogLogger{Logger: logger.With("component", "fx")}
			l.UseLogLevel(slog.LevelDebug) // fx's wiring chatter only when debugging
			return l
		}),
	)
	opts = append(opts, pprofModule(cfg))
	opts = append(opts, notificationsModule(cfg, role))
	opts = append(opts, analyticsModule(cfg))
	if role.serves() {
		opts = append(opts, httpModule(cfg))
	}
	if role.works() {
		opts = append(opts, eventBackboneModule(cfg))
	}
	return append(opts, serverModule(cfg))
}

// serve runs until ctx ends (SIGINT, SIGTERM) or a component asks fx to shut down.
func serve(ctx context.Context, cfg Config, role Role, logger *slog.Logger) error {
	app := fx.New(serveOptions(cfg, role, logger)...)
	if err := app.Err(); err != nil {
		return err
	}
	startCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := app.Start(startCtx); err != nil {
		return err
	}
	logger.Info("taskd started", slog.String("version", version), slog.String("role", string(role)),
		slog.String("addr", cfg.Addr), slog.Bool("embedded", cfg.Embedded()), slog.String("events", cfg.Events))
	var exitCode int
	select {
	case <-ctx.Done():
	case sig := <-app.Wait():
		exitCode = sig.ExitCode
	}
	stopCtx, cancelStop := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancelStop()
	if err := app.Stop(stopCtx); err != nil {
		return err
	}
	if exitCode != 0 {
		return errExit(exitCode)
	}
	return nil
}

type errExit int

func (e errExit) Error() string { return "stopped after a fatal error in a background component" }
