package main

import (
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestE2ELoad measures create-task and list-tasks throughput of the binary
// against MariaDB at concurrency 1 and 64, a bounded number of requests per
// case. It is a measurement, not a test, and runs only when asked:
//
//	TASKD_LOAD=1 go test ./cmd/taskd -run TestE2ELoad -v -count=1
//
// TASKD_LOAD_REQUESTS sets the requests per case (default 2000). The server
// (run(…), the same fx graph as `taskd serve`, with info-level access logs)
// and the client share the machine and talk over loopback.
func TestE2ELoad(t *testing.T) {
	if os.Getenv("TASKD_LOAD") != "1" {
		t.Skip("a measurement: set TASKD_LOAD=1 to run it")
	}
	n := 2000
	if v := os.Getenv("TASKD_LOAD_REQUESTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			t.Fatalf("TASKD_LOAD_REQUESTS=%q", v)
		}
	}
	b := e2eMySQL(t)
	if out, err := e2eRun(t, b.env, "migrate"); err != nil {
		t.Fatalf("migrate: %s %v", out, err)
	}
	s := e2eStart(t, e2eMerge(b.env, map[string]string{"TASKD_LOG_LEVEL": "info"}))
	s.client.Transport = &http.Transport{MaxIdleConnsPerHost: 128, MaxConnsPerHost: 128, IdleConnTimeout: time.Minute}
	alice := e2eSignUpAndIn(t, s, "alice")
	bob := e2eSignUpAndIn(t, s, "bob")

	type result struct {
		name        string
		concurrency int
		requests    int
		errors      int64
		elapsed     time.Duration
		lat         []time.Duration
	}
	measure := func(name string, concurrency int, do func(i int) (int, error)) result {
		var next, errs atomic.Int64
		lat := make([]time.Duration, n)
		var wg sync.WaitGroup
		start := time.Now()
		for w := 0; w < concurrency; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1)) - 1
					if i >= n {
						return
					}
					t0 := time.Now()
					status, err := do(i)
					lat[i] = time.Since(t0)
					if err != nil || status >= 300 {
						if errs.Add(1) <= 3 {
							t.Logf("%s c=%d: request %d: %d %v", name, concurrency, i, status, err)
						}
					}
				}
			}()
		}
		wg.Wait()
		return result{name: name, concurrency: concurrency, requests: n, errors: errs.Load(), elapsed: time.Since(start), lat: lat}
	}
	create := func(c int) func(i int) (int, error) {
		return func(i int) (int, error) {
			r, err := s.trySend("POST", "/api/tasks", alice.token, map[string]string{
				"Task_name": fmt.Sprintf("load c%d #%d", c, i), "Task_contents": "measured", "Task_status": "대기 중",
				"Deadline": "2026-12-01", "PIC": bob.email, "Supervisor": alice.email,
			})
			return r.status, err
		}
	}
	list := func(i int) (int, error) {
		r, err := s.trySend("GET", "/api/tasks", bob.token, nil)
		return r.status, err
	}

	var results []result
	for _, c := range []int{1, 64} {
		results = append(results, measure("create task (POST /api/tasks)", c, create(c)))
	}
	for _, c := range []int{1, 64} {
		results = append(results, measure("list tasks (GET /api/tasks, 50 of "+strconv.Itoa(2*n)+")", c, list))
	}

	var tb strings.Builder
	fmt.Fprintf(&tb, "\n| case | concurrency | requests | requests/s | p50 | p99 | errors |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range results {
		slices.Sort(r.lat)
		pct := func(p float64) time.Duration { return r.lat[min(len(r.lat)-1, int(p*float64(len(r.lat))))] }
		fmt.Fprintf(&tb, "| %s | %d | %d | %.0f | %s | %s | %d |\n", r.name, r.concurrency, r.requests,
			float64(r.requests)/r.elapsed.Seconds(), pct(0.50).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond), r.errors)
	}
	t.Log(tb.String())
}
