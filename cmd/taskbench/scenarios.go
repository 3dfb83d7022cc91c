package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// scenarios runs the API scenarios in order.
func (b *bench) scenarios(ctx context.Context) error {
	conc := b.o.conc
	if b.want("baseline") {
		logf("%s: baseline (bare %s)", b.mode, b.dialect)
		b.idle()
		rs, err := runBaseline(ctx, b.db, b.dialect, conc, b.o.nBaseline)
		if err != nil {
			return err
		}
		for _, r := range rs {
			r.Mode = b.mode
			b.results = append(b.results, r)
			logf("%s: %-18s c=%-3d %7.0f req/s  p50 %6.2f ms  p99 %7.2f ms  errors %d %s",
				b.mode, r.Scenario, r.Concurrency, r.RPS, r.P50ms, r.P99ms, r.Errors, r.FirstError)
		}
	}
	if b.want("report-early") {
		// The same report as weekly-report, before the bulk of the events:
		// its latency must not depend on how many events were projected.
		b.measure(ctx, "weekly-report-early", b.o.nReport, conc, b.weeklyReport)
	}
	if b.want("create") {
		b.measure(ctx, "create", b.o.nCreate, conc, b.create)
	}
	// Later scenarios need tasks of the users, created through the API:
	// at least two per worker (when -only skipped create).
	if need := max(2*maxInt(conc), 200); len(b.tasks) < need {
		b.measure(ctx, "seed-create", need-len(b.tasks), []int{16}, b.create)
	}
	if b.want("update-status") {
		b.measure(ctx, "update-status", b.o.nUpdate, conc, b.updateStatus(maxInt(conc)))
	}
	if b.want("update-same-task") {
		b.measure(ctx, "update-same-task", b.o.nUpdate, conc, b.updateSameTask(maxInt(conc)))
	}
	if b.want("get-one") {
		b.measure(ctx, "get-one", b.o.nGet, conc, b.getOne)
	}
	if b.want("list-filter") {
		b.measure(ctx, "list-filter", b.o.nList, conc, b.listFilter)
	}
	if b.want("list-priority") {
		b.seed(ctx, b.o.tasks)
		b.measure(ctx, "list-priority", b.o.nSorted, conc, b.listPriority)
	}
	if b.want("weekly-report") {
		b.measure(ctx, "weekly-report", b.o.nReport, conc, b.weeklyReport)
	}
	return ctx.Err()
}

func maxInt(xs []int) int {
	m := 0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

// seed tops the tasks table up to total. With -seed=api it creates them
// through the API at concurrency 16 (measured as seed-create; their events
// keep the consumers busy for minutes in the cloud mode); with -seed=sql,
// the default, it writes the rows straight into the tasks table, as the
// repository would (same columns and keys) but without events: the lists
// only need the rows to be there.
func (b *bench) seed(ctx context.Context, total int) {
	have := b.taskCount(ctx)
	if have >= total {
		return
	}
	logf("%s: adding %d tasks (to %d) by %s", b.mode, total-have, total, b.o.seed)
	if b.o.seed == "api" {
		b.measure(ctx, "seed-create", total-have, []int{16}, b.create)
		return
	}
	if err := seedRows(ctx, b.db, b.users, total-have); err != nil {
		b.note("seeding tasks: %v", err)
	}
}

// seedRows inserts n task rows in transactions of 500.
func seedRows(ctx context.Context, db *sql.DB, users []user, n int) error {
	const batch = 500
	statuses := []string{"waiting", "in_progress", "done"}
	now := time.Now()
	for done := 0; done < n; {
		k := min(batch, n-done)
		args := make([]any, 0, 17*k)
		for j := 0; j < k; j++ {
			i := done + j
			id, _ := uuid.NewV7()
			created := now.Add(-time.Duration(i) * time.Second).UnixMicro()
			prio := (i * 7) % 4
			var deadline sql.NullInt64
			deadlineKey := int64(math.MaxInt64)
			if i%5 != 4 {
				d := now.AddDate(0, 0, 1+(i*7)%60).UnixMicro()
				deadline, deadlineKey = sql.NullInt64{Int64: d, Valid: true}, d
			}
			status := statuses[i%3]
			var started, completed sql.NullInt64
			if status != "waiting" {
				started = sql.NullInt64{Int64: created, Valid: true}
			}
			if status == "done" {
				completed = sql.NullInt64{Int64: created, Valid: true}
			}
			u := len(users)
			args = append(args, id.String(), fmt.Sprintf("seeded task %d", i), "seeded by taskbench", status,
				priorities[prio], rankOf(priorities[prio]), deadline, deadlineKey,
				users[(i+1)%u].ID, users[(i+2)%u].ID, users[i%u].ID, created, created, started, completed, 1, 1)
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		q := `INSERT INTO tasks (` + baselineColumns + `) VALUES ` +
			strings.TrimSuffix(strings.Repeat(`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),`, k), ",")
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		done += k
	}
	return nil
}

// rankOf is the domain's priority rank: urgent 0 … low 3.
func rankOf(p string) int {
	switch p {
	case "urgent":
		return 0
	case "high":
		return 1
	case "medium":
		return 2
	}
	return 3
}

// create is POST /api/tasks by the worker's user, with a PIC and a
// supervisor given by e-mail (as the seed's clients do), a priority and
// usually a deadline: one row and its events in one transaction.
func (b *bench) create(ctx context.Context, w, i int) (outcome, error) {
	n := len(b.users)
	owner := w % n
	id, o, err := b.c.createTask(ctx, b.users[owner].Token, createTask{
		Name: fmt.Sprintf("bench task %d-%d", w, i), Contents: "created by taskbench",
		Priority: priorities[(i*7+w)%4], Deadline: deadline(i + w),
		PIC: b.users[(owner+1+i%(n-1))%n].Email, Supervisor: b.users[(owner+2+i%(n-2))%n].Email,
	})
	if o == ok {
		b.mu.Lock()
		b.tasks = append(b.tasks, taskRef{id: id, owner: owner})
		b.mu.Unlock()
	}
	return o, err
}

// updateStatus is PUT /api/tasks/{id} {"Task_status"} by the task's
// creator, moving it waiting ⇄ in_progress; every worker has tasks of its
// own (many writers, different tasks).
func (b *bench) updateStatus(workers int) op {
	b.mu.Lock()
	tasks := append([]taskRef(nil), b.tasks...)
	b.mu.Unlock()
	perWorker := len(tasks) / workers
	started := make([]bool, len(tasks)) // each index is only ever touched by one worker
	count := make([]int, workers)
	return func(ctx context.Context, w, i int) (outcome, error) {
		j := w + workers*(count[w]%perWorker)
		count[w]++
		t := tasks[j]
		status := "in_progress"
		if started[j] {
			status = "waiting"
		}
		resp, err := b.c.do(ctx, "PUT", "/api/tasks/"+t.id, b.users[t.owner].Token, []byte(`{"Task_status":"`+status+`"}`))
		o, err := classify(resp, err, http.StatusOK)
		if o == ok {
			started[j] = !started[j]
		}
		return o, err
	}
}

// updateSameTask is every worker writing one task: PUT with If-Match of
// the version its own last answer carried (a 412 when another worker wrote
// in between; the next PUT then goes without If-Match and wins the row
// lock in turn). Conflicts (409, 412) are counted apart from errors.
func (b *bench) updateSameTask(workers int) op {
	version := make([]string, workers)
	count := make([]int, workers)
	return func(ctx context.Context, w, i int) (outcome, error) {
		status := "in_progress"
		if (w+count[w])%2 == 1 {
			status = "waiting"
		}
		count[w]++
		var hdr []string
		if version[w] != "" {
			hdr = []string{"If-Match", version[w]}
		}
		resp, err := b.c.do(ctx, "PUT", "/api/tasks/"+b.hotTask, b.users[0].Token, []byte(`{"Task_status":"`+status+`"}`), hdr...)
		if err == nil {
			version[w] = resp.Header.Get("ETag")
		}
		return classify(resp, err, http.StatusOK)
	}
}

func (b *bench) randomTask(i int) taskRef {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.tasks[(i*7919)%len(b.tasks)]
}

// getOne is GET /api/tasks/{id} of a random task.
func (b *bench) getOne(ctx context.Context, w, i int) (outcome, error) {
	t := b.randomTask(i)
	resp, err := b.c.do(ctx, "GET", "/api/tasks/"+t.id, b.users[w%len(b.users)].Token, nil)
	return classify(resp, err, http.StatusOK)
}

// listFilters are the filtered lists, taken in turn: 50 tasks each.
var listFilters = []string{"status=waiting&limit=50", "pic=me&limit=50", "priority=high&limit=50"}

func (b *bench) listFilter(ctx context.Context, w, i int) (outcome, error) {
	resp, err := b.c.do(ctx, "GET", "/api/tasks?"+listFilters[i%len(listFilters)], b.users[w%len(b.users)].Token, nil)
	return classifyList(resp, err)
}

// listPriority is the first page of 50 sorted by priority (urgent first,
// then the earliest deadline).
func (b *bench) listPriority(ctx context.Context, w, i int) (outcome, error) {
	resp, err := b.c.do(ctx, "GET", "/api/tasks?sort=priority&limit=50", b.users[w%len(b.users)].Token, nil)
	return classifyList(resp, err)
}

// classifyList also checks that a list answered 50 tasks.
func classifyList(resp *http.Response, err error) (outcome, error) {
	if err != nil || resp.StatusCode != http.StatusOK {
		return classify(resp, err, http.StatusOK)
	}
	defer resp.Body.Close()
	var out struct {
		Tasks []json.RawMessage `json:"tasks"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return failed, err
	}
	if len(out.Tasks) != 50 {
		return failed, fmt.Errorf("%s: %d tasks, want 50", resp.Request.URL.RequestURI(), len(out.Tasks))
	}
	return ok, nil
}

// weeklyReport is the reporter's own report of this week (20 tasks).
func (b *bench) weeklyReport(ctx context.Context, w, i int) (outcome, error) {
	resp, err := b.c.do(ctx, "GET", "/api/reports/weekly", b.reporter.Token, nil)
	return classify(resp, err, http.StatusOK)
}

// events measures the event path (see EventResult).
func (b *bench) events(ctx context.Context, transport string) *EventResult {
	ev := &EventResult{Mode: b.mode, Transport: transport, LatencyTasks: b.o.evLatency, RatePerSecond: b.o.evRate, BurstTasks: b.o.evBurst}
	b.idle()
	logf("%s: event latency: %d tasks at %.0f/s", b.mode, b.o.evLatency, b.o.evRate)
	from := maxOffset(ctx, b.db, b.dialect)
	tick := time.NewTicker(time.Duration(float64(time.Second) / b.o.evRate))
	for i := 0; i < b.o.evLatency && ctx.Err() == nil; i++ {
		<-tick.C
		_, o, err := b.c.createTask(ctx, b.users[0].Token, createTask{Name: "event " + strconv.Itoa(i), PIC: b.users[1].Email, Supervisor: b.users[2].Email})
		if o != ok {
			ev.LatencyAPIErrors++
			if ev.LatencyAPIErrors == 1 {
				logf("%s: event latency: create: %v", b.mode, err)
			}
		}
	}
	tick.Stop()
	to := maxOffset(ctx, b.db, b.dialect)
	w := waitEvents(ctx, b.db, b.dialect, b.srv.pid(), from, to, 2*time.Minute)
	ev.Handlers = w.latencies(false)
	ev.InboxEntries = len(w.inbox)
	ev.InboxP50ms, ev.InboxP99ms = pct(w.inbox, 0.5), pct(w.inbox, 0.99)
	for _, h := range ev.Handlers {
		if h.Events < w.events {
			ev.Note = strings.TrimSpace(ev.Note + fmt.Sprintf(" %s handled %d of %d events.", h.Handler, h.Events, w.events))
		}
	}

	b.idle()
	logf("%s: event burst: %d tasks at concurrency 16", b.mode, b.o.evBurst)
	from = maxOffset(ctx, b.db, b.dialect)
	r := runLoad(ctx, "event-burst", 16, b.o.evBurst, b.srv.pid(), b.create)
	to = maxOffset(ctx, b.db, b.dialect)
	ev.BurstAPIRPS = r.RPS
	w = waitEvents(ctx, b.db, b.dialect, b.srv.pid(), from, to, 5*time.Minute)
	ev.BurstEvents = w.events
	ev.BurstHandlers = w.latencies(true)
	if w.lastI > w.first {
		ev.InboxPerSecond = float64(len(w.inbox)) / (float64(w.lastI-w.first) / 1e6)
	}
	for _, h := range ev.Handlers {
		logf("%s: events: commit → %s p50 %.1f ms p99 %.1f ms", b.mode, h.Handler, h.P50ms, h.P99ms)
	}
	for _, h := range ev.BurstHandlers {
		logf("%s: events: burst %s %.0f events/s", b.mode, h.Handler, h.PerSecond)
	}
	if r.Errors > 0 {
		ev.Note = strings.TrimSpace(ev.Note + fmt.Sprintf(" burst: %d API errors (%s)", r.Errors, r.FirstError))
	}
	return ev
}
