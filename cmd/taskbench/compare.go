package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
)

// compare prints two runs side by side: `taskbench compare OLD.json NEW.json`.
func compare(w io.Writer, oldPath, newPath string) error {
	load := func(p string) (Output, error) {
		var o Output
		b, err := os.ReadFile(p)
		if err != nil {
			return o, err
		}
		return o, json.Unmarshal(b, &o)
	}
	a, err := load(oldPath)
	if err != nil {
		return err
	}
	b, err := load(newPath)
	if err != nil {
		return err
	}
	key := func(r Result) string { return fmt.Sprintf("%s/%s/%d", r.Mode, r.Scenario, r.Concurrency) }
	old := map[string]Result{}
	for _, r := range a.Results {
		old[key(r)] = r
	}
	fmt.Fprintf(w, "before: %s (%s)\nafter:  %s (%s)\n", oldPath, a.StartedAt.Format("2006-01-02 15:04"), newPath, b.StartedAt.Format("2006-01-02 15:04"))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "mode\tscenario\tc\treq/s before\tafter\tp99 ms before\tafter\tcpu s/1k before\tafter\terrors\tconflicts\t")
	for _, r := range b.Results {
		o, ok := old[key(r)]
		if !ok {
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.0f\t%.0f\t%.2f\t%.2f\t%.3f\t%.3f\t%d→%d\t%d→%d\t\n", r.Mode, r.Scenario, r.Concurrency,
			o.RPS, r.RPS, o.P99ms, r.P99ms, o.CPUPer1k, r.CPUPer1k, o.Errors, r.Errors, o.Conflicts, r.Conflicts)
	}
	return tw.Flush()
}
