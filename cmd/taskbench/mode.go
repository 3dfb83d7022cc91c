package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/taskd/taskd/adapters/mysql"
	"github.com/taskd/taskd/adapters/sqlite"
)

// Scenario names, in the order they run.
var allScenarios = []string{
	"baseline", "report-early", "create", "update-status", "update-same-task", "get-one",
	"list-filter", "list-priority", "weekly-report", "events",
}

// baselineOf names the baseline a scenario's rate is compared to.
var baselineOf = map[string]string{
	"create": "bare-insert", "seed-create": "bare-insert", "update-status": "bare-insert", "update-same-task": "bare-insert",
	"get-one": "bare-pk-select", "list-filter": "bare-pk-select", "list-priority": "bare-pk-select",
	"weekly-report": "bare-pk-select", "weekly-report-early": "bare-pk-select",
}

// bench is one mode's run.
type bench struct {
	o        options
	mode     string
	srv      *server
	c        *client
	db       *sql.DB
	dialect  string
	users    []user
	reporter user
	hotTask  string

	mu    sync.Mutex
	tasks []taskRef

	results []Result
	notes   []string
}

type taskRef struct {
	id    string
	owner int // index in users: the creator, who may update it
}

func (b *bench) want(s string) bool { return b.o.scenarios == nil || b.o.scenarios[s] }

func (b *bench) note(format string, args ...any) {
	s := b.mode + ": " + fmt.Sprintf(format, args...)
	b.notes = append(b.notes, s)
	logf("%s", s)
}

func randomHex(n int) string {
	buf := make([]byte, n)
	_, _ = rand.Read(buf)
	return hex.EncodeToString(buf)
}

// runMode starts taskd in mode and runs every scenario against it.
func runMode(ctx context.Context, o options, mode, bin, tmp, root string) (results []Result, ev *EventResult, mem *memoryResult, notes []string, err error) {
	b := &bench{o: o, mode: mode}
	defer func() { results, notes = b.results, b.notes }()
	env := map[string]string{
		"TASKD_ADDR": "127.0.0.1:0", "TASKD_LOG_FORMAT": "json", "TASKD_LOG_LEVEL": o.logLevel,
		"TASKD_SIGNIN_PER_MINUTE": "100000", "TASKD_ACCESS_TOKEN_TTL": "2h",
	}
	if o.pprofAddr != "" {
		env["TASKD_PPROF_ADDR"] = o.pprofAddr
	}
	transport := "embedded (outbox read in-process)"
	switch mode {
	case "embedded":
		dir := filepath.Join(tmp, "embedded-data")
		env["TASKD_DATA_DIR"] = dir
		b.dialect = "sqlite"
		// The server creates the database; the bench opens it once it runs.
		defer func() {
			if b.db != nil {
				b.db.Close()
			}
		}()
	case "cloud":
		name := "taskbench_" + randomHex(5)
		if err := mysql.CreateDatabase(ctx, o.mysqlServer, name); err != nil {
			return nil, nil, nil, nil, fmt.Errorf("creating database %s: %w", name, err)
		}
		if !o.keep {
			defer func() {
				c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				_ = mysql.DropDatabase(c, o.mysqlServer, name)
			}()
		}
		dsn, err := mysql.WithDatabase(o.mysqlServer, name)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		env["TASKD_MYSQL_DSN"] = dsn
		env["TASKD_JWT_SECRET"] = "taskbench-" + randomHex(24)
		env["TASKD_AUTO_MIGRATE"] = "true"
		b.dialect = "mysql"
		if strings.Contains(o.mysqlServer, "127.0.0.1") || strings.Contains(o.mysqlServer, "localhost") {
			dbPID = findProcess("mariadbd", "mysqld")
			defer func() { dbPID = 0 }()
		}
		b.db, err = mysql.Open(ctx, dsn)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		defer b.db.Close()
		events := o.cloudEvents
		awsEnv, awsErr := standinsEnv(root)
		if events == "auto" {
			events = "aws"
			if awsErr != nil {
				events = "embedded"
				b.note("the AWS stand-ins do not answer (%v): cloud mode runs MariaDB with embedded events", awsErr)
			}
		}
		if events == "aws" {
			if awsErr != nil {
				return nil, nil, nil, nil, fmt.Errorf("-cloud-events=aws: %w", awsErr)
			}
			for k, v := range awsEnv {
				env[k] = v
			}
			env["TASKD_EVENTS"] = "aws"
			env["TASKD_ANALYTICS_STORE"] = "dynamodb"
			env["TASKD_ENV"] = "tb" + randomHex(4)
			transport = "aws (outbox → SNS → SQS, fauxqs), analytics in DynamoDB Local"
		}
	}
	logf("%s: starting taskd", mode)
	b.srv, err = startServer(ctx, bin, o.role, env, filepath.Join(tmp, mode+"-taskd.log"))
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if o.keep {
		b.note("server log: %s", b.srv.logPath)
	}
	defer func() {
		if serr := b.srv.stop(); serr != nil {
			b.note("%v", serr)
		}
	}()
	if mode == "embedded" {
		b.db, err = sqlite.OpenInDir(ctx, env["TASKD_DATA_DIR"])
		if err != nil {
			return nil, nil, nil, nil, err
		}
	}
	b.c = newClient(b.srv.base)
	if err := b.setup(ctx); err != nil {
		return nil, nil, nil, nil, fmt.Errorf("setup: %w", err)
	}
	if err := b.scenarios(ctx); err != nil {
		return nil, nil, nil, nil, err
	}
	if b.want("events") && o.role == "all" {
		ev = b.events(ctx, transport)
	}
	if env["TASKD_EVENTS"] == "aws" {
		// The stand-ins are shared with every other user of the machine.
		if _, err := standinsEnv(root); err != nil {
			b.note("the AWS stand-ins stopped answering during the run (%v): the event figures and the async CPU are not valid", err)
		}
	}
	st := readProc(b.srv.pid())
	mem = &memoryResult{Mode: mode, PeakRSSMiB: mib(st.HWM), EndRSSMiB: mib(st.RSS)}
	b.compare()
	return nil, ev, mem, nil, nil
}

// standinsEnv reads the AWS variables of the local stand-ins, when fauxqs
// and DynamoDB Local answer.
func standinsEnv(root string) (map[string]string, error) {
	script := filepath.Join(root, "deploy", "local", "standins.sh")
	if out, err := exec.Command("bash", script, "status", "fauxqs", "dynamodb").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%s status: %s", script, strings.TrimSpace(string(out)))
	}
	out, err := exec.Command("bash", script, "env").Output()
	if err != nil {
		return nil, err
	}
	env := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimPrefix(strings.TrimSpace(line), "export ")
		k, v, ok := strings.Cut(line, "=")
		if !ok || !strings.HasPrefix(k, "AWS_") {
			continue
		}
		env[k] = strings.Trim(v, `'"`)
	}
	// Prefer what the caller exported, if anything.
	for k := range env {
		if v := os.Getenv(k); v != "" {
			env[k] = v
		}
	}
	return env, nil
}

// setup signs the users up and gives the reporter a small, fixed week of
// work: 20 tasks it is PIC of, 10 started, 5 done.
func (b *bench) setup(ctx context.Context) error {
	logf("%s: signing up %d users", b.mode, b.o.users+1)
	run := randomHex(3)
	for i := 0; i < b.o.users; i++ {
		u, err := b.c.signUpIn(ctx, fmt.Sprintf("bench%02d-%s@example.com", i, run), fmt.Sprintf("Bench %d", i))
		if err != nil {
			return err
		}
		b.users = append(b.users, u)
	}
	var err error
	if b.reporter, err = b.c.signUpIn(ctx, "reporter-"+run+"@example.com", "Reporter"); err != nil {
		return err
	}
	for i := 0; i < 20; i++ {
		id, o, err := b.c.createTask(ctx, b.reporter.Token, createTask{
			Name: fmt.Sprintf("reporter task %d", i), Priority: priorities[i%4], Deadline: deadline(i),
			PIC: b.reporter.Email, Supervisor: b.users[0].Email,
		})
		if o != ok {
			return fmt.Errorf("reporter task: %v", err)
		}
		if i < 10 {
			if err := b.c.call(ctx, "PUT", "/api/tasks/"+id, b.reporter.Token, map[string]string{"Task_status": "in_progress"}, nil, 200); err != nil {
				return err
			}
		}
		if i < 5 {
			if err := b.c.call(ctx, "PUT", "/api/tasks/"+id, b.reporter.Token, map[string]string{"Task_status": "done"}, nil, 200); err != nil {
				return err
			}
		}
	}
	b.hotTask, _, err = b.c.createTask(ctx, b.users[0].Token, createTask{Name: "the hot task", PIC: b.users[1].Email, Supervisor: b.users[2].Email})
	if err != nil {
		return err
	}
	b.idle()
	return nil
}

var priorities = []string{"low", "medium", "high", "urgent"}

// deadline spreads deadlines over the next 60 days (and every fifth task has none).
func deadline(i int) string {
	if i%5 == 4 {
		return ""
	}
	return time.Now().UTC().AddDate(0, 0, 1+(i*7)%60).Format(time.DateOnly)
}

// idle waits for the server's consumers to catch up with what was written,
// and for a local database server to settle (InnoDB flushes and purges
// after a write-heavy scenario).
func (b *bench) idle() time.Duration {
	d := waitIdle(b.srv.pid(), b.o.idleMax)
	if dbPID != 0 {
		d += waitIdle(dbPID, 10*time.Second)
	}
	return d
}

func (b *bench) taskCount(ctx context.Context) int {
	var n int
	_ = b.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM tasks`).Scan(&n)
	return n
}

// measure runs one scenario at every concurrency.
func (b *bench) measure(ctx context.Context, name string, n int, conc []int, do op) {
	for _, c := range conc {
		if ctx.Err() != nil {
			return
		}
		b.idle()
		present := b.taskCount(ctx)
		before := readProc(b.srv.pid())
		r := runLoad(ctx, name, c, n, b.srv.pid(), do)
		b.idle()
		after := readProc(b.srv.pid())
		if r.Requests > 0 && before.Valid && after.Valid {
			r.CPUPer1kAsync = (after.CPU - before.CPU).Seconds() * 1000 / float64(r.Requests)
		}
		r.Mode, r.TasksPresent = b.mode, present
		b.results = append(b.results, r)
		logf("%s: %-18s c=%-3d %7.0f req/s  p50 %6.2f ms  p99 %7.2f ms  errors %d  conflicts %d  %s",
			b.mode, name, c, r.RPS, r.P50ms, r.P99ms, r.Errors, r.Conflicts, r.FirstError)
	}
}

// compare fills in the ratios to the baseline.
func (b *bench) compare() {
	base := map[string]float64{}
	for _, r := range b.results {
		if strings.HasPrefix(r.Scenario, "bare-") {
			base[fmt.Sprintf("%s/%d", r.Scenario, r.Concurrency)] = r.RPS
		}
	}
	for i := range b.results {
		r := &b.results[i]
		if bs, ok := baselineOf[r.Scenario]; ok {
			r.Baseline = bs
			r.Ratio = ratio(r.RPS, base[fmt.Sprintf("%s/%d", bs, r.Concurrency)])
		}
	}
}
