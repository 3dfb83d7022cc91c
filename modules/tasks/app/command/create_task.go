package command

import (
	"context"
	"log/slog"
	"time"

	"github.com/taskd/taskd/modules/kernel/actor"
	"github.com/taskd/taskd/modules/kernel/decorator"
	"github.com/taskd/taskd/modules/tasks/domain/task"
)

// CreateTask creates a task. The port generates ID.
type CreateTask struct {
	ID         string
	Actor      actor.Actor
	Name       string
	Contents   string
	Status     string // "" → waiting
	Priority   string // "" → medium
	Deadline   string // "" → none; RFC 3339 or YYYY-MM-DD
	PIC        string // e-mail or user id; "" → nobody
	Supervisor string // e-mail or user id; "" → nobody
}

func (c CreateTask) LogAttrs() []slog.Attr {
	return []slog.Attr{slog.String("task_id", c.ID), slog.String("actor", c.Actor.UserID)}
}

type CreateTaskHandler decorator.CommandHandler[CreateTask]

type createTaskHandler struct {
	repo  task.Repository
	users UserDirectory
	clock func() time.Time
	newID func() string
}

// NewCreateTaskHandler builds the handler; newEventID makes event ids.
func NewCreateTaskHandler(repo task.Repository, users UserDirectory, clock func() time.Time, newEventID func() string, logger *slog.Logger, m decorator.Metrics) CreateTaskHandler {
	return decorator.ApplyCommandDecorators[CreateTask](createTaskHandler{repo: repo, users: users, clock: clock, newID: newEventID}, logger, m)
}

func (h createTaskHandler) Handle(ctx context.Context, c CreateTask) error {
	p := task.NewTaskParams{ID: c.ID, Name: c.Name, Contents: c.Contents, CreatorID: c.Actor.UserID}
	var err error
	if c.Status != "" {
		if p.Status, err = task.StatusFromString(c.Status); err != nil {
			return err
		}
	}
	if c.Priority != "" {
		if p.Priority, err = task.PriorityFromString(c.Priority); err != nil {
			return err
		}
	}
	if c.Deadline != "" {
		d, err := task.ParseDeadline(c.Deadline)
		if err != nil {
			return err
		}
		p.Deadline = &d
	}
	if p.PICID, err = resolveOptional(ctx, h.users, "PIC", c.PIC); err != nil {
		return err
	}
	if p.SupervisorID, err = resolveOptional(ctx, h.users, "Supervisor", c.Supervisor); err != nil {
		return err
	}
	t, err := task.NewTask(p, h.clock(), h.newID)
	if err != nil {
		return err
	}
	return h.repo.Add(ctx, t)
}
