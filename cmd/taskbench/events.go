package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// EventResult is the event path of one mode: commit → consumer handler
// (each handler group's processed-event record, written as its handler
// starts: processed_events.processed_at) and commit → inbox (the
// notifications module's in-app inbox entry), from latency_tasks tasks
// created one at a time at a steady rate; and the sustained rate of a burst
// of burst_tasks creates at concurrency 16.
//
// "Commit" is the event's occurred_at (in the outbox row): the server's
// clock when the command ran, just before its transaction committed, so
// each latency includes the commit itself (a few ms at most). All times are
// the server's clock. Handler groups whose records live elsewhere (the
// analytics projection in DynamoDB in the cloud mode) are not in the table.
type EventResult struct {
	Mode      string `json:"mode"`
	Transport string `json:"transport"`
	// Latency phase.
	LatencyTasks     int              `json:"latency_tasks"`
	RatePerSecond    float64          `json:"latency_rate_per_s"`
	Handlers         []HandlerLatency `json:"handlers"`
	InboxEntries     int              `json:"inbox_entries"`
	InboxP50ms       float64          `json:"inbox_p50_ms"`
	InboxP99ms       float64          `json:"inbox_p99_ms"`
	LatencyAPIErrors int              `json:"latency_api_errors"`
	// Burst phase.
	BurstTasks     int              `json:"burst_tasks"`
	BurstAPIRPS    float64          `json:"burst_api_rps"`
	BurstEvents    int              `json:"burst_events"`
	BurstHandlers  []HandlerLatency `json:"burst_handlers"`
	InboxPerSecond float64          `json:"inbox_entries_per_s"`
	Note           string           `json:"note,omitempty"`
}

// HandlerLatency is one handler group's share of a phase.
type HandlerLatency struct {
	Handler string  `json:"handler"`
	Events  int     `json:"events"`
	P50ms   float64 `json:"p50_ms"`
	P99ms   float64 `json:"p99_ms"`
	// PerSecond is events ÷ (last handled − first committed), in the burst.
	PerSecond float64 `json:"events_per_s,omitempty"`
	// DrainSeconds is that span.
	DrainSeconds float64 `json:"drain_s,omitempty"`
}

// eventWindow is what the consumers recorded for the events written to the
// outbox after offset from.
type eventWindow struct {
	events   int                        // events in the outbox window
	handlers map[string][]time.Duration // per handler group, sorted
	first    int64                      // earliest occurred_at (µs)
	last     map[string]int64           // per handler, latest processed_at (µs)
	inbox    []time.Duration            // sorted
	lastI    int64                      // latest inbox created_at (µs)
}

// maxOffset is the outbox's highest offset.
func maxOffset(ctx context.Context, db *sql.DB, dialect string) int64 {
	q := `SELECT COALESCE(MAX("offset"), 0) FROM outbox_messages`
	if dialect == "mysql" {
		q = "SELECT COALESCE(MAX(`offset`), 0) FROM outbox_messages"
	}
	var n int64
	_ = db.QueryRowContext(ctx, q).Scan(&n)
	return n
}

// envelope is the outbox row's payload: watermill's forwarder envelope
// around the event message.
type envelope struct {
	UUID     string            `json:"uuid"`
	Metadata map[string]string `json:"metadata"`
}

func readEventWindow(ctx context.Context, db *sql.DB, dialect string, from, to int64) (eventWindow, error) {
	w := eventWindow{handlers: map[string][]time.Duration{}, last: map[string]int64{}}
	q := `SELECT payload FROM outbox_messages WHERE "offset" > ? AND "offset" <= ?`
	if dialect == "mysql" {
		q = "SELECT payload FROM outbox_messages WHERE `offset` > ? AND `offset` <= ?"
	}
	rows, err := db.QueryContext(ctx, q, from, to)
	if err != nil {
		return w, fmt.Errorf("reading the outbox: %w", err)
	}
	occurred := map[string]int64{}
	for rows.Next() {
		var payload []byte
		if err := rows.Scan(&payload); err != nil {
			rows.Close()
			return w, err
		}
		var e envelope
		if json.Unmarshal(payload, &e) != nil || e.UUID == "" {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, e.Metadata["occurred_at"])
		if err != nil {
			continue
		}
		occurred[e.UUID] = at.UnixMicro()
		if w.first == 0 || at.UnixMicro() < w.first {
			w.first = at.UnixMicro()
		}
	}
	rows.Close()
	w.events = len(occurred)
	if w.events == 0 {
		return w, nil
	}
	since := w.first - 1e6
	rows, err = db.QueryContext(ctx, `SELECT handler, event_id, processed_at FROM processed_events WHERE processed_at >= ?`, since)
	if err != nil {
		return w, fmt.Errorf("reading processed_events: %w", err)
	}
	for rows.Next() {
		var (
			h, id string
			at    int64
		)
		if err := rows.Scan(&h, &id, &at); err != nil {
			rows.Close()
			return w, err
		}
		if o, ok := occurred[id]; ok {
			w.handlers[h] = append(w.handlers[h], time.Duration(at-o)*time.Microsecond)
			w.last[h] = max(w.last[h], at)
		}
	}
	rows.Close()
	rows, err = db.QueryContext(ctx, `SELECT source_id, created_at FROM notification_inbox WHERE created_at >= ?`, since)
	if err != nil {
		return w, fmt.Errorf("reading notification_inbox: %w", err)
	}
	for rows.Next() {
		var (
			id string
			at int64
		)
		if err := rows.Scan(&id, &at); err != nil {
			rows.Close()
			return w, err
		}
		if o, ok := occurred[id]; ok {
			w.inbox = append(w.inbox, time.Duration(at-o)*time.Microsecond)
			w.lastI = max(w.lastI, at)
		}
	}
	rows.Close()
	for h := range w.handlers {
		slices.Sort(w.handlers[h])
	}
	slices.Sort(w.inbox)
	return w, nil
}

func (w eventWindow) handled() int {
	n := 0
	for _, l := range w.handlers {
		n += len(l)
	}
	return n
}

// latencies summarises the window per handler group, by name.
func (w eventWindow) latencies(burst bool) []HandlerLatency {
	var out []HandlerLatency
	for h, l := range w.handlers {
		hl := HandlerLatency{Handler: h, Events: len(l), P50ms: pct(l, 0.5), P99ms: pct(l, 0.99)}
		if burst && w.last[h] > w.first {
			hl.DrainSeconds = float64(w.last[h]-w.first) / 1e6
			hl.PerSecond = float64(len(l)) / hl.DrainSeconds
		}
		out = append(out, hl)
	}
	slices.SortFunc(out, func(a, b HandlerLatency) int { return strings.Compare(a.Handler, b.Handler) })
	return out
}

// waitEvents waits until the consumers' records of the window stop
// growing for about a second (they caught up), at most max.
func waitEvents(ctx context.Context, db *sql.DB, dialect string, pid int, from, to int64, max time.Duration) eventWindow {
	deadline := time.Now().Add(max)
	var last eventWindow
	stable := 0
	for time.Now().Before(deadline) && ctx.Err() == nil {
		w, err := readEventWindow(ctx, db, dialect, from, to)
		if err == nil {
			if w.handled() > 0 && w.handled() == last.handled() && len(w.inbox) == len(last.inbox) {
				stable++
				if stable >= 3 {
					return w
				}
			} else {
				stable = 0
			}
			last = w
		}
		time.Sleep(300 * time.Millisecond)
		waitIdle(pid, 2*time.Second)
	}
	return last
}

func micro(t time.Time) int64 { return t.UnixMicro() }
