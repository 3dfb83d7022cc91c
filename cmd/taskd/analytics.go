package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // TASKD_REPORT_TZ works where the system has no zoneinfo (containers)

	"github.com/ThreeDotsLabs/watermill/components/cqrs"
	"go.uber.org/fx"

	"github.com/taskd/taskd/adapters/dynamodb"
	"github.com/taskd/taskd/adapters/sqlstore"
	"github.com/taskd/taskd/deploy/names"
	"github.com/taskd/taskd/modules/analytics"
	analyticsapp "github.com/taskd/taskd/modules/analytics/app"
	analyticscommand "github.com/taskd/taskd/modules/analytics/app/command"
	analyticsquery "github.com/taskd/taskd/modules/analytics/app/query"
	analyticscontracts "github.com/taskd/taskd/modules/analytics/contracts"
	"github.com/taskd/taskd/modules/analytics/domain/eventlog"
	"github.com/taskd/taskd/modules/analytics/domain/report"
	identityapp "github.com/taskd/taskd/modules/identity/app"
	identityquery "github.com/taskd/taskd/modules/identity/app/query"
	identity "github.com/taskd/taskd/modules/identity/contracts"
	"github.com/taskd/taskd/modules/identity/domain/user"
	"github.com/taskd/taskd/modules/kernel/actor"
	"github.com/taskd/taskd/modules/kernel/event"
	tasksapp "github.com/taskd/taskd/modules/tasks/app"
	tasksquery "github.com/taskd/taskd/modules/tasks/app/query"
	tasks "github.com/taskd/taskd/modules/tasks/contracts"
	"github.com/taskd/taskd/modules/tasks/domain/task"
	"github.com/taskd/taskd/ports/events"
	httpport "github.com/taskd/taskd/ports/http"
	"github.com/taskd/taskd/ports/http/auth"
)

// AnalyticsConfig is the analytics module's configuration. LoadConfig fills
// Config.Analytics with parseAnalyticsConfig.
type AnalyticsConfig struct {
	// ReportTZ is the report time zone: weeks and months are counted in it
	// (TASKD_REPORT_TZ, an IANA name, default UTC). Changing it needs
	// `taskd analytics rebuild`.
	ReportTZ string
	Location *time.Location
}

// parseAnalyticsConfig reads TASKD_REPORT_TZ; LoadConfig calls it.
func parseAnalyticsConfig(p *parser) AnalyticsConfig {
	c := AnalyticsConfig{ReportTZ: p.str("TASKD_REPORT_TZ", "UTC"), Location: time.UTC}
	loc, err := time.LoadLocation(c.ReportTZ)
	if err != nil || strings.EqualFold(c.ReportTZ, "local") {
		p.fail("TASKD_REPORT_TZ", "must be an IANA time zone such as UTC or Asia/Seoul (got %q)", c.ReportTZ)
		return c
	}
	c.Location = loc
	return c
}

// analyticsModule wires the analytics module for serving: the module with
// its storage and bridges (analyticsCore), its event handler group and its
// routes. At start it checks that the read models were projected in
// TASKD_REPORT_TZ.
func analyticsModule(cfg Config) fx.Option {
	return fx.Module("analytics",
		analyticsCore(cfg),
		fx.Provide(
			fx.Annotate(analyticsGroup, fx.ResultTags(`group:"event_groups"`)),
			asRoutes(func(a analyticsapp.Application, authn *auth.Authenticator) (*httpport.ReportRoutes, error) {
				return httpport.NewReportRoutes(httpport.ReportRoutesDeps{App: a, Auth: authn})
			}),
			asRoutes(func(a analyticsapp.Application, id identityapp.Application, authn *auth.Authenticator) (*httpport.HistoryRoutes, error) {
				return httpport.NewHistoryRoutes(httpport.HistoryRoutesDeps{App: a, UsersByIDs: id.Queries.UsersByIDs, Auth: authn})
			}),
		),
		fx.Invoke(func(lc fx.Lifecycle, a analyticsapp.Application, logger *slog.Logger) {
			lc.Append(fx.StartHook(func(ctx context.Context) {
				err := a.Commands.CheckTimeZone.Handle(ctx, analyticscommand.CheckTimeZone{})
				switch {
				case errors.Is(err, analyticscommand.ErrTimeZoneChanged):
					logger.Error("analytics: "+err.Error(), slog.String("component", "analytics"))
				case err != nil:
					logger.Warn("analytics: checking the report time zone", slog.String("error", err.Error()))
				}
			}))
		}),
	)
}

// analyticsCore is the module with its store (SQL, or DynamoDB with
// TASKD_ANALYTICS_STORE=dynamodb) and the bridges to identity and tasks.
func analyticsCore(cfg Config) fx.Option {
	return fx.Options(
		analyticsStorage(cfg),
		fx.Provide(
			func() analytics.Settings { return analytics.Settings{Location: cfg.Analytics.Location} },
			func(a identityapp.Application) analyticsquery.UserDirectory { return analyticsUsers{a} },
			func(a tasksapp.Application) analyticsquery.TaskDirectory { return analyticsTasks{a} },
		),
		analytics.Module,
	)
}

// analyticsStorage provides analytics.Store: the SQL store on the write
// database, or DynamoDB (tables checked, and created unless
// TASKD_CREATE_RESOURCES=false).
func analyticsStorage(cfg Config) fx.Option {
	if cfg.AnalyticsStore == "dynamodb" {
		return fx.Provide(func() (analytics.Store, error) { return openDynamoDBStore(context.Background(), cfg) })
	}
	return fx.Provide(func(db *sqlstore.DB) analytics.Store { return sqlstore.NewAnalyticsStore(db) })
}

func openDynamoDBStore(ctx context.Context, cfg Config) (*dynamodb.Store, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	client, err := dynamodb.LoadClient(ctx)
	if err != nil {
		return nil, fmt.Errorf("TASKD_ANALYTICS_STORE=dynamodb: %w", err)
	}
	s, err := dynamodb.New(client, dynamodb.Config{Env: cfg.Env, CreateResources: cfg.CreateResources})
	if err != nil {
		return nil, err
	}
	if err := s.EnsureTables(ctx); err != nil {
		return nil, fmt.Errorf("TASKD_ANALYTICS_STORE=dynamodb: %w", err)
	}
	return s, nil
}

// analyticsUsers adapts identity's queries to the analytics module's
// UserDirectory.
type analyticsUsers struct{ app identityapp.Application }

func (d analyticsUsers) ResolveUser(ctx context.Context, ref string) (analyticscontracts.UserInfo, error) {
	u, err := d.app.Queries.ResolveUser.Handle(ctx, identityquery.ResolveUser{Ref: ref})
	if errors.Is(err, user.ErrNotFound) {
		return analyticscontracts.UserInfo{}, analyticsquery.ErrUserNotFound
	}
	if err != nil {
		return analyticscontracts.UserInfo{}, err
	}
	return userInfo(u), nil
}

func (d analyticsUsers) UsersByIDs(ctx context.Context, ids []string) (map[string]analyticscontracts.UserInfo, error) {
	found, err := d.app.Queries.UsersByIDs.Handle(ctx, identityquery.UsersByIDs{IDs: ids})
	if err != nil {
		return nil, err
	}
	out := make(map[string]analyticscontracts.UserInfo, len(found))
	for id, u := range found {
		out[id] = userInfo(u)
	}
	return out, nil
}

func userInfo(u identity.User) analyticscontracts.UserInfo {
	return analyticscontracts.UserInfo{ID: u.ID, Email: u.Email, Name: u.Name}
}

// analyticsTasks adapts the tasks module's TaskByID to the analytics
// module's TaskDirectory (a task's history is readable while it exists).
type analyticsTasks struct{ app tasksapp.Application }

func (d analyticsTasks) TaskExists(ctx context.Context, id string) (bool, error) {
	_, err := d.app.Queries.TaskByID.Handle(ctx, tasksquery.TaskByID{ID: id, Actor: actor.System})
	if errors.Is(err, task.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// analyticsGroup is the handler group "analytics": every event of every
// module goes to RecordEvent. An event it can never record (malformed, or
// claiming a sequence another event holds) is a permanent failure (a dead
// letter at once); anything else is retried.
func analyticsGroup(a analyticsapp.Application) events.HandlerGroup {
	return events.HandlerGroup{
		Name: names.GroupAnalytics,
		Handlers: []cqrs.GroupEventHandler{
			recordHandler[tasks.TaskCreated](a), recordHandler[tasks.TaskUpdated](a),
			recordHandler[tasks.TaskStatusChanged](a), recordHandler[tasks.TaskAssigned](a),
			recordHandler[tasks.TaskCompleted](a), recordHandler[tasks.TaskReopened](a),
			recordHandler[tasks.TaskDeleted](a),
			recordHandler[identity.UserRegistered](a), recordHandler[identity.UserUpdated](a),
			recordHandler[identity.UserDeleted](a),
		},
	}
}

func recordHandler[T any](a analyticsapp.Application) cqrs.GroupEventHandler {
	return cqrs.NewGroupEventHandler(func(ctx context.Context, e *T) error {
		ev, ok := any(*e).(event.Event)
		if !ok {
			return events.Permanent(fmt.Errorf("analytics: %T is not an event", *e))
		}
		err := a.Commands.RecordEvent.Handle(ctx, analyticscommand.RecordEvent{Event: ev})
		if errors.Is(err, eventlog.ErrMalformedEvent) || errors.Is(err, eventlog.ErrSequenceConflict) || errors.Is(err, report.ErrOutOfOrder) {
			return events.Permanent(err)
		}
		return err
	})
}

// analyticsCommand is `taskd analytics rebuild`.
func analyticsCommand(ctx context.Context, cfg Config, logger *slog.Logger, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "rebuild" {
		return usageError{"taskd analytics rebuild [--quiet]"}
	}
	fs := flag.NewFlagSet("analytics rebuild", flag.ContinueOnError)
	fs.SetOutput(out)
	quiet := fs.Bool("quiet", false, "no progress bar, only the final count")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	var app analyticsapp.Application
	fxApp := fx.New(
		fx.NopLogger,
		fx.Options(coreOptions(cfg, logger)...),
		analyticsCore(cfg),
		fx.Populate(&app),
	)
	if err := fxApp.Err(); err != nil {
		return err
	}
	if err := fxApp.Start(ctx); err != nil {
		return err
	}
	defer func() { _ = fxApp.Stop(context.Background()) }()

	bar := newProgressBar(out, *quiet)
	start := time.Now()
	var done, total int64
	err := app.Commands.RebuildReadModels.Handle(ctx, analyticscommand.RebuildReadModels{Progress: func(d, n int64) {
		done, total = d, n
		bar.show(d, n, time.Since(start))
	}})
	bar.finish()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "rebuilt the analytics read models (%s store, weeks and months in %s) from %d task events in %s\n",
		cfg.AnalyticsStore, cfg.Analytics.ReportTZ, done, time.Since(start).Round(time.Millisecond))
	if done != total {
		fmt.Fprintf(out, "note: %d events were logged while the rebuild ran; they were projected at its end\n", total-done)
	}
	return nil
}

// progressBar draws "[#####.....]  52%  520000/1000000 events  1m2s" on
// one line, redrawn at most ten times a second.
type progressBar struct {
	mu    sync.Mutex
	w     io.Writer
	quiet bool
	last  time.Time
	drawn bool
}

func newProgressBar(w io.Writer, quiet bool) *progressBar { return &progressBar{w: w, quiet: quiet} }

const barWidth = 30

func (b *progressBar) show(done, total int64, elapsed time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.quiet || (time.Since(b.last) < 100*time.Millisecond && done < total) {
		return
	}
	b.last = time.Now()
	frac := 1.0
	if total > 0 {
		frac = min(float64(done)/float64(total), 1)
	}
	filled := int(frac * barWidth)
	fmt.Fprintf(b.w, "\r[%s%s] %3.0f%%  %d/%d events  %s", strings.Repeat("#", filled), strings.Repeat(".", barWidth-filled),
		frac*100, done, total, elapsed.Round(time.Second))
	b.drawn = true
}

func (b *progressBar) finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.drawn {
		fmt.Fprintln(b.w)
	}
}
