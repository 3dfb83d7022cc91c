package main

// Component tests of the whole binary (issue 3, "Done when"): run(…) starts
// the same fx graph as `taskd serve` with real adapters, and the tests drive
// it over HTTP on 127.0.0.1. Each runs twice: embedded SQLite in a temp data
// dir, and MariaDB/MySQL in a fresh database (skipped under -short or when
// no server answers, unless TASKD_TEST_REQUIRE_SERVICES=1).

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/taskd/taskd/adapters/sqlstore"
)

// e2eBackends are the two storage set-ups every walk runs on.
var e2eBackends = []struct {
	name string
	new  func(testing.TB) e2eBackend
}{
	{"sqlite", e2eSQLite},
	{"mysql", e2eMySQL},
}

// e2eServe prepares b the way an operator would — `taskd migrate` against
// MySQL (where auto-migration is off by default) — and serves it.
func e2eServe(t *testing.T, b e2eBackend) *e2eServer {
	t.Helper()
	if b.name == "mysql" {
		out, err := e2eRun(t, b.env, "migrate")
		if err != nil || !strings.Contains(out, "up to date") {
			t.Fatalf("taskd migrate: %q, %v", out, err)
		}
	}
	return e2eStart(t, b.env)
}

// e2eUser is a signed-up, signed-in user.
type e2eUser struct {
	email, password, id, token string
}

const e2ePassword = "correct horse battery"

// e2eSignUpAndIn signs up with POST /api/sign_up and signs in the seed's way:
// GET /api/sign_in with a JSON body.
func e2eSignUpAndIn(t *testing.T, s *e2eServer, name string) e2eUser {
	t.Helper()
	email := name + "@example.com"
	r := s.expect(t, http.StatusCreated, "POST", "/api/sign_up", "", map[string]string{
		"email": email, "password": e2ePassword, "name": name,
	})
	got := e2eExactly(t, r, map[string]string{"message": "사용자가 성공적으로 등록되었습니다.", "email": email, "User_id": ""})
	u := e2eUser{email: email, password: e2ePassword, id: got["User_id"].(string)}
	u.token = e2eSignIn(t, s, email, e2ePassword)
	return u
}

func e2eSignIn(t *testing.T, s *e2eServer, email, password string) string {
	t.Helper()
	r := s.expect(t, http.StatusOK, "GET", "/api/sign_in", "", map[string]string{"email": email, "password": password})
	got := e2eExactly(t, r, map[string]string{
		"message": "사용자가 성공적으로 로그인했습니다.", "email": email,
		"access_token": "", "refresh_token": "", "expires_in": "", "token_type": "Bearer",
	})
	return got["access_token"].(string)
}

// e2eTask is the task JSON of the API.
type e2eTask struct {
	ID          string  `json:"Task_id"`
	Name        string  `json:"Task_name"`
	Contents    string  `json:"Task_contents"`
	Status      string  `json:"Task_status"`
	Priority    string  `json:"Task_priority"`
	Deadline    *string `json:"Deadline"`
	PIC         *string `json:"PIC"`
	PICID       *string `json:"PIC_id"`
	Supervisor  *string `json:"Supervisor"`
	Creator     *string `json:"Creator"`
	StartedAt   *string `json:"Started_at"`
	CompletedAt *string `json:"Completed_at"`
	Version     int64   `json:"Version"`
}

func e2eGetTask(t *testing.T, s *e2eServer, token, id string) (e2eTask, e2eReply) {
	t.Helper()
	r := s.expect(t, http.StatusOK, "GET", "/api/tasks/"+id, token, nil)
	var body struct {
		Message string  `json:"message"`
		Task    e2eTask `json:"task"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil || body.Message != "작업 조회" {
		t.Fatalf("GET /api/tasks/%s: %v %s", id, err, r.body)
	}
	return body.Task, r
}

func e2eListTasks(t *testing.T, s *e2eServer, token, query string) []e2eTask {
	t.Helper()
	r := s.expect(t, http.StatusOK, "GET", "/api/tasks"+query, token, nil)
	var body struct {
		Message string    `json:"message"`
		Tasks   []e2eTask `json:"tasks"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil || body.Message != "전체 작업 조회" {
		t.Fatalf("GET /api/tasks%s: %v %s", query, err, r.body)
	}
	return body.Tasks
}

func e2eStr(p *string) string {
	if p == nil {
		return "<null>"
	}
	return *p
}

// e2eEvents returns the names and sequence numbers of an aggregate's events
// in the outbox, checking each payload agrees with its metadata.
func e2eEvents(t *testing.T, db *sqlstore.DB, aggregateID string) ([]string, []int64) {
	t.Helper()
	evs, err := sqlstore.NewOutboxReader(db).ForAggregate(context.Background(), aggregateID)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	var seqs []int64
	for _, e := range evs {
		var p struct {
			Type        string `json:"event_type"`
			AggregateID string `json:"aggregate_id"`
			Sequence    int64  `json:"sequence"`
			EventID     string `json:"event_id"`
		}
		if err := json.Unmarshal(e.Payload, &p); err != nil {
			t.Fatalf("outbox event %d: %v", e.Offset, err)
		}
		if p.Type != e.Name || p.AggregateID != aggregateID || p.Sequence != e.Sequence || p.EventID == "" {
			t.Errorf("outbox event %d: payload %s disagrees with its metadata %+v", e.Offset, e.Payload, e)
		}
		names = append(names, e.Name)
		seqs = append(seqs, e.Sequence)
	}
	return names, seqs
}

func e2eWantEvents(t *testing.T, db *sqlstore.DB, aggregateID string, want ...string) {
	t.Helper()
	names, seqs := e2eEvents(t, db, aggregateID)
	if !slices.Equal(names, want) {
		t.Errorf("outbox of %s: %v, want %v", aggregateID, names, want)
	}
	for i, s := range seqs {
		if s != int64(i+1) {
			t.Errorf("outbox of %s: sequences %v, want 1, 2, 3 … without gaps", aggregateID, seqs)
			break
		}
	}
}

// TestE2ESeedWalk is the newcomer's walk of the seed's table with curl:
// sign up, sign in with GET, create, list, update through waiting →
// in_progress → done, delete — the seed's exact messages and field names —
// and then the outbox: one event per change, sequences 1, 2, 3 ….
func TestE2ESeedWalk(t *testing.T) {
	t.Parallel()
	for _, be := range e2eBackends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			b := be.new(t)
			s := e2eServe(t, b)
			alice := e2eSignUpAndIn(t, s, "alice")
			bob := e2eSignUpAndIn(t, s, "bob")

			// Create (seed): the Korean status label is accepted.
			r := s.expect(t, http.StatusCreated, "POST", "/api/tasks", alice.token, map[string]string{
				"Task_name": "Write the Q4 report", "Task_contents": "numbers + summary", "Task_status": "대기 중",
				"Deadline": "2026-12-01", "PIC": bob.email, "Supervisor": alice.email,
			})
			id := e2eExactly(t, r, map[string]string{"message": "작업이 성공적으로 생성되었습니다.", "Task_id": ""})["Task_id"].(string)

			// List (seed).
			r = s.expect(t, http.StatusOK, "GET", "/api/tasks", alice.token, nil)
			if m := r.obj(t); m["message"] != "전체 작업 조회" {
				t.Errorf("list message: %s", r.body)
			}
			tasks := e2eListTasks(t, s, bob.token, "?pic=me")
			if len(tasks) != 1 || tasks[0].ID != id || tasks[0].Name != "Write the Q4 report" || tasks[0].Contents != "numbers + summary" ||
				tasks[0].Status != "waiting" || tasks[0].Priority != "medium" || e2eStr(tasks[0].PIC) != bob.email ||
				e2eStr(tasks[0].Supervisor) != alice.email || e2eStr(tasks[0].Creator) != alice.email ||
				e2eStr(tasks[0].Deadline) != "2026-12-01T23:59:59Z" || tasks[0].Version != 1 {
				t.Fatalf("bob's tasks: %+v", tasks)
			}

			// Update (seed): waiting → in_progress → done, by the PIC.
			r = s.expect(t, http.StatusOK, "PUT", "/api/tasks/"+id, bob.token, map[string]string{
				"Task_contents": "numbers + summary + charts", "Task_status": "진행 중", "Deadline": "2026-12-05", "PIC": bob.email,
			})
			e2eExactly(t, r, map[string]string{"message": "작업이 성공적으로 업데이트되었습니다."})
			if r.header.Get("ETag") != `"2"` {
				t.Errorf("ETag after the first update: %q", r.header.Get("ETag"))
			}
			r = s.expect(t, http.StatusOK, "PUT", "/api/tasks/"+id, bob.token, map[string]string{"Task_status": "done"},
				"If-Match", `"2"`)
			e2eExactly(t, r, map[string]string{"message": "작업이 성공적으로 업데이트되었습니다."})
			got, gr := e2eGetTask(t, s, alice.token, id)
			if got.Status != "done" || got.StartedAt == nil || got.CompletedAt == nil || got.Version != 3 ||
				got.Contents != "numbers + summary + charts" || e2eStr(got.Deadline) != "2026-12-05T23:59:59Z" || gr.header.Get("ETag") != `"3"` {
				t.Fatalf("after done: %+v (ETag %s)", got, gr.header.Get("ETag"))
			}
			if c := s.send(t, "PUT", "/api/tasks/"+id, bob.token, map[string]string{"Task_status": "waiting"}, "If-Match", `"2"`); c.status != http.StatusPreconditionFailed {
				t.Errorf("stale If-Match: %d %s", c.status, c.body)
			}

			// Delete (seed), with the optional body.
			r = s.expect(t, http.StatusOK, "DELETE", "/api/tasks/"+id, alice.token, map[string]string{"Task_id": id})
			e2eExactly(t, r, map[string]string{"message": "작업이 성공적으로 삭제되었습니다", "Task_id": id, "Task_name": "Write the Q4 report"})
			if r := s.send(t, "GET", "/api/tasks/"+id, alice.token, nil); r.status != http.StatusNotFound || r.errorCode(t) != "task_not_found" {
				t.Errorf("deleted task: %d %s", r.status, r.body)
			}
			if tasks := e2eListTasks(t, s, alice.token, ""); len(tasks) != 0 {
				t.Errorf("tasks after the delete: %+v", tasks)
			}

			// The outbox: one event per change, in order, sequences without gaps.
			db := b.open(t)
			e2eWantEvents(t, db, id, "TaskCreated",
				"TaskUpdated", "TaskStatusChanged", // contents + deadline, then waiting → in_progress (same PIC: no TaskAssigned)
				"TaskStatusChanged", "TaskCompleted", // in_progress → done
				"TaskDeleted")
			e2eWantEvents(t, db, alice.id, "UserRegistered")
			e2eWantEvents(t, db, bob.id, "UserRegistered")
			all, err := sqlstore.NewOutboxReader(db).List(context.Background(), 0, 10000)
			if err != nil {
				t.Fatal(err)
			}
			ours := 0
			for _, e := range all {
				if strings.HasPrefix(e.Name, "Task") || strings.HasPrefix(e.Name, "User") {
					ours++
				}
			}
			if ours != 8 {
				t.Errorf("the outbox holds %d task and user events, want 8: 6 of the task, one per sign-up", ours)
			}
		})
	}
}

// TestE2EAccountDeletion: deleting an account unassigns the user's tasks
// (PIC → null, supervisor → null) in the same change as UserDeleted, keeps
// the tasks they created, and their token is refused at once.
func TestE2EAccountDeletion(t *testing.T) {
	t.Parallel()
	for _, be := range e2eBackends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			b := be.new(t)
			s := e2eServe(t, b)
			alice := e2eSignUpAndIn(t, s, "alice")
			bob := e2eSignUpAndIn(t, s, "bob")

			var ids []string
			for _, body := range []map[string]string{
				{"Task_name": "bob is PIC", "PIC": bob.email, "Supervisor": alice.email},
				{"Task_name": "bob is PIC and supervisor", "PIC": bob.id, "Supervisor": bob.email},
				{"Task_name": "alice's own", "PIC": alice.email},
			} {
				ids = append(ids, s.expect(t, http.StatusCreated, "POST", "/api/tasks", alice.token, body).str(t, "Task_id"))
			}
			bobsOwn := s.expect(t, http.StatusCreated, "POST", "/api/tasks", bob.token,
				map[string]string{"Task_name": "created by bob", "PIC": alice.email}).str(t, "Task_id")

			if r := s.send(t, "DELETE", "/api/users/me", bob.token, map[string]string{"password": "not the password"}); r.status != http.StatusUnauthorized || r.errorCode(t) != "wrong_password" {
				t.Fatalf("delete with a wrong password: %d %s", r.status, r.body)
			}
			r := s.expect(t, http.StatusOK, "DELETE", "/api/users/me", bob.token, map[string]string{"password": e2ePassword})
			e2eExactly(t, r, map[string]string{"message": "계정이 성공적으로 삭제되었습니다."})

			// The token of the deleted user is refused at once, on every route.
			for _, path := range []string{"/api/users/me", "/api/tasks"} {
				if r := s.send(t, "GET", path, bob.token, nil); r.status != http.StatusUnauthorized || r.errorCode(t) != "invalid_token" {
					t.Errorf("GET %s with a deleted user's token: %d %s", path, r.status, r.body)
				}
			}
			if r := s.send(t, "GET", "/api/sign_in", "", map[string]string{"email": bob.email, "password": e2ePassword}); r.status != http.StatusUnauthorized {
				t.Errorf("sign-in of a deleted user: %d %s", r.status, r.body)
			}

			byID := map[string]e2eTask{}
			for _, tk := range e2eListTasks(t, s, alice.token, "?limit=200") {
				byID[tk.ID] = tk
			}
			if len(byID) != 4 {
				t.Fatalf("tasks after the deletion: %+v, want all 4", byID)
			}
			for i, want := range []struct{ pic, sup string }{
				{"<null>", alice.email}, {"<null>", "<null>"}, {alice.email, "<null>"},
			} {
				tk := byID[ids[i]]
				if e2eStr(tk.PIC) != want.pic || e2eStr(tk.Supervisor) != want.sup || (want.pic == "<null>" && tk.PICID != nil) {
					t.Errorf("%q after bob's deletion: PIC %s (%s), Supervisor %s; want %s, %s",
						tk.Name, e2eStr(tk.PIC), e2eStr(tk.PICID), e2eStr(tk.Supervisor), want.pic, want.sup)
				}
			}
			if tk := byID[bobsOwn]; e2eStr(tk.Creator) != "<null>" || e2eStr(tk.PIC) != alice.email {
				t.Errorf("bob's own task after his deletion: creator %s, PIC %s", e2eStr(tk.Creator), e2eStr(tk.PIC))
			}
			if tasks := e2eListTasks(t, s, alice.token, "?creator="+bob.id); len(tasks) != 1 || tasks[0].ID != bobsOwn {
				t.Errorf("tasks created by the deleted bob, by id: %+v", tasks)
			}

			db := b.open(t)
			e2eWantEvents(t, db, bob.id, "UserRegistered", "UserDeleted")
			e2eWantEvents(t, db, ids[0], "TaskCreated", "TaskAssigned")
			e2eWantEvents(t, db, ids[1], "TaskCreated", "TaskAssigned") // PIC and supervisor in one event
			e2eWantEvents(t, db, ids[2], "TaskCreated")
			e2eWantEvents(t, db, bobsOwn, "TaskCreated")

			// One transaction: UserDeleted and the releases are written
			// together, next to each other in the outbox.
			all, err := sqlstore.NewOutboxReader(db).List(context.Background(), 0, 10000)
			if err != nil {
				t.Fatal(err)
			}
			var offsets []int64
			for _, e := range all {
				if (e.Name == "UserDeleted" && e.AggregateID == bob.id) || (e.Name == "TaskAssigned" && (e.AggregateID == ids[0] || e.AggregateID == ids[1])) {
					offsets = append(offsets, e.Offset)
				}
			}
			if len(offsets) != 3 || offsets[2]-offsets[0] != 2 {
				t.Errorf("UserDeleted and the two releases are at outbox offsets %v, want 3 adjacent ones", offsets)
			}
		})
	}
}

// TestE2EMigrateAndPromote: `taskd migrate` prepares the database, `taskd
// users promote EMAIL admin` makes an admin, who may then delete someone
// else's task.
func TestE2EMigrateAndPromote(t *testing.T) {
	t.Parallel()
	for _, be := range e2eBackends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			b := be.new(t)
			for i := 0; i < 2; i++ { // idempotent
				out, err := e2eRun(t, b.env, "migrate")
				if err != nil || !strings.Contains(out, "database is up to date") {
					t.Fatalf("taskd migrate (run %d): %q, %v", i+1, out, err)
				}
			}
			s := e2eStart(t, b.env)
			alice := e2eSignUpAndIn(t, s, "alice")
			carol := e2eSignUpAndIn(t, s, "carol")
			id := s.expect(t, http.StatusCreated, "POST", "/api/tasks", alice.token, map[string]string{"Task_name": "alice's"}).str(t, "Task_id")
			if r := s.send(t, "DELETE", "/api/tasks/"+id, carol.token, nil); r.status != http.StatusForbidden || r.errorCode(t) != "forbidden" {
				t.Fatalf("a member deleting another's task: %d %s", r.status, r.body)
			}

			out, err := e2eRun(t, b.env, "users", "promote", strings.ToUpper(carol.email), "admin")
			if err != nil || !strings.Contains(out, "is now admin") {
				t.Fatalf("taskd users promote: %q, %v", out, err)
			}
			if _, err := e2eRun(t, b.env, "users", "promote", "nobody@example.com", "admin"); err == nil {
				t.Error("promoting an unknown user succeeded")
			}
			if _, err := e2eRun(t, b.env, "users", "promote", carol.email, "overlord"); err == nil {
				t.Error("promoting to an unknown role succeeded")
			}

			// The role is in the token: a promotion revokes carol's tokens; she
			// signs in again and is admin.
			token := e2eSignIn(t, s, carol.email, e2ePassword)
			me := s.expect(t, http.StatusOK, "GET", "/api/users/me", token, nil).obj(t)
			if u, _ := me["user"].(map[string]any); u["role"] != "admin" {
				t.Fatalf("carol after the promotion: %v", me)
			}
			r := s.expect(t, http.StatusOK, "DELETE", "/api/tasks/"+id, token, nil)
			e2eExactly(t, r, map[string]string{"message": "작업이 성공적으로 삭제되었습니다", "Task_id": id, "Task_name": "alice's"})
			if r := s.send(t, "GET", "/api/users/me", carol.token, nil); r.status != http.StatusUnauthorized {
				t.Errorf("carol's token from before the promotion: %d %s", r.status, r.body)
			}
		})
	}
}

// TestE2EConfigErrorsAreReportedTogether: every bad variable is named in one
// report, nothing starts, and the process exits non-zero.
func TestE2EConfigErrorsAreReportedTogether(t *testing.T) {
	t.Parallel()
	bad := map[string]string{
		"TASKD_ADDR":             "no-port",
		"TASKD_LOG_LEVEL":        "loud",
		"TASKD_ACCESS_TOKEN_TTL": "forever",
		"TASKD_AUTO_MIGRATE":     "maybe",
		"TASKD_MYSQL_DSN":        "root@tcp(127.0.0.1:3306)/taskd", // without TASKD_JWT_SECRET
		"TASKD_DATA_DIR":         t.TempDir(),
	}
	names := []string{"TASKD_ADDR", "TASKD_LOG_LEVEL", "TASKD_ACCESS_TOKEN_TTL", "TASKD_AUTO_MIGRATE", "TASKD_JWT_SECRET"}
	for _, args := range [][]string{{"serve"}, {}, {"migrate"}, {"users", "promote", "a@example.com", "admin"}} {
		var out, logs e2eLogBuffer
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := run(ctx, args, &out, &logs, e2eEnv(bad))
		cancel()
		if err == nil {
			t.Fatalf("taskd %v with a bad environment succeeded", args)
		}
		for _, n := range names {
			if !strings.Contains(err.Error(), n) {
				t.Errorf("taskd %v: the error does not name %s:\n%v", args, n, err)
			}
		}
	}

	// The process: this test binary re-executed as taskd (see
	// TestE2EHelperProcess), with only the bad environment.
	cmd := exec.Command(os.Args[0], "-test.run=^TestE2EHelperProcess$")
	cmd.Env = []string{"TASKD_E2E_HELPER_PROCESS=1"}
	for k, v := range bad {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("taskd with a bad environment: %v, want a non-zero exit\n%s", err, out)
	}
	if !strings.Contains(string(out), "invalid configuration") {
		t.Errorf("taskd's report:\n%s", out)
	}
	for _, n := range names {
		if !strings.Contains(string(out), n) {
			t.Errorf("taskd's report does not name %s:\n%s", n, out)
		}
	}
}

// TestE2EHelperProcess is taskd's main when TestE2EConfigErrorsAreReportedTogether
// re-executes the test binary; otherwise it does nothing.
func TestE2EHelperProcess(t *testing.T) {
	if os.Getenv("TASKD_E2E_HELPER_PROCESS") != "1" {
		t.Skip("helper process of TestE2EConfigErrorsAreReportedTogether")
	}
	os.Args = []string{"taskd", "serve"}
	main() // exits
}
