package command

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/taskd/taskd/modules/kernel/decorator"
	n "github.com/taskd/taskd/modules/notifications/domain/notification"
	tasks "github.com/taskd/taskd/modules/tasks/contracts"
)

// HandleTaskEvent consumes one task event: it keeps the reminder schedule
// of the task and writes the inbox entries and delivery records of the
// people to tell — once per event, whatever the redeliveries (the
// processed-event key and the unique keys of both tables), in one
// transaction (embedded: the one acknowledging the event).
type HandleTaskEvent struct {
	Event tasks.TaskEvent
}

func (c HandleTaskEvent) LogAttrs() []slog.Attr {
	return []slog.Attr{slog.String("event", c.Event.Type), slog.String("event_id", c.Event.ID), slog.String("task_id", c.Event.AggregateID)}
}

type HandleTaskEventHandler decorator.CommandHandler[HandleTaskEvent]

type handleTaskEventHandler struct {
	planner
	clock func() time.Time
}

func NewHandleTaskEventHandler(p Deps, logger *slog.Logger, m decorator.Metrics) HandleTaskEventHandler {
	return decorator.ApplyCommandDecorators[HandleTaskEvent](handleTaskEventHandler{planner: p.planner(), clock: p.Clock}, logger, m)
}

func (h handleTaskEventHandler) Handle(ctx context.Context, c HandleTaskEvent) error {
	e := domainEvent(c.Event)
	if err := e.Validate(); err != nil {
		return fmt.Errorf("%s %s: %w", e.Name, e.ID, err)
	}
	return h.store.ProcessOnce(ctx, ConsumerName, e.ID, func(ctx context.Context) error {
		now := h.clock()
		// The newest state of the task wins: a stale event (SQS reorders)
		// does not move the schedule back, though its message is still
		// told — it reports a change that did happen.
		newer, err := h.store.AdvanceSequence(ctx, ConsumerName, e.Task.ID, e.Sequence)
		if err != nil {
			return err
		}
		if newer {
			if e.Name == n.EventTaskDeleted {
				err = h.store.DeleteSchedule(ctx, e.Task.ID)
			} else {
				err = h.store.SaveSchedule(ctx, n.ScheduleOf(e.Task), now)
			}
			if err != nil {
				return err
			}
		}
		return h.deliver(ctx, notice{
			sourceID: e.ID, eventName: e.Name, intents: n.Plan(e),
			facts: n.Facts{Event: e.Name, Task: e.Task, ActorID: e.ActorID, Changes: e.Changes},
		}, now)
	})
}

func domainEvent(e tasks.TaskEvent) n.TaskEvent {
	t := e.Task
	id := t.ID
	if id == "" {
		id = e.AggregateID
	}
	return n.TaskEvent{
		ID: e.ID, Name: e.Type, ActorID: e.ActorID, OccurredAt: e.OccurredAt, Sequence: e.Sequence,
		Task: n.Task{ID: id, Name: t.Name, Status: t.Status, Priority: t.Priority, Deadline: t.Deadline,
			PICID: t.PICID, SupervisorID: t.SupervisorID, CreatorID: t.CreatorID},
		Changes: e.Changes,
	}
}
