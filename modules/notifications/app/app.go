// Package app lists the notifications module's use cases.
package app

import (
	"github.com/taskd/taskd/modules/notifications/app/command"
	"github.com/taskd/taskd/modules/notifications/app/query"
)

type Application struct {
	Commands Commands
	Queries  Queries
}

type Commands struct {
	HandleTaskEvent          command.HandleTaskEventHandler
	DispatchDeliveries       command.DispatchDeliveriesHandler
	SendDeadlineReminders    command.SendDeadlineRemindersHandler
	AlertFailedDeliveries    command.AlertFailedDeliveriesHandler
	RaiseAlert               command.RaiseAlertHandler
	MarkNotificationRead     command.MarkNotificationReadHandler
	MarkAllNotificationsRead command.MarkAllNotificationsReadHandler
	UpdatePreferences        command.UpdatePreferencesHandler
}

type Queries struct {
	Inbox                   query.InboxHandler
	UnreadCount             query.UnreadCountHandler
	NotificationPreferences query.NotificationPreferencesHandler
	Deliveries              query.DeliveriesHandler
}
