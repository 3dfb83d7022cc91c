// Package app lists the tasks module's use cases.
package app

import (
	"github.com/taskd/taskd/modules/tasks/app/command"
	"github.com/taskd/taskd/modules/tasks/app/query"
)

type Application struct {
	Commands Commands
	Queries  Queries
}

type Commands struct {
	CreateTask       command.CreateTaskHandler
	UpdateTask       command.UpdateTaskHandler
	ChangeTaskStatus command.ChangeTaskStatusHandler
	AssignTask       command.AssignTaskHandler
	DeleteTask       command.DeleteTaskHandler
	ReleaseUserTasks command.ReleaseUserTasksHandler
}

type Queries struct {
	TaskByID query.TaskByIDHandler
	Tasks    query.TasksHandler
}
