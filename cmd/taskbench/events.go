package main

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"
)

// EventResult is the event path of one mode: commit → consumer handler (the
// diagnostic "probe" handler group, TASKD_EVENTS_PROBE) and commit → inbox
// (the notifications module's in-app inbox entry), from events_latency
// tasks created one at a time at a steady rate; and the sustained rate of a
// burst of events_burst creates at concurrency 16.
//
// "Commit" is the event's occurred_at: the server's clock when the command
// ran, just before its transaction committed, so each latency includes the
// commit itself (a few ms at most). All three times are the server's clock.
type EventResult struct {
	Mode      string `json:"mode"`
	Transport string `json:"transport"`
	// Latency phase.
	LatencyTasks     int     `json:"latency_tasks"`
	RatePerSecond    float64 `json:"latency_rate_per_s"`
	HandlerEvents    int     `json:"handler_events"`
	HandlerP50ms     float64 `json:"handler_p50_ms"`
	HandlerP99ms     float64 `json:"handler_p99_ms"`
	InboxEntries     int     `json:"inbox_entries"`
	InboxP50ms       float64 `json:"inbox_p50_ms"`
	InboxP99ms       float64 `json:"inbox_p99_ms"`
	LatencyAPIErrors int     `json:"latency_api_errors"`
	// Burst phase.
	BurstTasks       int     `json:"burst_tasks"`
	BurstAPIRPS      float64 `json:"burst_api_rps"`
	BurstEvents      int     `json:"burst_events"`
	EventsPerSecond  float64 `json:"events_per_s"`
	InboxPerSecond   float64 `json:"inbox_entries_per_s"`
	BurstLagP99ms    float64 `json:"burst_handler_p99_ms"`
	BurstDrainSecond float64 `json:"burst_drain_s"`
	Note             string  `json:"note,omitempty"`
}

// eventWindow reads what the probe and the inbox recorded for events that
// occurred in [from, to] (unix µs).
type eventWindow struct {
	handler, inbox     []time.Duration
	firstOccurred      int64
	lastHandled, lastI int64
}

func readEventWindow(ctx context.Context, db *sql.DB, from, to int64) (eventWindow, error) {
	var w eventWindow
	rows, err := db.QueryContext(ctx, `SELECT occurred_at, handled_at FROM event_probe WHERE occurred_at >= ? AND occurred_at <= ?`, from, to)
	if err != nil {
		return w, fmt.Errorf("reading event_probe (is TASKD_EVENTS_PROBE on?): %w", err)
	}
	for rows.Next() {
		var o, h int64
		if err := rows.Scan(&o, &h); err != nil {
			rows.Close()
			return w, err
		}
		w.handler = append(w.handler, time.Duration(h-o)*time.Microsecond)
		if w.firstOccurred == 0 || o < w.firstOccurred {
			w.firstOccurred = o
		}
		w.lastHandled = max(w.lastHandled, h)
	}
	rows.Close()
	rows, err = db.QueryContext(ctx, `SELECT p.occurred_at, i.created_at FROM notification_inbox i
		JOIN event_probe p ON p.event_id = i.source_id WHERE p.occurred_at >= ? AND p.occurred_at <= ?`, from, to)
	if err != nil {
		return w, fmt.Errorf("reading notification_inbox: %w", err)
	}
	for rows.Next() {
		var o, c int64
		if err := rows.Scan(&o, &c); err != nil {
			rows.Close()
			return w, err
		}
		w.inbox = append(w.inbox, time.Duration(c-o)*time.Microsecond)
		w.lastI = max(w.lastI, c)
	}
	rows.Close()
	slices.Sort(w.handler)
	slices.Sort(w.inbox)
	return w, nil
}

// waitEvents waits until at least want events of the window were handled
// and the counts stop growing (the consumers caught up), at most max.
func waitEvents(ctx context.Context, db *sql.DB, pid int, from, to int64, want int, max time.Duration) eventWindow {
	deadline := time.Now().Add(max)
	var last eventWindow
	stable := 0
	for time.Now().Before(deadline) {
		w, err := readEventWindow(ctx, db, from, to)
		if err == nil {
			if len(w.handler) >= want && len(w.handler) == len(last.handler) && len(w.inbox) == len(last.inbox) {
				stable++
				if stable >= 3 {
					return w
				}
			} else {
				stable = 0
			}
			last = w
		}
		time.Sleep(250 * time.Millisecond)
		waitIdle(pid, 2*time.Second)
	}
	return last
}

func micro(t time.Time) int64 { return t.UnixMicro() }
