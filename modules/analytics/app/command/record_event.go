// Package command holds the analytics module's write side: recording an
// event in the log and projecting it, and rebuilding the read models.
package command

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/taskd/taskd/modules/analytics/domain/eventlog"
	"github.com/taskd/taskd/modules/kernel/decorator"
	"github.com/taskd/taskd/modules/kernel/event"
)

// RecordEvent stores an event of any module in the log, once, and projects
// a task event into the read models.
//
// Delivery is at least once and, in the cloud, in any order. The log
// dedupes by event id. The projection applies each task's events strictly
// in sequence order: an event that arrives before its predecessor is kept
// in the log and waits; when the predecessor arrives, its handler applies
// both (it reads the log after it). Each step commits the task's new state
// conditionally on the old one, so a redelivered or concurrent event has
// no second effect.
type RecordEvent struct {
	// Event is the event, or Payload its published JSON.
	Event   event.Event
	Payload json.RawMessage
}

func (c RecordEvent) LogAttrs() []slog.Attr {
	if c.Event == nil {
		return []slog.Attr{slog.Int("payload_bytes", len(c.Payload))}
	}
	m := c.Event.EventMeta()
	return []slog.Attr{slog.String("event", m.Type), slog.String("event_id", m.ID),
		slog.String("aggregate_id", m.AggregateID), slog.Int64("sequence", m.Sequence)}
}

type RecordEventHandler decorator.CommandHandler[RecordEvent]

type recordEventHandler struct {
	log       eventlog.Log
	projector *Projection
}

func NewRecordEventHandler(log eventlog.Log, p *Projection, logger *slog.Logger, m decorator.Metrics) RecordEventHandler {
	return decorator.ApplyCommandDecorators[RecordEvent](recordEventHandler{log: log, projector: p}, logger, m)
}

func (h recordEventHandler) Handle(ctx context.Context, c RecordEvent) error {
	payload := c.Payload
	if c.Event != nil {
		var err error
		if payload, err = json.Marshal(c.Event); err != nil {
			return eventlog.ErrMalformedEvent.WithMessage("encoding %s: %v", c.Event.Name(), err)
		}
	}
	if len(payload) == 0 {
		return eventlog.ErrMalformedEvent.WithMessage("no event")
	}
	e, err := eventlog.ParseEntry(payload)
	if err != nil {
		return err
	}
	if _, err := h.log.Append(ctx, e); err != nil {
		return fmt.Errorf("appending %s %s to the event log: %w", e.Type, e.EventID, err)
	}
	if !e.IsTask() {
		return nil
	}
	// Even a duplicate goes on: its first delivery may have stopped
	// between the log and the projection.
	return h.projector.CatchUp(ctx, e.AggregateID)
}
