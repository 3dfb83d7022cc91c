package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// printReport writes the results as tables.
func printReport(w io.Writer, out Output) {
	m := out.Machine
	fmt.Fprintf(w, "\ntaskbench %s — %d CPUs (%s), %.1f GiB, %s, Linux %s\n",
		out.StartedAt.Format("2006-01-02 15:04 UTC"), m.CPUs, m.CPUModel, m.MemGiB, m.Go, m.Kernel)
	fmt.Fprintln(w, "client and server share the machine; cpu = taskd's user+system CPU seconds per 1,000 requests (/proc/<pid>/stat),")
	fmt.Fprintln(w, "+async adds its event consumers' CPU until idle; db cpu = mariadbd's; ratio = req/s ÷ the bare statement's at the same concurrency")
	modes := []string{}
	for _, r := range out.Results {
		if !contains(modes, r.Mode) {
			modes = append(modes, r.Mode)
		}
	}
	for _, mode := range modes {
		fmt.Fprintf(w, "\n== %s ==\n", mode)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "scenario\tc\treq\treq/s\tp50 ms\tp95 ms\tp99 ms\terrors\tconflicts\tcpu s/1k\t+async\tdb cpu\tratio\ttasks\t")
		for _, r := range out.Results {
			if r.Mode != mode {
				continue
			}
			cpu, async, rat := "-", "-", "-"
			if !strings.HasPrefix(r.Scenario, "bare-") {
				cpu = fmt.Sprintf("%.3f", r.CPUPer1k)
				async = fmt.Sprintf("%.3f", r.CPUPer1kAsync)
			}
			if r.Ratio > 0 {
				rat = fmt.Sprintf("%.2f", r.Ratio)
			}
			tasks := "-"
			if r.TasksPresent > 0 {
				tasks = fmt.Sprint(r.TasksPresent)
			}
			db := "-"
			if r.DBCPUPer1k > 0 {
				db = fmt.Sprintf("%.3f", r.DBCPUPer1k)
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f\t%.2f\t%.2f\t%.2f\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t\n",
				r.Scenario, r.Concurrency, r.Requests, r.RPS, r.P50ms, r.P95ms, r.P99ms, r.Errors, r.Conflicts, cpu, async, db, rat, tasks)
		}
		tw.Flush()
		for _, r := range out.Results {
			if r.Mode == mode && r.FirstError != "" {
				fmt.Fprintf(w, "  first error of %s c=%d: %s\n", r.Scenario, r.Concurrency, r.FirstError)
			}
		}
		for _, mem := range out.Memory {
			if mem.Mode == mode {
				fmt.Fprintf(w, "  taskd memory: peak RSS (VmHWM) %.1f MiB, at the end %.1f MiB\n", mem.PeakRSSMiB, mem.EndRSSMiB)
			}
		}
		for _, e := range out.Events {
			if e.Mode != mode {
				continue
			}
			fmt.Fprintf(w, "  events (%s), %d tasks created one by one at %.0f/s:\n", e.Transport, e.LatencyTasks, e.RatePerSecond)
			for _, h := range e.Handlers {
				fmt.Fprintf(w, "    commit → handler %-22s p50 %6.1f ms  p99 %6.1f ms  (%d events)\n", h.Handler, h.P50ms, h.P99ms, h.Events)
			}
			fmt.Fprintf(w, "    commit → inbox entry                  p50 %6.1f ms  p99 %6.1f ms  (%d entries)\n", e.InboxP50ms, e.InboxP99ms, e.InboxEntries)
			fmt.Fprintf(w, "  sustained, a burst of %d creates at c=16 (API %.0f req/s, %d events):\n", e.BurstTasks, e.BurstAPIRPS, e.BurstEvents)
			for _, h := range e.BurstHandlers {
				fmt.Fprintf(w, "    %-22s %6.0f events/s  (drained %.1f s after the first commit)\n", h.Handler, h.PerSecond, h.DrainSeconds)
			}
			fmt.Fprintf(w, "    inbox entries          %6.0f /s\n", e.InboxPerSecond)
			if e.Note != "" {
				fmt.Fprintf(w, "    note: %s\n", e.Note)
			}
		}
	}
	fmt.Fprintln(w)
	targets(w, out)
	for _, n := range out.Notes {
		fmt.Fprintln(w, "note:", n)
	}
}

// targets checks issue 8's targets.
func targets(w io.Writer, out Output) {
	find := func(mode, scenario string, c int) *Result {
		for i := range out.Results {
			r := &out.Results[i]
			if r.Mode == mode && r.Scenario == scenario && r.Concurrency == c {
				return r
			}
		}
		return nil
	}
	mark := func(okay bool) string {
		if okay {
			return "met "
		}
		return "MISS"
	}
	fmt.Fprintln(w, "targets (issue 8):")
	for _, mode := range []string{"embedded", "cloud"} {
		for _, s := range []string{"create", "update-status", "update-same-task"} {
			if r := find(mode, s, 64); r != nil {
				fmt.Fprintf(w, "  [%s] %s %s c=64: %d errors (%d conflicts)\n", mark(r.Errors == 0), mode, s, r.Errors, r.Conflicts)
			}
		}
		if r := find(mode, "create", 16); r != nil && r.Ratio > 0 {
			fmt.Fprintf(w, "  [%s] %s create c=16 ≥ 50%% of bare insert: %.0f%%\n", mark(r.Ratio >= 0.5), mode, 100*r.Ratio)
		}
		for _, c := range []int{16, 64, 1} {
			if r := find(mode, "get-one", c); r != nil && r.Ratio > 0 {
				fmt.Fprintf(w, "  [%s] %s get-one c=%d ≥ 50%% of bare PK select: %.0f%%\n", mark(r.Ratio >= 0.5), mode, c, 100*r.Ratio)
			}
		}
		for _, s := range []string{"weekly-report-early", "weekly-report"} {
			if r := find(mode, s, 16); r != nil {
				fmt.Fprintf(w, "  [%s] %s %s c=16 p99 ≤ 5 ms: %.2f ms\n", mark(r.P99ms <= 5), mode, s, r.P99ms)
			}
		}
	}
	for _, mem := range out.Memory {
		if mem.Mode == "embedded" {
			fmt.Fprintf(w, "  [%s] embedded peak RSS ≤ 150 MiB: %.1f MiB\n", mark(mem.PeakRSSMiB <= 150), mem.PeakRSSMiB)
		}
	}
}
