package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// outcome classifies one request.
type outcome int

const (
	ok       outcome = iota
	conflict         // 409 or 412: a clean answer to a lost race
	failed           // a transport error, a 5xx or any other unexpected answer
)

// op does request i of a scenario on worker w and says how it went.
type op func(ctx context.Context, w, i int) (outcome, error)

// Result is one scenario at one concurrency.
type Result struct {
	Mode        string  `json:"mode"`
	Scenario    string  `json:"scenario"`
	Concurrency int     `json:"concurrency"`
	Requests    int     `json:"requests"`
	Seconds     float64 `json:"seconds"`
	RPS         float64 `json:"rps"`
	P50ms       float64 `json:"p50_ms"`
	P95ms       float64 `json:"p95_ms"`
	P99ms       float64 `json:"p99_ms"`
	Errors      int64   `json:"errors"`
	Conflicts   int64   `json:"conflicts"`
	// CPUPer1k is the server's CPU seconds (user + system, /proc/<pid>/stat)
	// per 1,000 requests while the scenario ran; CPUPer1kAsync adds the CPU
	// its event consumers spent afterwards until the server was idle again.
	CPUPer1k      float64 `json:"cpu_s_per_1k"`
	CPUPer1kAsync float64 `json:"cpu_s_per_1k_incl_async,omitempty"`
	// DBCPUPer1k is the database server's CPU seconds per 1,000 requests
	// (MariaDB's mariadbd process; 0 for SQLite, which runs inside taskd).
	DBCPUPer1k float64 `json:"db_cpu_s_per_1k,omitempty"`
	// RSSMiB and HWMMiB are the server's resident and peak resident memory
	// (VmRSS, VmHWM) at the end of the scenario.
	RSSMiB float64 `json:"rss_mib,omitempty"`
	HWMMiB float64 `json:"hwm_mib,omitempty"`
	// Baseline is the baseline scenario this one is compared to, and Ratio
	// its rate divided by the baseline's at the same concurrency.
	Baseline string  `json:"baseline,omitempty"`
	Ratio    float64 `json:"ratio,omitempty"`
	// TasksPresent is the number of tasks in the database when it started.
	TasksPresent int    `json:"tasks_present,omitempty"`
	FirstError   string `json:"first_error,omitempty"`
	Note         string `json:"note,omitempty"`
}

// runLoad runs n requests of do on c workers (a closed loop: each worker
// sends its next request when the last one is answered) and measures them.
// pid, when not 0, is the server whose CPU and memory are read.
func runLoad(ctx context.Context, name string, c, n int, pid int, do op) Result {
	dbBefore := readProc(dbPID)
	lat := make([]time.Duration, n)
	var next, errCount, conflicts atomic.Int64
	var firstErr atomic.Value
	before := readProc(pid)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t0 := time.Now()
				o, err := do(ctx, w, i)
				lat[i] = time.Since(t0)
				switch o {
				case conflict:
					conflicts.Add(1)
				case failed:
					errCount.Add(1)
					if err == nil {
						err = errors.New("failed")
					}
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(start)
	after := readProc(pid)
	done := min(int(next.Load()), n)
	lat = lat[:done]
	slices.Sort(lat)
	r := Result{
		Scenario: name, Concurrency: c, Requests: done, Seconds: elapsed.Seconds(),
		RPS: float64(done) / elapsed.Seconds(), P50ms: pct(lat, 0.50), P95ms: pct(lat, 0.95), P99ms: pct(lat, 0.99),
		Errors: errCount.Load(), Conflicts: conflicts.Load(),
	}
	if e, ok := firstErr.Load().(string); ok {
		r.FirstError = e
	}
	if dbAfter := readProc(dbPID); dbPID != 0 && dbBefore.Valid && dbAfter.Valid && done > 0 {
		r.DBCPUPer1k = (dbAfter.CPU - dbBefore.CPU).Seconds() * 1000 / float64(done)
	}
	if pid != 0 && before.Valid && after.Valid && done > 0 {
		r.CPUPer1k = (after.CPU - before.CPU).Seconds() * 1000 / float64(done)
		r.RSSMiB, r.HWMMiB = mib(after.RSS), mib(after.HWM)
	}
	return r
}

func pct(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.5) - 1
	i = max(0, min(i, len(sorted)-1))
	return float64(sorted[i].Microseconds()) / 1000
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// classify turns an HTTP answer into an outcome: want is the success status.
func classify(resp *http.Response, err error, want int) (outcome, error) {
	if err != nil {
		return failed, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == want:
		_, _ = io.Copy(io.Discard, resp.Body)
		return ok, nil
	case resp.StatusCode == http.StatusConflict || resp.StatusCode == http.StatusPreconditionFailed:
		_, _ = io.Copy(io.Discard, resp.Body)
		return conflict, nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
	return failed, fmt.Errorf("%s %s: %d %s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, b)
}
