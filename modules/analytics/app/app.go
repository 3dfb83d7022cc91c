// Package app lists the analytics module's use cases.
package app

import (
	"github.com/taskd/taskd/modules/analytics/app/command"
	"github.com/taskd/taskd/modules/analytics/app/query"
)

type Application struct {
	Commands Commands
	Queries  Queries
}

type Commands struct {
	RecordEvent       command.RecordEventHandler
	RebuildReadModels command.RebuildReadModelsHandler
	CheckTimeZone     command.CheckTimeZoneHandler
}

type Queries struct {
	UserReport  query.UserReportHandler
	TeamReport  query.TeamReportHandler
	TaskHistory query.TaskHistoryHandler
	Activity    query.ActivityHandler
}
