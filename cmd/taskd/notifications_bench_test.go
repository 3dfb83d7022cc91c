package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/taskd/taskd/adapters/contracttest"
	"github.com/taskd/taskd/adapters/sqlstore"
	identityapp "github.com/taskd/taskd/modules/identity/app"
	identitycommand "github.com/taskd/taskd/modules/identity/app/command"
	"github.com/taskd/taskd/modules/kernel/actor"
	"github.com/taskd/taskd/modules/kernel/sys"
	tasksapp "github.com/taskd/taskd/modules/tasks/app"
	taskscommand "github.com/taskd/taskd/modules/tasks/app/command"
)

// BenchmarkNotifications measures the notifications path end to end on this
// machine, in a worker built from the binary's own fx graph: CreateTask
// (row + outbox in one transaction) → the event transport → the
// "notifications" handler group → inbox entries (and delivery records).
// Each task has a PIC and a supervisor: two notifications per task.
//
//	go test -run '^$' -bench Notifications -benchtime 1000x ./cmd/taskd/
//
// "drain": b.N tasks are committed first, then the worker starts: the rate
// it empties the backlog, in notifications/s. "drain-smtp": the same with
// e-mail on (the SMTP sink), until every e-mail is sent: e-mails/s.
// "latency": tasks created one by one at 50/s with the worker running:
// commit → inbox p50 and p99 (ms). Variants: embedded SQLite, MySQL, and
// SNS/SQS (fauxqs) when AWS_ENDPOINT_URL_SQS is set.
// Not a timed test: it runs only with -bench.
func BenchmarkNotifications(b *testing.B) {
	backends := []struct {
		name string
		env  func(b *testing.B) map[string]string
	}{
		{"embedded-sqlite", func(b *testing.B) map[string]string { return e2eSQLite(b).env }},
		{"embedded-mysql", func(b *testing.B) map[string]string {
			return e2eMerge(e2eMySQL(b).env, map[string]string{"TASKD_AUTO_MIGRATE": "true"})
		}},
		{"aws-mysql", func(b *testing.B) map[string]string {
			if os.Getenv("AWS_ENDPOINT_URL_SQS") == "" {
				b.Skip(`no SNS/SQS stand-in: eval "$(bash deploy/local/standins.sh env)"`)
			}
			return e2eMerge(e2eMySQL(b).env, map[string]string{"TASKD_AUTO_MIGRATE": "true", "TASKD_EVENTS": "aws",
				"TASKD_ENV": "nb" + sys.NewUUIDv7()[30:]})
		}},
	}
	for _, be := range backends {
		b.Run(be.name+"/drain", func(b *testing.B) { benchNotifyDrain(b, be.env(b), false) })
		b.Run(be.name+"/drain-smtp", func(b *testing.B) {
			sink := contracttest.RequireSMTP(b)
			env := e2eMerge(be.env(b), map[string]string{"TASKD_EMAIL": "smtp", "TASKD_SMTP_HOST": sink.Host,
				"TASKD_SMTP_PORT": fmt.Sprint(sink.Port), "TASKD_SMTP_STARTTLS": "false", "TASKD_NOTIFY_DISPATCH_INTERVAL": "20ms"})
			benchNotifyDrain(b, env, true)
		})
		b.Run(be.name+"/latency", func(b *testing.B) { benchNotifyLatency(b, be.env(b)) })
	}
}

// benchWorker is a worker-role taskd graph, not started yet.
type benchWorker struct {
	app   *fx.App
	tasks tasksapp.Application
	db    *sqlstore.DB
	pic   string
	sup   string
	boss  actor.Actor
}

func newBenchWorker(b *testing.B, env map[string]string) *benchWorker {
	b.Helper()
	env = e2eMerge(map[string]string{"TASKD_ADDR": "127.0.0.1:0", "TASKD_LOG_LEVEL": "error"}, env)
	cfg, err := LoadConfig(e2eEnv(env))
	if err != nil {
		b.Fatal(err)
	}
	w := &benchWorker{}
	var identity identityapp.Application
	w.app = fx.New(append(serveOptions(cfg, RoleWorker, slog.New(slog.NewTextHandler(io.Discard, nil))),
		fx.NopLogger, fx.Populate(&w.tasks, &identity, &w.db))...)
	if err := w.app.Err(); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	signUp := func(name string) string {
		id := sys.NewUUIDv7()
		err := identity.Commands.SignUp.Handle(ctx, identitycommand.SignUp{ID: id, Email: name + "-" + id[24:] + "@example.com",
			Password: "correct horse battery", Name: name})
		if err != nil {
			b.Fatal(err)
		}
		return id
	}
	w.boss = actor.Actor{UserID: signUp("boss"), Role: "member"}
	w.pic, w.sup = signUp("pic"), signUp("sup")
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = w.app.Stop(ctx)
	})
	return w
}

func (w *benchWorker) create(b *testing.B, i int) (string, time.Time) {
	id := sys.NewUUIDv7()
	err := w.tasks.Commands.CreateTask.Handle(context.Background(), taskscommand.CreateTask{
		ID: id, Actor: w.boss, Name: fmt.Sprint("bench ", i), PIC: w.pic, Supervisor: w.sup,
	})
	if err != nil {
		b.Fatal(err)
	}
	return id, time.Now()
}

func (w *benchWorker) start(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := w.app.Start(ctx); err != nil {
		b.Fatal(err)
	}
}

func (w *benchWorker) count(b *testing.B, q string) int {
	var k int
	if err := w.db.SQL.QueryRow(q).Scan(&k); err != nil {
		b.Fatal(err)
	}
	return k
}

func (w *benchWorker) waitFor(b *testing.B, q string, want int, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for w.count(b, q) < want {
		if time.Now().After(deadline) {
			b.Fatalf("%s: %d after %s, want %d", q, w.count(b, q), timeout, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func benchNotifyDrain(b *testing.B, env map[string]string, email bool) {
	w := newBenchWorker(b, env)
	for i := range b.N {
		w.create(b, i)
	}
	b.ResetTimer()
	start := time.Now()
	w.start(b)
	want := 2 * b.N
	w.waitFor(b, `SELECT COUNT(*) FROM notification_inbox`, want, 10*time.Minute)
	inbox := time.Since(start)
	b.ReportMetric(float64(want)/inbox.Seconds(), "notifications/s")
	if email {
		w.waitFor(b, `SELECT COUNT(*) FROM notification_deliveries WHERE status = 'sent'`, want, 10*time.Minute)
		b.ReportMetric(float64(want)/time.Since(start).Seconds(), "emails/s")
	}
	b.StopTimer()
	b.ReportMetric(0, "ns/op")
}

func benchNotifyLatency(b *testing.B, env map[string]string) {
	w := newBenchWorker(b, env)
	w.start(b)
	committed := make(map[string]time.Time, b.N)
	b.ResetTimer()
	tick := time.NewTicker(20 * time.Millisecond) // 50 tasks/s
	defer tick.Stop()
	for i := range b.N {
		<-tick.C
		id, at := w.create(b, i)
		committed[id] = at
	}
	w.waitFor(b, `SELECT COUNT(*) FROM notification_inbox`, 2*b.N, 5*time.Minute)
	b.StopTimer()
	rows, err := w.db.SQL.Query(`SELECT task_id, MAX(created_at) FROM notification_inbox GROUP BY task_id`)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var lat []time.Duration
	for rows.Next() {
		var (
			id string
			at int64
		)
		if err := rows.Scan(&id, &at); err != nil {
			b.Fatal(err)
		}
		if c, ok := committed[id]; ok {
			lat = append(lat, time.UnixMicro(at).Sub(c))
		}
	}
	slices.Sort(lat)
	if len(lat) == 0 {
		b.Fatal("no latencies")
	}
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
}
