package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/ThreeDotsLabs/watermill"
	"go.uber.org/fx"

	"github.com/taskd/taskd/adapters/outbox"
	"github.com/taskd/taskd/adapters/sqlstore"
	"github.com/taskd/taskd/ports/events"
)

// eventGroups is the fx value group modules contribute their handler groups to.
type eventGroups struct {
	fx.In
	Groups []events.HandlerGroup `group:"event_groups"`
}

// transportFor picks the event transport the configuration names.
func transportFor(cfg Config, db *sqlstore.DB, logger *slog.Logger) (events.Transport, error) {
	switch cfg.Events {
	case "embedded":
		return outbox.EmbeddedTransport{
			DB: db.SQL, Dialect: db.Dialect.Outbox, JoinTx: sqlstore.ContextWithTx,
			Logger: watermill.NewSlogLogger(logger.With("component", "outbox")),
		}, nil
	}
	return nil, fmt.Errorf("TASKD_EVENTS=%s is not wired yet", cfg.Events)
}

// eventsModule runs the event handler groups on the configured transport.
func eventsModule(cfg Config) fx.Option {
	return fx.Module("events",
		fx.Invoke(func(lc fx.Lifecycle, sd fx.Shutdowner, in eventGroups, db *sqlstore.DB, logger *slog.Logger) error {
			if len(in.Groups) == 0 {
				return nil
			}
			t, err := transportFor(cfg, db, logger)
			if err != nil {
				return err
			}
			p, err := events.NewProcessor(t, in.Groups, events.Config{}, logger)
			if err != nil {
				return err
			}
			runCtx, cancel := context.WithCancel(context.Background())
			lc.Append(fx.Hook{
				OnStart: func(context.Context) error {
					go func() {
						if err := p.Run(runCtx); err != nil {
							logger.Error("event processor stopped", slog.String("error", err.Error()))
							_ = sd.Shutdown(fx.ExitCode(1))
						}
					}()
					return nil
				},
				OnStop: func(context.Context) error {
					cancel()
					return p.Close()
				},
			})
			return nil
		}),
	)
}
