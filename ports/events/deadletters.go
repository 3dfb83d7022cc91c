package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"
)

// DeadLetter is one event that a handler group could not handle: after
// maxReceiveCount deliveries, or at once for a Permanent error.
type DeadLetter struct {
	// ID identifies the dead letter in its store (for `taskd dlq replay --id`).
	ID string
	// Queue is the handler group whose delivery failed ("forwarder" for an
	// event the forwarder could not publish).
	Queue     string
	EventID   string
	EventName string
	// Payload is the event JSON and Metadata its message metadata, as the
	// handler received them: enough to deliver it again.
	Payload  []byte
	Metadata map[string]string
	// Attempts is how many deliveries failed (SQS: the receive count).
	Attempts  int
	LastError string
	// Source says where the failure was recorded: "embedded", "sqs", "sns".
	Source    string
	FailedAt  time.Time
	DeadAt    time.Time
	AlertedAt time.Time
}

// DeadLetterAlerter tells people about a dead letter. The notifications
// module implements it with the team chat webhook; until then LogAlerter.
type DeadLetterAlerter interface {
	Alert(ctx context.Context, dl DeadLetter) error
}

// DeadLetterFilter selects dead letters; zero fields select all.
type DeadLetterFilter struct {
	Queue string
	ID    string
	// AfterID pages: only dead letters whose ID sorts after it (numeric ids).
	AfterID string
	Limit   int
}

// DeadLetterStore keeps the dead letters of every group (the SQL table
// dead_letters in both modes; the cloud's DLQ watcher drains SQS DLQs
// into it).
type DeadLetterStore interface {
	// List returns dead letters in ID order.
	List(ctx context.Context, f DeadLetterFilter) ([]DeadLetter, error)
	// Count returns how many dead letters f selects.
	Count(ctx context.Context, f DeadLetterFilter) (int, error)
	// ClaimUnalerted marks up to limit dead letters not yet alerted as
	// alerted and returns them; each is claimed by one caller only.
	ClaimUnalerted(ctx context.Context, limit int) ([]DeadLetter, error)
	// ReleaseAlert undoes a claim whose alert failed, so it is tried again.
	ReleaseAlert(ctx context.Context, id string) error
	// Depth returns the number of dead letters per queue.
	Depth(ctx context.Context) (map[string]int, error)
}

// DeadLetterCollector moves the transport's own dead letters into the
// store: the cloud's SQS DLQs. Embedded mode records them in the store
// directly and needs none.
type DeadLetterCollector interface {
	CollectDeadLetters(ctx context.Context) (int, error)
}

// DeadLetterReplayer delivers a dead letter to its group again and removes
// it from the dead letters (embedded: back into the group's redelivery
// with fresh attempts; cloud: sent to the group's SQS queue).
type DeadLetterReplayer interface {
	Replay(ctx context.Context, dl DeadLetter) error
}

// LogAlerter is the alert port until the team chat one exists: it logs each
// dead letter at error level (the metrics hook counts them).
type LogAlerter struct {
	Logger *slog.Logger
}

func (a LogAlerter) Alert(ctx context.Context, dl DeadLetter) error {
	a.Logger.LogAttrs(ctx, slog.LevelError, "event dead-lettered: handler group gave up on it; fix the cause, then `taskd dlq replay`",
		slog.String("queue", dl.Queue),
		slog.String("dead_letter_id", dl.ID),
		slog.String("event", dl.EventName),
		slog.String("event_id", dl.EventID),
		slog.Int("attempts", dl.Attempts),
		slog.String("source", dl.Source),
		slog.String("error", dl.LastError))
	return nil
}

// DLQWatcher watches the dead letters: it collects the transport's DLQs
// into the store (cloud), hands every new dead letter to the alerter once,
// and reports counts and depths.
type DLQWatcher struct {
	Store     DeadLetterStore
	Collector DeadLetterCollector // nil when embedded
	Alerter   DeadLetterAlerter
	Metrics   DeadLetterMetrics // nil: none
	Logger    *slog.Logger
	// Interval between looks (default 10s).
	Interval time.Duration

	queues map[string]bool
}

// Run watches until ctx ends.
func (w *DLQWatcher) Run(ctx context.Context) error {
	interval := w.Interval
	if interval <= 0 {
		interval = 10 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := w.Tick(ctx); err != nil && ctx.Err() == nil {
			w.Logger.Warn("dead-letter watcher", slog.String("error", err.Error()))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Tick looks once.
func (w *DLQWatcher) Tick(ctx context.Context) error {
	var errs []error
	if w.Collector != nil {
		if _, err := w.Collector.CollectDeadLetters(ctx); err != nil {
			errs = append(errs, fmt.Errorf("collecting dead letters: %w", err))
		}
	}
	for {
		batch, err := w.Store.ClaimUnalerted(ctx, 50)
		if err != nil {
			errs = append(errs, fmt.Errorf("claiming dead letters: %w", err))
			break
		}
		for _, dl := range batch {
			if w.Metrics != nil {
				w.Metrics.EventDeadLettered(dl.Queue)
			}
			if err := w.Alerter.Alert(ctx, dl); err != nil {
				errs = append(errs, fmt.Errorf("alerting dead letter %s: %w", dl.ID, err))
				if rerr := w.Store.ReleaseAlert(context.WithoutCancel(ctx), dl.ID); rerr != nil {
					errs = append(errs, rerr)
				}
			}
		}
		if len(batch) < 50 || len(errs) > 0 {
			break
		}
	}
	if w.Metrics != nil {
		depth, err := w.Store.Depth(ctx)
		if err != nil {
			errs = append(errs, err)
		} else {
			if w.queues == nil {
				w.queues = map[string]bool{}
			}
			for q := range depth {
				w.queues[q] = true
			}
			// A queue seen once keeps reporting, 0 when emptied.
			for q := range w.queues {
				w.Metrics.SetDLQDepth(q, depth[q])
			}
		}
	}
	return errors.Join(errs...)
}

// ReplayProgress is called after each dead letter replayed (or failed).
type ReplayProgress func(done, failed, total int)

// Replay replays the dead letters f selects, in ID order, and returns how
// many were replayed. A failure does not stop the others; the failures are
// returned joined (the first ten).
func Replay(ctx context.Context, store DeadLetterStore, r DeadLetterReplayer, f DeadLetterFilter, progress ReplayProgress) (int, error) {
	total, err := store.Count(ctx, f)
	if err != nil {
		return 0, err
	}
	var (
		done, failed int
		errs         []error
	)
	page := f
	page.Limit = 100
	// Failed ones stay in the store: page past them by ID.
	for done+failed < total {
		batch, err := store.List(ctx, page)
		if err != nil {
			return done, errors.Join(append(errs, err)...)
		}
		if len(batch) == 0 {
			break
		}
		for _, dl := range batch {
			if err := ctx.Err(); err != nil {
				return done, errors.Join(append(errs, err)...)
			}
			if err := r.Replay(ctx, dl); err != nil {
				failed++
				if len(errs) < 10 {
					errs = append(errs, fmt.Errorf("replaying %s (%s, %s): %w", dl.ID, dl.Queue, dl.EventID, err))
				}
			} else {
				done++
			}
			if progress != nil {
				progress(done, failed, total)
			}
		}
		page.AfterID = batch[len(batch)-1].ID
		if f.ID != "" {
			break
		}
	}
	if failed > 0 {
		errs = append([]error{fmt.Errorf("%d of %d dead letters not replayed", failed, total)}, errs...)
	}
	return done, errors.Join(errs...)
}

// SortedQueues returns the keys of a depth map in order.
func SortedQueues(depth map[string]int) []string {
	out := make([]string, 0, len(depth))
	for q := range depth {
		out = append(out, q)
	}
	sort.Strings(out)
	return out
}
