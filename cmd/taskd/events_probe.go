package main

import (
	"context"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill/components/cqrs"

	"github.com/taskd/taskd/adapters/sqlstore"
	identity "github.com/taskd/taskd/modules/identity/contracts"
	"github.com/taskd/taskd/modules/kernel/event"
	tasks "github.com/taskd/taskd/modules/tasks/contracts"
	"github.com/taskd/taskd/ports/events"
)

// probeGroup is the diagnostic handler group "probe" (TASKD_EVENTS_PROBE):
// it handles every event of every module once (processed-event key) and
// records it in event_probe with its commit-to-handler latency. Operators
// use it to check delivery end to end; the crash, outage and benchmark
// tests count its rows against the outbox.
func probeGroup(db *sqlstore.DB) events.HandlerGroup {
	return events.HandlerGroup{
		Name: sqlstore.ProbeGroup,
		Handlers: []cqrs.GroupEventHandler{
			probeHandler[tasks.TaskCreated](db), probeHandler[tasks.TaskUpdated](db),
			probeHandler[tasks.TaskStatusChanged](db), probeHandler[tasks.TaskAssigned](db),
			probeHandler[tasks.TaskCompleted](db), probeHandler[tasks.TaskReopened](db),
			probeHandler[tasks.TaskDeleted](db),
			probeHandler[identity.UserRegistered](db), probeHandler[identity.UserUpdated](db),
			probeHandler[identity.UserDeleted](db),
		},
	}
}

func probeHandler[T any](db *sqlstore.DB) cqrs.GroupEventHandler {
	return cqrs.NewGroupEventHandler(func(ctx context.Context, e *T) error {
		ev, ok := any(e).(event.Event)
		if !ok {
			return events.Permanent(fmt.Errorf("probe: %T is not an event", e))
		}
		m := ev.EventMeta()
		return db.RecordProbe(ctx, sqlstore.Probe{
			EventID: m.ID, EventName: ev.Name(), AggregateID: m.AggregateID, Sequence: m.Sequence,
			OccurredAt: m.OccurredAt, HandledAt: time.Now(),
		})
	})
}
