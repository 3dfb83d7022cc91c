package command

import (
	"context"
	"log/slog"
	"time"

	"github.com/taskd/taskd/modules/kernel/decorator"
	n "github.com/taskd/taskd/modules/notifications/domain/notification"
)

// SendDeadlineReminders tells PICs of deadlines near and PICs and
// supervisors of deadlines passed. Only the holder of the reminder lease
// works (one worker however many instances run); the state lives in the
// database (the schedule's sent marks), so a restart goes on where it
// stopped, and each reminder is keyed by task, kind and deadline, so it is
// told once per deadline.
type SendDeadlineReminders struct {
	// Holder names this worker for the lease; LeaseTTL is how long the
	// lease lasts without being renewed (renewed every run and batch).
	Holder   string
	LeaseTTL time.Duration
}

func (c SendDeadlineReminders) LogAttrs() []slog.Attr {
	return []slog.Attr{slog.String("holder", c.Holder)}
}

type SendDeadlineRemindersHandler decorator.CommandHandler[SendDeadlineReminders]

type remindersHandler struct {
	planner
	clock func() time.Time
}

func NewSendDeadlineRemindersHandler(d Deps, logger *slog.Logger, m decorator.Metrics) SendDeadlineRemindersHandler {
	return decorator.ApplyCommandDecorators[SendDeadlineReminders](remindersHandler{planner: d.planner(), clock: d.Clock}, logger, m)
}

func (h remindersHandler) Handle(ctx context.Context, c SendDeadlineReminders) error {
	const batchSize = 100
	after := ""
	for {
		now := h.clock()
		held, err := h.store.AcquireLease(ctx, ReminderLease, c.Holder, now, c.LeaseTTL)
		if err != nil || !held {
			return err
		}
		batch, err := h.store.DueSchedules(ctx, now, h.cfg.ReminderLead, after, batchSize)
		if err != nil {
			return err
		}
		for _, s := range batch {
			if err := h.remind(ctx, s, now); err != nil {
				return err
			}
			after = s.TaskID
		}
		if len(batch) < batchSize {
			return nil
		}
	}
}

// remind writes s's due reminders and records them sent, in one transaction.
func (h remindersHandler) remind(ctx context.Context, s n.Schedule, now time.Time) error {
	reminders, marked := s.Due(now, h.cfg.ReminderLead)
	return h.store.WithinTransaction(ctx, func(ctx context.Context) error {
		for _, r := range reminders {
			err := h.deliver(ctx, notice{
				sourceID: r.Key, eventName: r.Kind.String(), intents: r.Intents,
				facts: n.Facts{Task: marked.Task()},
			}, now)
			if err != nil {
				return err
			}
		}
		return h.store.MarkReminded(ctx, marked, now)
	})
}
