// Package tasks is the tasks bounded context: the Task aggregate, its
// commands and queries. Module wires it for fx; NewApplication works without.
package tasks

import (
	"log/slog"

	"go.uber.org/fx"

	"github.com/taskd/taskd/modules/kernel/decorator"
	"github.com/taskd/taskd/modules/kernel/sys"
	"github.com/taskd/taskd/modules/tasks/app"
	"github.com/taskd/taskd/modules/tasks/app/command"
	"github.com/taskd/taskd/modules/tasks/app/query"
	"github.com/taskd/taskd/modules/tasks/domain/task"
)

// ReadModel is the read side the queries need.
type ReadModel interface {
	query.TaskReadModel
	query.TasksReadModel
}

// Deps are what the module needs from the outside: storage adapters, the
// identity module seen through UserDirectory, a clock and an id generator.
type Deps struct {
	fx.In

	Repo      task.Repository
	ReadModel ReadModel
	Users     command.UserDirectory
	Clock     sys.Clock
	NewID     sys.IDGenerator
	Logger    *slog.Logger
	Metrics   decorator.Metrics
}

// NewApplication builds the module's use cases.
func NewApplication(d Deps) app.Application {
	clock, log, m := d.Clock, d.Logger.With("module", "tasks"), d.Metrics
	return app.Application{
		Commands: app.Commands{
			CreateTask:       command.NewCreateTaskHandler(d.Repo, d.Users, clock, d.NewID, log, m),
			UpdateTask:       command.NewUpdateTaskHandler(d.Repo, d.Users, clock, log, m),
			ChangeTaskStatus: command.NewChangeTaskStatusHandler(d.Repo, clock, log, m),
			AssignTask:       command.NewAssignTaskHandler(d.Repo, d.Users, clock, log, m),
			DeleteTask:       command.NewDeleteTaskHandler(d.Repo, clock, log, m),
			ReleaseUserTasks: command.NewReleaseUserTasksHandler(d.Repo, clock, log, m),
		},
		Queries: app.Queries{
			TaskByID: query.NewTaskByIDHandler(d.ReadModel, log, m),
			Tasks:    query.NewTasksHandler(d.ReadModel, log, m),
		},
	}
}

// Module provides app.Application.
var Module = fx.Module("tasks", fx.Provide(NewApplication))
