package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/components/cqrs"
	"go.uber.org/fx"

	"github.com/taskd/taskd/adapters/prometheus"
	"github.com/taskd/taskd/adapters/ses"
	"github.com/taskd/taskd/adapters/sms"
	"github.com/taskd/taskd/adapters/smtp"
	"github.com/taskd/taskd/adapters/snssqs"
	"github.com/taskd/taskd/adapters/sqlstore"
	"github.com/taskd/taskd/adapters/webhook"
	identityapp "github.com/taskd/taskd/modules/identity/app"
	identityquery "github.com/taskd/taskd/modules/identity/app/query"
	"github.com/taskd/taskd/modules/kernel/sys"
	"github.com/taskd/taskd/modules/notifications"
	notifyapp "github.com/taskd/taskd/modules/notifications/app"
	notifycommand "github.com/taskd/taskd/modules/notifications/app/command"
	n "github.com/taskd/taskd/modules/notifications/domain/notification"
	tasks "github.com/taskd/taskd/modules/tasks/contracts"
	"github.com/taskd/taskd/ports/events"
	httpport "github.com/taskd/taskd/ports/http"
	"github.com/taskd/taskd/ports/http/auth"
)

// NotificationsConfig tunes the notifications module (docs/notifications.md).
// LoadConfig fills Config.Notifications with parseNotificationsConfig.
type NotificationsConfig struct {
	// ReminderLead: the PIC is reminded this long before the deadline
	// (TASKD_REMINDER_LEAD, default 24h).
	ReminderLead time.Duration
	// ReminderInterval: how often the reminder job looks for due reminders
	// (TASKD_REMINDER_INTERVAL, default 1m).
	ReminderInterval time.Duration
	// DispatchInterval: how often due e-mail and SMS deliveries are looked
	// for (TASKD_NOTIFY_DISPATCH_INTERVAL, default 500ms).
	DispatchInterval time.Duration
	// MaxAttempts and RetryBackoff: a delivery failing for a transient
	// reason is tried MaxAttempts times in all, waiting RetryBackoff,
	// doubling up to 30m (TASKD_NOTIFY_MAX_ATTEMPTS, default 6;
	// TASKD_NOTIFY_RETRY_BACKOFF, default 30s).
	MaxAttempts  int
	RetryBackoff time.Duration
	// SMSSenderID is the SMS sender name where the country allows one
	// (TASKD_SMS_SENDER_ID, optional).
	SMSSenderID string
}

// parseNotificationsConfig reads the notifications tuning; LoadConfig calls it.
func parseNotificationsConfig(p *parser) NotificationsConfig {
	c := NotificationsConfig{
		ReminderLead:     p.duration("TASKD_REMINDER_LEAD", notifycommand.DefaultReminderLead),
		ReminderInterval: p.duration("TASKD_REMINDER_INTERVAL", time.Minute),
		DispatchInterval: p.duration("TASKD_NOTIFY_DISPATCH_INTERVAL", 500*time.Millisecond),
		MaxAttempts:      p.integer("TASKD_NOTIFY_MAX_ATTEMPTS", n.DefaultRetryPolicy.MaxAttempts),
		RetryBackoff:     p.duration("TASKD_NOTIFY_RETRY_BACKOFF", n.DefaultRetryPolicy.First),
		SMSSenderID:      p.str("TASKD_SMS_SENDER_ID", ""),
	}
	if c.ReminderLead < time.Minute || c.ReminderLead > 30*24*time.Hour {
		p.fail("TASKD_REMINDER_LEAD", "must be between 1m and 720h")
	}
	if c.ReminderInterval < 100*time.Millisecond || c.ReminderInterval > time.Hour {
		p.fail("TASKD_REMINDER_INTERVAL", "must be between 100ms and 1h")
	}
	if c.DispatchInterval < 10*time.Millisecond || c.DispatchInterval > time.Minute {
		p.fail("TASKD_NOTIFY_DISPATCH_INTERVAL", "must be between 10ms and 1m")
	}
	if c.MaxAttempts < 1 || c.MaxAttempts > 50 {
		p.fail("TASKD_NOTIFY_MAX_ATTEMPTS", "must be between 1 and 50")
	}
	if c.RetryBackoff < 10*time.Millisecond || c.RetryBackoff > time.Hour {
		p.fail("TASKD_NOTIFY_RETRY_BACKOFF", "must be between 10ms and 1h")
	}
	return c
}

// notificationsModule wires the notifications module: its store, the
// recipients' directory (identity's UsersByIDs), the channels the
// configuration turns on, its routes, its event handler group, the
// dead-letter alerter of the event backbone and, in a worker, the
// dispatcher and the reminder job.
func notificationsModule(cfg Config, role Role) fx.Option {
	opts := []fx.Option{
		fx.Provide(
			func(db *sqlstore.DB) notifications.Store { return sqlstore.NewNotificationStore(db) },
			func(a identityapp.Application) notifycommand.Directory {
				return recipientDirectory{a.Queries.UsersByIDs}
			},
			func() notifycommand.Config { return notificationsAppConfig(cfg) },
			fx.Annotate(notificationGroup, fx.ResultTags(`group:"event_groups"`)),
			func(a notifyapp.Application) events.DeadLetterAlerter {
				return deadLetterAlerter{a.Commands.RaiseAlert}
			},
			asRoutes(func(a notifyapp.Application, authn *auth.Authenticator) (*httpport.NotificationRoutes, error) {
				return httpport.NewNotificationRoutes(httpport.NotificationRoutesDeps{App: a, Auth: authn, Config: httpConfig(cfg)})
			}),
			asRoutes(func(a notifyapp.Application, authn *auth.Authenticator) (*httpport.AdminRoutes, error) {
				return httpport.NewAdminRoutes(httpport.AdminRoutesDeps{Notifications: a, Auth: authn})
			}),
		),
		notifications.Module,
	}
	opts = append(opts, notificationChannels(cfg)...)
	if role.works() {
		opts = append(opts, fx.Invoke(startNotificationWorkers(cfg)))
	}
	return fx.Module("notifications", opts...)
}

func notificationsAppConfig(cfg Config) notifycommand.Config {
	nc := cfg.Notifications
	return notifycommand.Config{
		PublicURL:    cfg.PublicURL,
		ReminderLead: nc.ReminderLead,
		Retry:        n.RetryPolicy{MaxAttempts: nc.MaxAttempts, First: nc.RetryBackoff, Max: 30 * time.Minute},
	}
}

// notificationChannels provides the channels the configuration names:
// TASKD_EMAIL (smtp, ses), TASKD_SMS (sns), TASKD_ALERT_WEBHOOK_URL. A
// channel not provided is off (the inbox is always on).
func notificationChannels(cfg Config) []fx.Option {
	var opts []fx.Option
	switch cfg.Email {
	case "smtp":
		opts = append(opts, fx.Provide(func(lc fx.Lifecycle) (notifycommand.EmailSender, error) {
			s, err := smtp.New(smtp.Config{
				Host: cfg.SMTP.Host, Port: cfg.SMTP.Port, Username: cfg.SMTP.Username, Password: cfg.SMTP.Password,
				StartTLS: cfg.SMTP.StartTLS, From: cfg.EmailFrom,
			})
			if err != nil {
				return nil, fmt.Errorf("TASKD_EMAIL=smtp: %w", err)
			}
			lc.Append(fx.StopHook(s.Close)) // QUIT the idle sessions
			return s, nil
		}))
	case "ses":
		opts = append(opts, fx.Provide(func() (notifycommand.EmailSender, error) {
			awsCfg, err := snssqs.LoadAWSConfig(context.Background())
			if err != nil {
				return nil, fmt.Errorf("TASKD_EMAIL=ses: %w", err)
			}
			return ses.New(awsCfg, ses.Config{From: cfg.EmailFrom})
		}))
	}
	if cfg.SMS == "sns" {
		opts = append(opts, fx.Provide(func() (notifycommand.SMSSender, error) {
			awsCfg, err := snssqs.LoadAWSConfig(context.Background())
			if err != nil {
				return nil, fmt.Errorf("TASKD_SMS=sns: %w", err)
			}
			return sms.New(awsCfg, sms.Config{SenderID: cfg.Notifications.SMSSenderID}), nil
		}))
	}
	// Count what the channels send (taskd_notifications_sent/failed_total).
	if cfg.Email == "smtp" || cfg.Email == "ses" {
		opts = append(opts, fx.Decorate(func(s notifycommand.EmailSender, m *prometheus.Metrics) notifycommand.EmailSender {
			return countedEmail{EmailSender: s, m: m}
		}))
	}
	if cfg.SMS == "sns" {
		opts = append(opts, fx.Decorate(func(s notifycommand.SMSSender, m *prometheus.Metrics) notifycommand.SMSSender {
			return countedSMS{SMSSender: s, m: m}
		}))
	}
	if cfg.AlertWebhook != "" {
		opts = append(opts, fx.Provide(func() (notifycommand.TeamChat, error) {
			return webhook.New(webhook.Config{URL: cfg.AlertWebhook, Prefix: cfg.Env})
		}))
	}
	return opts
}

// recipientDirectory adapts identity's UsersByIDs query to the
// notifications module's Directory: a deleted user is not found.
type recipientDirectory struct {
	users identityquery.UsersByIDsHandler
}

func (d recipientDirectory) Users(ctx context.Context, ids []string) (map[string]notifycommand.User, error) {
	found, err := d.users.Handle(ctx, identityquery.UsersByIDs{IDs: ids})
	if err != nil {
		return nil, err
	}
	out := make(map[string]notifycommand.User, len(found))
	for id, u := range found {
		out[id] = notifycommand.User{ID: u.ID, Name: u.Name, Email: u.Email, Phone: u.Phone, Locale: u.Locale}
	}
	return out, nil
}

// deadLetterAlerter is the event backbone's alert port
// (events.DeadLetterAlerter), implemented with the notifications module's
// RaiseAlert: the team chat when configured, the error log always.
type deadLetterAlerter struct {
	raise notifycommand.RaiseAlertHandler
}

func (a deadLetterAlerter) Alert(ctx context.Context, dl events.DeadLetter) error {
	return a.raise.Handle(ctx, notifycommand.RaiseAlert{Alert: n.Alert{
		Kind: n.AlertDeadLetter, Queue: dl.Queue, EventName: dl.EventName, EventID: dl.EventID,
		Attempts: dl.Attempts, Error: dl.LastError, Source: dl.Source, At: dl.DeadAt,
	}})
}

// notificationGroup is the handler group "notifications": every task event
// goes to the HandleTaskEvent command. A malformed event is a permanent
// failure (dead letter at once); anything else is retried.
func notificationGroup(a notifyapp.Application) events.HandlerGroup {
	handle := func(ctx context.Context, e tasks.TaskEvent) error {
		err := a.Commands.HandleTaskEvent.Handle(ctx, notifycommand.HandleTaskEvent{Event: e})
		if notifycommand.IsMalformed(err) {
			return events.Permanent(err)
		}
		return err
	}
	return events.HandlerGroup{
		Name: notifycommand.ConsumerName,
		Handlers: []cqrs.GroupEventHandler{
			cqrs.NewGroupEventHandler(func(ctx context.Context, e *tasks.TaskCreated) error { return handle(ctx, e.TaskEvent) }),
			cqrs.NewGroupEventHandler(func(ctx context.Context, e *tasks.TaskUpdated) error { return handle(ctx, e.TaskEvent) }),
			cqrs.NewGroupEventHandler(func(ctx context.Context, e *tasks.TaskStatusChanged) error { return handle(ctx, e.TaskEvent) }),
			cqrs.NewGroupEventHandler(func(ctx context.Context, e *tasks.TaskAssigned) error { return handle(ctx, e.TaskEvent) }),
			cqrs.NewGroupEventHandler(func(ctx context.Context, e *tasks.TaskCompleted) error { return handle(ctx, e.TaskEvent) }),
			cqrs.NewGroupEventHandler(func(ctx context.Context, e *tasks.TaskReopened) error { return handle(ctx, e.TaskEvent) }),
			cqrs.NewGroupEventHandler(func(ctx context.Context, e *tasks.TaskDeleted) error { return handle(ctx, e.TaskEvent) }),
		},
	}
}

type notificationWorkersIn struct {
	fx.In
	Lifecycle fx.Lifecycle
	App       notifyapp.Application
	Logger    *slog.Logger
	NewID     sys.IDGenerator
	Email     notifycommand.EmailSender `optional:"true"`
	SMS       notifycommand.SMSSender   `optional:"true"`
}

// startNotificationWorkers runs, in a worker process, the dispatcher (when
// e-mail or SMS is on: sends due deliveries, then alerts failed ones) and
// the reminder job (on the one instance holding the lease). A failing run
// is logged and tried again at the next tick.
func startNotificationWorkers(cfg Config) func(notificationWorkersIn) {
	return func(in notificationWorkersIn) {
		nc := cfg.Notifications
		logger := in.Logger.With("component", "notifications")
		holder := in.NewID()
		leaseTTL := max(3*nc.ReminderInterval, 30*time.Second)
		runCtx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		every := func(name string, interval time.Duration, fn func(context.Context) error) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				t := time.NewTicker(interval)
				defer t.Stop()
				for {
					if err := fn(runCtx); err != nil && runCtx.Err() == nil {
						logger.Warn(name+" run failed; trying again at the next tick", slog.String("error", err.Error()))
					}
					select {
					case <-runCtx.Done():
						return
					case <-t.C:
					}
				}
			}()
		}
		in.Lifecycle.Append(fx.Hook{
			OnStart: func(context.Context) error {
				if in.Email != nil || in.SMS != nil {
					every("delivery dispatcher", nc.DispatchInterval, func(ctx context.Context) error {
						return errors.Join(
							in.App.Commands.DispatchDeliveries.Handle(ctx, notifycommand.DispatchDeliveries{}),
							in.App.Commands.AlertFailedDeliveries.Handle(ctx, notifycommand.AlertFailedDeliveries{}))
					})
				}
				every("deadline reminders", nc.ReminderInterval, func(ctx context.Context) error {
					return in.App.Commands.SendDeadlineReminders.Handle(ctx, notifycommand.SendDeadlineReminders{Holder: holder, LeaseTTL: leaseTTL})
				})
				logger.Info("notifications started", slog.String("email", cfg.Email), slog.String("sms", cfg.SMS),
					slog.Bool("team_chat", cfg.AlertWebhook != ""), slog.Duration("reminder_lead", nc.ReminderLead))
				return nil
			},
			OnStop: func(ctx context.Context) error {
				cancel()
				done := make(chan struct{})
				go func() { wg.Wait(); close(done) }()
				select {
				case <-done:
					return nil
				case <-ctx.Done():
					return errors.New("notifications: stop timed out")
				}
			},
		})
	}
}

// countedEmail and countedSMS count each send by channel and outcome.
type countedEmail struct {
	notifycommand.EmailSender
	m *prometheus.Metrics
}

func (c countedEmail) SendEmail(ctx context.Context, e n.Email) (string, error) {
	id, err := c.EmailSender.SendEmail(ctx, e)
	countSend(c.m, "email", err)
	return id, err
}

type countedSMS struct {
	notifycommand.SMSSender
	m *prometheus.Metrics
}

func (c countedSMS) SendSMS(ctx context.Context, s n.SMS) (string, error) {
	id, err := c.SMSSender.SendSMS(ctx, s)
	countSend(c.m, "sms", err)
	return id, err
}

func countSend(m *prometheus.Metrics, channel string, err error) {
	if err != nil {
		m.NotificationFailed(channel)
		return
	}
	m.NotificationSent(channel)
}
