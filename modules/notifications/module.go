// Package notifications is the notifications bounded context: it consumes
// task events, decides who is told what, writes the in-app inbox and
// delivers e-mail and SMS once each, sends deadline reminders and raises
// team-chat alerts (docs/notifications.md). Module wires it for fx;
// NewApplication works without.
package notifications

import (
	"log/slog"

	"go.uber.org/fx"

	"github.com/taskd/taskd/modules/kernel/decorator"
	"github.com/taskd/taskd/modules/kernel/sys"
	"github.com/taskd/taskd/modules/notifications/app"
	"github.com/taskd/taskd/modules/notifications/app/command"
	"github.com/taskd/taskd/modules/notifications/app/query"
)

// Store is everything the module keeps, commands and queries.
type Store interface {
	command.Store
	query.InboxReadModel
	query.DeliveriesReadModel
}

// Deps are the module's outside needs. Email, SMS and TeamChat are
// optional: a channel that is not configured is off.
type Deps struct {
	fx.In

	Store     Store
	Directory command.Directory
	Email     command.EmailSender `optional:"true"`
	SMS       command.SMSSender   `optional:"true"`
	TeamChat  command.TeamChat    `optional:"true"`
	Config    command.Config
	Clock     sys.Clock
	NewID     sys.IDGenerator
	Logger    *slog.Logger
	Metrics   decorator.Metrics
}

// NewApplication builds the module's use cases.
func NewApplication(d Deps) app.Application {
	log, m := d.Logger.With("module", "notifications"), d.Metrics
	cd := command.Deps{
		Store: d.Store, Directory: d.Directory, Email: d.Email, SMS: d.SMS, TeamChat: d.TeamChat,
		Config: d.Config, Clock: d.Clock, NewID: d.NewID, Logger: log,
	}
	raise := command.NewRaiseAlertHandler(cd, log, m)
	return app.Application{
		Commands: app.Commands{
			HandleTaskEvent:          command.NewHandleTaskEventHandler(cd, log, m),
			DispatchDeliveries:       command.NewDispatchDeliveriesHandler(cd, log, m),
			SendDeadlineReminders:    command.NewSendDeadlineRemindersHandler(cd, log, m),
			AlertFailedDeliveries:    command.NewAlertFailedDeliveriesHandler(cd, raise, log, m),
			RaiseAlert:               raise,
			MarkNotificationRead:     command.NewMarkNotificationReadHandler(cd, log, m),
			MarkAllNotificationsRead: command.NewMarkAllNotificationsReadHandler(cd, log, m),
			UpdatePreferences:        command.NewUpdatePreferencesHandler(cd, log, m),
		},
		Queries: app.Queries{
			Inbox:                   query.NewInboxHandler(d.Store, log, m),
			UnreadCount:             query.NewUnreadCountHandler(d.Store, log, m),
			NotificationPreferences: query.NewNotificationPreferencesHandler(d.Store, log, m),
			Deliveries:              query.NewDeliveriesHandler(d.Store, log, m),
		},
	}
}

// Module provides app.Application.
var Module = fx.Module("notifications", fx.Provide(NewApplication))
