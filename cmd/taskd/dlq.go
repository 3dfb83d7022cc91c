package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/taskd/taskd/ports/events"
)

const dlqUsage = `taskd dlq list [--queue Q] [--json]            show dead letters (in the cloud: collected from the SQS DLQs first)
taskd dlq replay [--queue Q] [--id ID]           move dead letters back to their queue (all, one queue's, or one)`

// runDLQ is `taskd dlq …`, the admins' dead-letter commands. It works in
// both modes: dead letters live in the dead_letters table; in the cloud the
// SQS dead-letter queues are collected into it first, and a replay sends a
// message back to its group's SQS queue (embedded: back into the group's
// redelivery). The handler groups of a running taskd then handle it.
func runDLQ(ctx context.Context, cfg Config, logger *slog.Logger, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "replay") {
		return usageError{dlqUsage}
	}
	sub := args[0]
	fs := flag.NewFlagSet("dlq "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	queue := fs.String("queue", "", "handler group (or its queue or DLQ name)")
	id := fs.String("id", "", "dead letter id (the ID column of `taskd dlq list`)")
	asJSON := false
	if sub == "list" {
		fs.BoolVar(&asJSON, "json", false, "one JSON object per line, with payload")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{"unexpected arguments: " + strings.Join(fs.Args(), " ")}
	}
	db, err := openStore(ctx, cfg, logger, cfg.AutoMigrate)
	if err != nil {
		return err
	}
	defer db.SQL.Close()
	b, err := newEventBackbone(ctx, cfg, db, nil, events.NopMetrics{}, logger)
	if err != nil {
		return err
	}
	if b.collector != nil {
		if n, err := b.collector.CollectDeadLetters(ctx); err != nil {
			fmt.Fprintf(stderr, "warning: collecting the SQS dead-letter queues: %v\n", err)
		} else if n > 0 {
			fmt.Fprintf(stderr, "collected %d new dead letters from the SQS dead-letter queues\n", n)
		}
	}
	f := events.DeadLetterFilter{Queue: groupOfQueue(cfg.Env, *queue), ID: *id}
	if sub == "list" {
		return listDeadLetters(ctx, b, f, asJSON, stdout)
	}
	return replayDeadLetters(ctx, b, f, stdout, stderr)
}

// groupOfQueue accepts a handler group's name, its queue's name
// (<env>-<group>) or its DLQ's (<env>-<group>-dlq).
func groupOfQueue(env, q string) string {
	if g, ok := strings.CutPrefix(q, env+"-"); ok && g != "" {
		q = g
	}
	return strings.TrimSuffix(q, "-dlq")
}

func listDeadLetters(ctx context.Context, b *eventBackbone, f events.DeadLetterFilter, asJSON bool, out io.Writer) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	if !asJSON {
		fmt.Fprintln(tw, "ID\tQUEUE\tEVENT\tEVENT_ID\tATTEMPTS\tSOURCE\tDEAD_AT\tERROR")
	}
	enc := json.NewEncoder(out)
	total := 0
	page := f
	page.Limit = 500
	for {
		batch, err := b.store.List(ctx, page)
		if err != nil {
			return err
		}
		for _, dl := range batch {
			total++
			if asJSON {
				if err := enc.Encode(deadLetterJSON(dl)); err != nil {
					return err
				}
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", dl.ID, dl.Queue, dl.EventName, dl.EventID, dl.Attempts,
				dl.Source, dl.DeadAt.Format(time.RFC3339), oneLine(dl.LastError, 100))
		}
		if len(batch) < page.Limit || f.ID != "" {
			break
		}
		page.AfterID = batch[len(batch)-1].ID
	}
	if asJSON {
		return nil
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "%d dead letters\n", total)
	return nil
}

type deadLetterOut struct {
	ID        string            `json:"id"`
	Queue     string            `json:"queue"`
	EventName string            `json:"event_name"`
	EventID   string            `json:"event_id"`
	Attempts  int               `json:"attempts"`
	Source    string            `json:"source"`
	FailedAt  time.Time         `json:"failed_at"`
	DeadAt    time.Time         `json:"dead_at"`
	LastError string            `json:"last_error"`
	Metadata  map[string]string `json:"metadata"`
	Payload   json.RawMessage   `json:"payload"`
}

func deadLetterJSON(dl events.DeadLetter) deadLetterOut {
	payload := json.RawMessage(dl.Payload)
	if !json.Valid(payload) {
		payload, _ = json.Marshal(string(dl.Payload))
	}
	return deadLetterOut{ID: dl.ID, Queue: dl.Queue, EventName: dl.EventName, EventID: dl.EventID, Attempts: dl.Attempts,
		Source: dl.Source, FailedAt: dl.FailedAt, DeadAt: dl.DeadAt, LastError: dl.LastError, Metadata: dl.Metadata, Payload: payload}
}

func oneLine(s string, n int) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func replayDeadLetters(ctx context.Context, b *eventBackbone, f events.DeadLetterFilter, out, progressOut io.Writer) error {
	var last time.Time
	progress := func(done, failed, total int) {
		if now := time.Now(); now.Sub(last) >= 500*time.Millisecond || done+failed == total {
			last = now
			fmt.Fprintf(progressOut, "\rreplayed %d/%d (%d failed)", done, total, failed)
			if done+failed == total {
				fmt.Fprintln(progressOut)
			}
		}
	}
	n, err := events.Replay(ctx, b.store, b.replayer, f, progress)
	fmt.Fprintf(out, "replayed %d dead letters\n", n)
	if err != nil {
		return err
	}
	if n == 0 && f.ID != "" {
		return fmt.Errorf("no dead letter with id %s", f.ID)
	}
	return nil
}
