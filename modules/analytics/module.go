// Package analytics is the log-analysis bounded context: it keeps the
// ordered, replayable log of every event, projects task events into read
// models per user, supervisor and team, per ISO week and month, and serves
// task history, activity and the weekly, monthly and team reports. Module
// wires it for fx; NewApplication works without.
package analytics

import (
	"errors"
	"log/slog"
	"time"

	"go.uber.org/fx"

	"github.com/taskd/taskd/modules/analytics/app"
	"github.com/taskd/taskd/modules/analytics/app/command"
	"github.com/taskd/taskd/modules/analytics/app/query"
	"github.com/taskd/taskd/modules/analytics/domain/eventlog"
	"github.com/taskd/taskd/modules/analytics/domain/report"
	"github.com/taskd/taskd/modules/kernel/decorator"
	"github.com/taskd/taskd/modules/kernel/sys"
)

// Settings configure the module.
type Settings struct {
	// Location is the report time zone (TASKD_REPORT_TZ, default UTC).
	Location *time.Location
	// RebuildBatch is how many events a rebuild adds up before writing
	// (default command.DefaultRebuildBatch).
	RebuildBatch int
}

// Store is everything the module needs from one storage adapter (the SQL
// one or the DynamoDB one implement all of it).
type Store interface {
	eventlog.Log
	eventlog.Scanner
	report.ProjectionStore
	report.RebuildStore
	query.ReportReadModel
}

// Deps are the module's outside needs: storage, the identity and tasks
// modules seen through interfaces it declares, clock, logging, metrics.
type Deps struct {
	fx.In

	Store    Store
	Users    query.UserDirectory
	Tasks    query.TaskDirectory
	Settings Settings
	Clock    sys.Clock
	Logger   *slog.Logger
	Metrics  decorator.Metrics
}

// NewApplication builds the module's use cases.
func NewApplication(d Deps) (app.Application, error) {
	if d.Store == nil || d.Users == nil || d.Tasks == nil || d.Clock == nil {
		return app.Application{}, errors.New("analytics: Store, Users, Tasks and Clock are required")
	}
	loc := d.Settings.Location
	if loc == nil {
		loc = time.UTC
	}
	logger := d.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m := d.Metrics
	if m == nil {
		m = decorator.NopMetrics{}
	}
	log := logger.With("module", "analytics")
	p := &command.Projection{Log: d.Store, Store: d.Store, Projector: report.Projector{Loc: loc}}
	cfg := query.Config{Loc: loc, Clock: d.Clock}
	return app.Application{
		Commands: app.Commands{
			RecordEvent:       command.NewRecordEventHandler(d.Store, p, log, m),
			RebuildReadModels: command.NewRebuildReadModelsHandler(d.Store, p, d.Settings.RebuildBatch, log, m),
			CheckTimeZone:     command.NewCheckTimeZoneHandler(d.Store, p, log, m),
		},
		Queries: app.Queries{
			UserReport:  query.NewUserReportHandler(d.Store, d.Users, cfg, log, m),
			TeamReport:  query.NewTeamReportHandler(d.Store, d.Users, cfg, log, m),
			TaskHistory: query.NewTaskHistoryHandler(d.Store, d.Tasks, log, m),
			Activity:    query.NewActivityHandler(d.Store, d.Users, cfg, log, m),
		},
	}, nil
}

// Module provides app.Application.
var Module = fx.Module("analytics", fx.Provide(NewApplication))
