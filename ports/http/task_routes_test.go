package httpport_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	identityquery "github.com/taskd/taskd/modules/identity/app/query"
	"github.com/taskd/taskd/modules/identity/contracts"
	taskcommand "github.com/taskd/taskd/modules/tasks/app/command"
	taskquery "github.com/taskd/taskd/modules/tasks/app/query"
	"github.com/taskd/taskd/modules/tasks/domain/task"
)

const seedCreate = `{"Task_name":"보고서 작성","Task_contents":"주간 보고서","Task_status":"대기 중","Deadline":"2026-12-01","PIC":"pic@example.com","Supervisor":"boss@example.com"}`

func TestCreateTaskSeedContract(t *testing.T) {
	e := newEnv(t)
	creator, tok := e.user("creator@example.com")
	pic, _ := e.user("pic@example.com")
	boss, _ := e.user("boss@example.com")

	rec := e.do(req{method: "POST", path: "/api/tasks", body: seedCreate, token: tok})
	wantStatus(t, rec, http.StatusCreated)
	m := obj(t, rec)
	if keys(m) != "Task_id,message" || m["message"] != "작업이 성공적으로 생성되었습니다." {
		t.Fatalf("answer %s", rec.Body.String())
	}
	id := m["Task_id"].(string)
	if u, err := uuid.Parse(id); err != nil || u.Version() != 7 {
		t.Fatalf("Task_id %q is not a UUIDv7", id)
	}
	if got := rec.Header().Get("Location"); got != "/api/tasks/"+id {
		t.Fatalf("Location = %q", got)
	}
	c := e.CreateTask.Last()
	want := taskcommand.CreateTask{ID: id, Actor: c.Actor, Name: "보고서 작성", Contents: "주간 보고서", Status: "대기 중",
		Deadline: "2026-12-01", PIC: "pic@example.com", Supervisor: "boss@example.com"}
	if c != want || c.Actor.UserID != creator.ID || c.Actor.Role != "member" {
		t.Fatalf("command %+v, want %+v", c, want)
	}

	rec = e.do(req{method: "GET", path: "/api/tasks/" + id, token: tok})
	wantStatus(t, rec, http.StatusOK)
	m = obj(t, rec)
	if keys(m) != "message,task" || m["message"] != "작업 조회" {
		t.Fatalf("answer %s", rec.Body.String())
	}
	tk := m["task"].(map[string]any)
	if got, want := keys(tk), "Completed_at,Created_at,Creator,Creator_id,Deadline,PIC,PIC_id,Started_at,Supervisor,Supervisor_id,Task_contents,Task_id,Task_name,Task_priority,Task_status,Updated_at,Version"; got != want {
		t.Fatalf("task keys\n got %s\nwant %s", got, want)
	}
	for k, v := range map[string]any{
		"Task_id": id, "Task_name": "보고서 작성", "Task_contents": "주간 보고서", "Task_status": "waiting",
		"Task_priority": "medium", "Deadline": "2026-12-01T23:59:59Z", "PIC": "pic@example.com", "PIC_id": pic.ID,
		"Supervisor": "boss@example.com", "Supervisor_id": boss.ID, "Creator": "creator@example.com",
		"Creator_id": creator.ID, "Created_at": "2026-03-02T09:00:00Z", "Updated_at": "2026-03-02T09:00:00Z",
		"Completed_at": nil, "Started_at": nil, "Version": float64(1),
	} {
		if tk[k] != v {
			t.Errorf("%s = %#v, want %#v", k, tk[k], v)
		}
	}
	if got := rec.Header().Get("ETag"); got != `"1"` {
		t.Fatalf("ETag = %q", got)
	}
}

func TestCreateTaskBadInput(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user("creator@example.com")
	big := `{"Task_name":"x","Task_contents":"` + strings.Repeat("a", 1<<20) + `"}`
	cases := []struct {
		name, body, ct string
		status         int
		code, field    string
	}{
		{"empty body", "", jsonCT, 400, "body_required", ""},
		{"white space", "  \n ", jsonCT, 400, "body_required", ""},
		{"malformed", `{"Task_name":`, jsonCT, 400, "malformed_json", ""},
		{"not json", `hello`, jsonCT, 400, "malformed_json", ""},
		{"array", `[{"Task_name":"x"}]`, jsonCT, 400, "invalid_type", ""},
		{"null", `null`, jsonCT, 400, "invalid_type", ""},
		{"trailing object", `{"Task_name":"x"}{"Task_name":"y"}`, jsonCT, 400, "malformed_json", ""},
		{"trailing garbage", `{"Task_name":"x"} x`, jsonCT, 400, "malformed_json", ""},
		{"unknown field", `{"Task_name":"x","Owner":"me"}`, jsonCT, 400, "unknown_field", "Owner"},
		{"wrong case", `{"task_name":"x"}`, jsonCT, 400, "unknown_field", "task_name"},
		{"duplicate field", `{"Task_name":"x","Task_name":"y"}`, jsonCT, 400, "duplicate_field", "Task_name"},
		{"number name", `{"Task_name":5}`, jsonCT, 400, "invalid_type", "Task_name"},
		{"object deadline", `{"Task_name":"x","Deadline":{}}`, jsonCT, 400, "invalid_type", "Deadline"},
		{"bool PIC", `{"Task_name":"x","PIC":true}`, jsonCT, 400, "invalid_type", "PIC"},
		{"too large", big, jsonCT, 413, "body_too_large", ""},
		{"text/plain", `{"Task_name":"x"}`, "text/plain", 415, "unsupported_media_type", ""},
		{"latin1", `{"Task_name":"x"}`, "application/json; charset=latin1", 415, "unsupported_media_type", ""},
		{"name missing", `{}`, jsonCT, 422, "name_required", "Task_name"},
		{"name blank", `{"Task_name":"   "}`, jsonCT, 422, "name_required", "Task_name"},
		{"name too long", `{"Task_name":"` + strings.Repeat("가", 201) + `"}`, jsonCT, 422, "name_too_long", "Task_name"},
		{"bad status", `{"Task_name":"x","Task_status":"finished"}`, jsonCT, 422, "invalid_status", "Task_status"},
		{"bad priority", `{"Task_name":"x","Task_priority":"asap"}`, jsonCT, 422, "invalid_priority", "Task_priority"},
		{"bad deadline", `{"Task_name":"x","Deadline":"next friday"}`, jsonCT, 422, "invalid_deadline", "Deadline"},
		{"unknown PIC", `{"Task_name":"x","PIC":"nobody@example.com"}`, jsonCT, 422, "unknown_user", "PIC"},
		{"unknown supervisor", `{"Task_name":"x","Supervisor":"0190f5e4-0000-7000-8000-000000000000"}`, jsonCT, 422, "unknown_user", "Supervisor"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := req{method: "POST", path: "/api/tasks", body: c.body, token: tok, noContentType: true}
			if c.ct != "" {
				r.headers = []string{"Content-Type", c.ct}
			}
			wantErr(t, e.do(r), c.status, c.code, c.field)
		})
	}
	if n := e.store.count(); n != 0 {
		t.Fatalf("%d tasks written by bad requests", n)
	}
}

func TestCreateTaskWithoutContentTypeIsJSON(t *testing.T) {
	// curl -d without -H sends no JSON content type; an absent one is accepted.
	e := newEnv(t)
	_, tok := e.user("creator@example.com")
	rec := e.do(req{method: "POST", path: "/api/tasks", body: `{"Task_name":"x"}`, token: tok, noContentType: true})
	wantStatus(t, rec, http.StatusCreated)
}

func TestTaskRoutesNeedAToken(t *testing.T) {
	e := newEnv(t)
	for _, r := range []req{
		{method: "POST", path: "/api/tasks", body: `{"Task_name":"x"}`},
		{method: "GET", path: "/api/tasks"},
		{method: "GET", path: "/api/tasks/" + uuid.NewString()},
		{method: "PUT", path: "/api/tasks/" + uuid.NewString(), body: `{}`},
		{method: "DELETE", path: "/api/tasks/" + uuid.NewString()},
		{method: "POST", path: "/api/tasks/" + uuid.NewString() + "/status", body: `{"Task_status":"done"}`},
	} {
		rec := e.do(r)
		wantErr(t, rec, http.StatusUnauthorized, "missing_token", "")
		if rec.Header().Get("WWW-Authenticate") == "" {
			t.Fatalf("%s %s: no WWW-Authenticate", r.method, r.path)
		}
	}
}

func TestGetTask(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user("creator@example.com")
	pic, _ := e.user("pic@example.com")
	id := e.createTask(tok, `{"Task_name":"x","PIC":"pic@example.com"}`)

	t.Run("not a uuid", func(t *testing.T) {
		wantErr(t, e.do(req{method: "GET", path: "/api/tasks/not-a-uuid", token: tok}), 404, "task_not_found", "")
	})
	t.Run("unknown", func(t *testing.T) {
		wantErr(t, e.do(req{method: "GET", path: "/api/tasks/" + uuid.NewString(), token: tok}), 404, "task_not_found", "")
	})
	t.Run("upper case id", func(t *testing.T) {
		wantStatus(t, e.do(req{method: "GET", path: "/api/tasks/" + strings.ToUpper(id), token: tok}), 200)
	})
	t.Run("any signed-in user reads", func(t *testing.T) {
		_, other := e.user("other@example.com")
		wantStatus(t, e.do(req{method: "GET", path: "/api/tasks/" + id, token: other}), 200)
	})
	t.Run("deleted PIC renders null with the id kept", func(t *testing.T) {
		e.world.remove(pic.ID)
		tk := obj(t, e.do(req{method: "GET", path: "/api/tasks/" + id, token: tok}))["task"].(map[string]any)
		if tk["PIC"] != nil || tk["PIC_id"] != pic.ID {
			t.Fatalf("PIC %v PIC_id %v", tk["PIC"], tk["PIC_id"])
		}
	})
}

func TestListTasks(t *testing.T) {
	e := newEnv(t)
	me, tok := e.user("me@example.com")
	var users []*fakeUser
	for i := range 5 {
		u, _ := e.user(fmt.Sprintf("u%d@example.com", i))
		users = append(users, u)
	}
	for i := range 12 {
		e.clock.Advance(time.Minute)
		e.createTask(tok, fmt.Sprintf(`{"Task_name":"task %d","PIC":%q,"Supervisor":%q,"Deadline":"2026-04-%02d"}`,
			i, users[i%5].Email, users[(i+1)%5].Email, i+1))
	}

	t.Run("seed answer, one user query", func(t *testing.T) {
		before := len(e.idf.UsersByIDs.Calls())
		rec := e.do(req{method: "GET", path: "/api/tasks", token: tok})
		wantStatus(t, rec, 200)
		m := obj(t, rec)
		if keys(m) != "message,next_cursor,tasks" || m["message"] != "전체 작업 조회" || m["next_cursor"] != nil {
			t.Fatalf("answer keys %s message %v cursor %v", keys(m), m["message"], m["next_cursor"])
		}
		tasks := m["tasks"].([]any)
		if len(tasks) != 12 {
			t.Fatalf("%d tasks", len(tasks))
		}
		for _, x := range tasks {
			tk := x.(map[string]any)
			if tk["PIC"] == nil || tk["Supervisor"] == nil || tk["Creator"] != "me@example.com" {
				t.Fatalf("task users not rendered: %v", tk)
			}
		}
		if n := len(e.idf.UsersByIDs.Calls()) - before; n != 1 {
			t.Fatalf("UsersByIDs called %d times for one page, want 1 (no N+1)", n)
		}
	})

	t.Run("empty list is an empty array", func(t *testing.T) {
		rec := e.do(req{method: "GET", path: "/api/tasks?q=nothing-matches", token: tok})
		if !strings.Contains(rec.Body.String(), `"tasks":[]`) {
			t.Fatalf("answer %s", rec.Body.String())
		}
	})

	t.Run("pages", func(t *testing.T) {
		seen := map[string]bool{}
		path := "/api/tasks?limit=5"
		for pages := 0; ; pages++ {
			m := obj(t, e.do(req{method: "GET", path: path, token: tok}))
			for _, x := range m["tasks"].([]any) {
				seen[x.(map[string]any)["Task_id"].(string)] = true
			}
			next, _ := m["next_cursor"].(string)
			if next == "" {
				break
			}
			if pages > 5 {
				t.Fatal("pagination does not end")
			}
			path = "/api/tasks?limit=5&cursor=" + next
		}
		if len(seen) != 12 {
			t.Fatalf("saw %d tasks over the pages", len(seen))
		}
	})

	t.Run("filters reach the query", func(t *testing.T) {
		creatorID := uuid.NewString()
		e.do(req{method: "GET", path: "/api/tasks?status=%EC%A7%84%ED%96%89+%EC%A4%91&priority=HIGH&pic=me&supervisor=u1@example.com&creator=" +
			strings.ToUpper(creatorID) + "&due_before=2026-05-01&due_after=2026-04-01T09:00:00%2B09:00&q=report&sort=-updated&limit=7&cursor=o:0", token: tok})
		f := e.Tasks.Calls()[len(e.Tasks.Calls())-1].Filter
		due1 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
		due2 := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
		if f.Status != "in_progress" || f.Priority != "high" || f.PICID != me.ID || f.SupervisorID != users[1].ID ||
			f.CreatorID != creatorID || !f.DueBefore.Equal(due1) || !f.DueAfter.Equal(due2) || f.NameContains != "report" ||
			f.Sort != taskquery.SortUpdatedDesc || f.Limit != 7 || f.Cursor != "o:0" {
			t.Fatalf("filter %+v", f)
		}
	})

	t.Run("pic=me", func(t *testing.T) {
		m := obj(t, e.do(req{method: "GET", path: "/api/tasks?pic=" + users[0].Email, token: tok}))
		if n := len(m["tasks"].([]any)); n != 3 {
			t.Fatalf("%d tasks for u0", n)
		}
	})

	bad := []struct {
		query       string
		status      int
		code, field string
	}{
		{"owner=me", 400, "unknown_parameter", "owner"},
		{"status=done&status=waiting", 400, "duplicate_parameter", "status"},
		{"q=%zz", 400, "malformed_query", ""},
		{"q=a;b", 400, "malformed_query", ""},
		{"q=%ff%fe", 400, "invalid_parameter", "q"},
		{"status=finished", 422, "invalid_status", "status"},
		{"priority=asap", 422, "invalid_priority", "priority"},
		{"sort=name", 422, "invalid_sort", "sort"},
		{"limit=0", 422, "invalid_limit", "limit"},
		{"limit=201", 422, "invalid_limit", "limit"},
		{"limit=ten", 422, "invalid_limit", "limit"},
		{"limit=99999999999999999999", 422, "invalid_limit", "limit"},
		{"due_before=tomorrow", 422, "invalid_date", "due_before"},
		{"due_after=2026-13-01", 422, "invalid_date", "due_after"},
		{"pic=nobody@example.com", 404, "user_not_found", "pic"},
		{"supervisor=bob", 400, "invalid_user_ref", "supervisor"},
		{"cursor=garbage", 400, "invalid_cursor", "cursor"},
		{"cursor=" + strings.Repeat("x", 2000), 400, "invalid_cursor", "cursor"},
		{"q=" + strings.Repeat("x", 201), 422, "query_too_long", "q"},
	}
	for _, c := range bad {
		t.Run(c.query, func(t *testing.T) {
			wantErr(t, e.do(req{method: "GET", path: "/api/tasks?" + c.query, token: tok}), c.status, c.code, c.field)
		})
	}
}

func TestUpdateTask(t *testing.T) {
	e := newEnv(t)
	creator, tok := e.user("creator@example.com")
	pic, picTok := e.user("pic@example.com")
	_, otherTok := e.user("other@example.com")
	e.user("boss@example.com")
	id := e.createTask(tok, `{"Task_name":"x","Task_contents":"c","PIC":"pic@example.com","Supervisor":"boss@example.com","Deadline":"2026-04-01"}`)
	path := "/api/tasks/" + id

	t.Run("seed answer, partial update, new ETag", func(t *testing.T) {
		rec := e.do(req{method: "PUT", path: path, token: tok, body: `{"Task_contents":"new contents","Task_status":"진행 중"}`})
		wantStatus(t, rec, 200)
		m := obj(t, rec)
		if keys(m) != "message" || m["message"] != "작업이 성공적으로 업데이트되었습니다." {
			t.Fatalf("answer %s", rec.Body.String())
		}
		if got := rec.Header().Get("ETag"); got != `"2"` {
			t.Fatalf("ETag = %q", got)
		}
		c := e.UpdateTask.Last()
		if c.Name != nil || c.Priority != nil || c.Deadline != nil || c.PIC != nil || c.Supervisor != nil ||
			*c.Contents != "new contents" || *c.Status != "진행 중" || c.ExpectedVersion != nil || c.Actor.UserID != creator.ID {
			t.Fatalf("command %+v", c)
		}
		tk := obj(t, e.do(req{method: "GET", path: path, token: tok}))["task"].(map[string]any)
		if tk["Task_contents"] != "new contents" || tk["Task_status"] != "in_progress" || tk["Task_name"] != "x" || tk["PIC"] != "pic@example.com" {
			t.Fatalf("task %v", tk)
		}
	})

	t.Run("null and empty clear deadline, PIC, supervisor", func(t *testing.T) {
		rec := e.do(req{method: "PUT", path: path, token: tok, body: `{"Deadline":null,"PIC":"","Supervisor":null}`})
		wantStatus(t, rec, 200)
		c := e.UpdateTask.Last()
		if c.Deadline == nil || *c.Deadline != "" || c.PIC == nil || *c.PIC != "" || c.Supervisor == nil || *c.Supervisor != "" {
			t.Fatalf("command %+v", c)
		}
		tk := obj(t, e.do(req{method: "GET", path: path, token: tok}))["task"].(map[string]any)
		if tk["Deadline"] != nil || tk["PIC"] != nil || tk["PIC_id"] != nil || tk["Supervisor"] != nil {
			t.Fatalf("task %v", tk)
		}
	})

	t.Run("PIC may update; others are forbidden", func(t *testing.T) {
		wantStatus(t, e.do(req{method: "PUT", path: path, token: tok, body: `{"PIC":"` + pic.ID + `"}`}), 200)
		wantStatus(t, e.do(req{method: "PUT", path: path, token: picTok, body: `{"Task_priority":"urgent"}`}), 200)
		wantErr(t, e.do(req{method: "PUT", path: path, token: otherTok, body: `{"Task_priority":"low"}`}), 403, "forbidden", "")
	})

	t.Run("If-Match", func(t *testing.T) {
		cur := obj(t, e.do(req{method: "GET", path: path, token: tok}))["task"].(map[string]any)["Version"].(float64)
		v := fmt.Sprint(int64(cur))
		wantErr(t, e.do(req{method: "PUT", path: path, token: tok, body: `{"Task_name":"y"}`, headers: []string{"If-Match", `"1"`}}),
			412, "version_mismatch", "")
		rec := e.do(req{method: "PUT", path: path, token: tok, body: `{"Task_name":"y"}`, headers: []string{"If-Match", `"` + v + `"`}})
		wantStatus(t, rec, 200)
		if *e.UpdateTask.Last().ExpectedVersion != int64(cur) {
			t.Fatalf("expected version %v", e.UpdateTask.Last().ExpectedVersion)
		}
		next := rec.Header().Get("ETag")
		bare := strings.Trim(next, `"`)
		wantStatus(t, e.do(req{method: "PUT", path: path, token: tok, body: `{"Task_name":"z"}`, headers: []string{"If-Match", bare}}), 200)
		wantStatus(t, e.do(req{method: "PUT", path: path, token: tok, body: `{"Task_name":"w"}`, headers: []string{"If-Match", "*"}}), 200)
		if e.UpdateTask.Last().ExpectedVersion != nil {
			t.Fatal("If-Match: * must not pin a version")
		}
		for _, h := range []string{`W/"1"`, `"1", "2"`, "abc", `""`, "-1", "0", "99999999999999999999"} {
			wantErr(t, e.do(req{method: "PUT", path: path, token: tok, body: `{"Task_name":"v"}`, headers: []string{"If-Match", h}}),
				400, "invalid_if_match", "If-Match")
		}
	})

	bad := []struct {
		name, body  string
		status      int
		code, field string
	}{
		{"empty body", "", 400, "body_required", ""},
		{"unknown field", `{"Task_id":"x"}`, 400, "unknown_field", "Task_id"},
		{"null name", `{"Task_name":null}`, 400, "invalid_type", "Task_name"},
		{"null status", `{"Task_status":null}`, 400, "invalid_type", "Task_status"},
		{"null priority", `{"Task_priority":null}`, 400, "invalid_type", "Task_priority"},
		{"number contents", `{"Task_contents":1}`, 400, "invalid_type", "Task_contents"},
		{"array PIC", `{"PIC":[]}`, 400, "invalid_type", "PIC"},
		{"bad status", `{"Task_status":"closed"}`, 422, "invalid_status", "Task_status"},
		{"bad deadline", `{"Deadline":"2026-02-30"}`, 422, "invalid_deadline", "Deadline"},
		{"unknown supervisor", `{"Supervisor":"ghost@example.com"}`, 422, "unknown_user", "Supervisor"},
		{"blank name", `{"Task_name":""}`, 422, "name_required", "Task_name"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			wantErr(t, e.do(req{method: "PUT", path: path, token: tok, body: c.body}), c.status, c.code, c.field)
		})
	}
	t.Run("missing task", func(t *testing.T) {
		wantErr(t, e.do(req{method: "PUT", path: "/api/tasks/" + uuid.NewString(), token: tok, body: `{}`}), 404, "task_not_found", "")
		wantErr(t, e.do(req{method: "PUT", path: "/api/tasks/42", token: tok, body: `{}`}), 404, "task_not_found", "")
	})
}

func TestChangeTaskStatus(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user("creator@example.com")
	_, otherTok := e.user("other@example.com")
	id := e.createTask(tok, `{"Task_name":"x"}`)
	path := "/api/tasks/" + id + "/status"

	for i, st := range []string{"in_progress", "완료", "진행 중", "done"} {
		rec := e.do(req{method: "POST", path: path, token: tok, body: `{"Task_status":"` + st + `"}`})
		wantStatus(t, rec, 200)
		m := obj(t, rec)
		if m["message"] != "작업 상태가 성공적으로 변경되었습니다." || m["Task_id"] != id {
			t.Fatalf("answer %s", rec.Body.String())
		}
		if got := rec.Header().Get("ETag"); got != fmt.Sprintf(`"%d"`, i+2) {
			t.Fatalf("ETag = %q after %d changes", got, i+1)
		}
	}
	tk := obj(t, e.do(req{method: "GET", path: "/api/tasks/" + id, token: tok}))["task"].(map[string]any)
	if tk["Task_status"] != "done" || tk["Completed_at"] == nil || tk["Started_at"] == nil {
		t.Fatalf("task %v", tk)
	}
	wantErr(t, e.do(req{method: "POST", path: path, token: tok, body: `{"Task_status":"waiting"}`}), 422, "invalid_status_transition", "Task_status")
	wantErr(t, e.do(req{method: "POST", path: path, token: tok, body: `{"Task_status":"nope"}`}), 422, "invalid_status", "Task_status")
	wantErr(t, e.do(req{method: "POST", path: path, token: tok, body: `{}`}), 422, "invalid_status", "Task_status")
	wantErr(t, e.do(req{method: "POST", path: path, token: tok, body: `{"Task_status":1}`}), 400, "invalid_type", "Task_status")
	wantErr(t, e.do(req{method: "POST", path: path, token: otherTok, body: `{"Task_status":"in_progress"}`}), 403, "forbidden", "")
	wantErr(t, e.do(req{method: "POST", path: path, token: tok, body: `{"Task_status":"in_progress"}`, headers: []string{"If-Match", "1"}}), 412, "version_mismatch", "")
}

func TestDeleteTask(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user("creator@example.com")
	_, picTok := e.user("pic@example.com")
	_, bossTok := e.user("boss@example.com")

	t.Run("seed answer without a body", func(t *testing.T) {
		id := e.createTask(tok, `{"Task_name":"보고서"}`)
		rec := e.do(req{method: "DELETE", path: "/api/tasks/" + id, token: tok})
		wantStatus(t, rec, 200)
		m := obj(t, rec)
		if keys(m) != "Task_id,Task_name,message" || m["message"] != "작업이 성공적으로 삭제되었습니다" ||
			m["Task_id"] != id || m["Task_name"] != "보고서" {
			t.Fatalf("answer %s", rec.Body.String())
		}
		wantErr(t, e.do(req{method: "GET", path: "/api/tasks/" + id, token: tok}), 404, "task_not_found", "")
		wantErr(t, e.do(req{method: "DELETE", path: "/api/tasks/" + id, token: tok}), 404, "task_not_found", "")
	})
	t.Run("seed body with the matching Task_id", func(t *testing.T) {
		id := e.createTask(tok, `{"Task_name":"x"}`)
		wantStatus(t, e.do(req{method: "DELETE", path: "/api/tasks/" + id, token: tok, body: `{"Task_id":"` + strings.ToUpper(id) + `"}`}), 200)
	})
	t.Run("empty object body", func(t *testing.T) {
		id := e.createTask(tok, `{"Task_name":"x"}`)
		wantStatus(t, e.do(req{method: "DELETE", path: "/api/tasks/" + id, token: tok, body: `{}`}), 200)
	})
	t.Run("mismatching or bad bodies", func(t *testing.T) {
		id := e.createTask(tok, `{"Task_name":"x"}`)
		for _, c := range []struct{ body, code, field string }{
			{`{"Task_id":"` + uuid.NewString() + `"}`, "task_id_mismatch", "Task_id"},
			{`{"Task_id":"abc"}`, "task_id_mismatch", "Task_id"},
			{`{"Task_id":null}`, "task_id_mismatch", "Task_id"},
			{`{"Task_id":7}`, "invalid_type", "Task_id"},
			{`{"Task_name":"x"}`, "unknown_field", "Task_name"},
			{`{"Task_id":`, "malformed_json", ""},
		} {
			wantErr(t, e.do(req{method: "DELETE", path: "/api/tasks/" + id, token: tok, body: c.body}), 400, c.code, c.field)
		}
		if e.store.count() == 0 {
			t.Fatal("a rejected delete deleted")
		}
	})
	t.Run("PIC may not delete, supervisor may", func(t *testing.T) {
		id := e.createTask(tok, `{"Task_name":"x","PIC":"pic@example.com","Supervisor":"boss@example.com"}`)
		wantErr(t, e.do(req{method: "DELETE", path: "/api/tasks/" + id, token: picTok}), 403, "forbidden", "")
		wantErr(t, e.do(req{method: "DELETE", path: "/api/tasks/" + id, token: bossTok, headers: []string{"If-Match", `"9"`}}), 412, "version_mismatch", "")
		wantStatus(t, e.do(req{method: "DELETE", path: "/api/tasks/" + id, token: bossTok, headers: []string{"If-Match", `"1"`}}), 200)
	})
}

func TestCreateTaskIdempotency(t *testing.T) {
	t.Run("replay, reuse, other user", func(t *testing.T) {
		e := newEnv(t)
		creator, tok := e.user("creator@example.com")
		_, tok2 := e.user("second@example.com")
		key := []string{"Idempotency-Key", "key-1"}
		first := e.do(req{method: "POST", path: "/api/tasks", token: tok, body: `{"Task_name":"x"}`, headers: key})
		wantStatus(t, first, 201)
		if first.Header().Get("Idempotent-Replayed") != "" {
			t.Fatal("first answer marked replayed")
		}
		again := e.do(req{method: "POST", path: "/api/tasks", token: tok, body: `{"Task_name":"x"}`, headers: key})
		wantStatus(t, again, 201)
		if again.Body.String() != first.Body.String() || again.Header().Get("Idempotent-Replayed") != "true" {
			t.Fatalf("replay %q %q vs %q", again.Header().Get("Idempotent-Replayed"), again.Body.String(), first.Body.String())
		}
		if loc := again.Header().Get("Location"); loc == "" || loc != first.Header().Get("Location") {
			t.Fatalf("replayed Location %q, first %q", loc, first.Header().Get("Location"))
		}
		if n := len(e.CreateTask.Calls()); n != 1 {
			t.Fatalf("CreateTask ran %d times", n)
		}
		wantErr(t, e.do(req{method: "POST", path: "/api/tasks", token: tok, body: `{"Task_name":"y"}`, headers: key}),
			422, "idempotency_key_reused", "Idempotency-Key")
		other := e.do(req{method: "POST", path: "/api/tasks", token: tok2, body: `{"Task_name":"x"}`, headers: key})
		wantStatus(t, other, 201)
		if obj(t, other)["Task_id"] == obj(t, first)["Task_id"] {
			t.Fatal("two users' keys collide")
		}
		// After 24 h the key is forgotten: a new request with it runs.
		e.clock.Advance(25 * time.Hour)
		late := e.do(req{method: "POST", path: "/api/tasks", token: e.token(creator), body: `{"Task_name":"y"}`, headers: key})
		wantStatus(t, late, 201)
		if e.store.count() != 3 {
			t.Fatalf("%d tasks", e.store.count())
		}
	})
	t.Run("bad keys", func(t *testing.T) {
		e := newEnv(t)
		_, tok := e.user("creator@example.com")
		for _, k := range []string{"", strings.Repeat("k", 256), "with space", "ключ"} {
			wantErr(t, e.do(req{method: "POST", path: "/api/tasks", token: tok, body: `{"Task_name":"x"}`, headers: []string{"Idempotency-Key", k}}),
				400, "invalid_idempotency_key", "Idempotency-Key")
		}
		wantErr(t, e.do(req{method: "POST", path: "/api/tasks", token: tok, body: `{"Task_name":"x"}`,
			headers: []string{"Idempotency-Key", "a", "Idempotency-Key", "b"}}), 400, "invalid_idempotency_key", "Idempotency-Key")
	})
	t.Run("errors are not remembered", func(t *testing.T) {
		e := newEnv(t)
		_, tok := e.user("creator@example.com")
		key := []string{"Idempotency-Key", "k"}
		wantErr(t, e.do(req{method: "POST", path: "/api/tasks", token: tok, body: `{"Task_name":"x","PIC":"later@example.com"}`, headers: key}), 422, "unknown_user", "PIC")
		e.user("later@example.com")
		wantStatus(t, e.do(req{method: "POST", path: "/api/tasks", token: tok, body: `{"Task_name":"x","PIC":"later@example.com"}`, headers: key}), 201)
	})
	t.Run("concurrent duplicates create one task", func(t *testing.T) {
		e := newEnv(t)
		_, tok := e.user("creator@example.com")
		const n = 20
		var wg sync.WaitGroup
		answers := make([]string, n)
		codes := make([]int, n)
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				rec := e.do(req{method: "POST", path: "/api/tasks", token: tok, body: `{"Task_name":"once"}`, headers: []string{"Idempotency-Key", "race"}})
				codes[i], answers[i] = rec.Code, rec.Body.String()
			}()
		}
		close(start)
		wg.Wait()
		for i := range n {
			if codes[i] != 201 || answers[i] != answers[0] {
				t.Fatalf("answer %d: %d %s (first %s)", i, codes[i], answers[i], answers[0])
			}
		}
		if got := e.store.adds.Load(); got != 1 {
			t.Fatalf("%d tasks inserted", got)
		}
	})
	t.Run("a task inserted without its saved answer is answered again", func(t *testing.T) {
		e := newEnv(t)
		_, tok := e.user("creator@example.com")
		first := e.do(req{method: "POST", path: "/api/tasks", token: tok, body: `{"Task_name":"x"}`, headers: []string{"Idempotency-Key", "crash"}})
		e.idem.mu.Lock()
		clear(e.idem.rows) // as if the process died between insert and save
		e.idem.mu.Unlock()
		again := e.do(req{method: "POST", path: "/api/tasks", token: tok, body: `{"Task_name":"x"}`, headers: []string{"Idempotency-Key", "crash"}})
		wantStatus(t, again, 201)
		if again.Body.String() != first.Body.String() || again.Header().Get("Idempotent-Replayed") != "true" || e.store.count() != 1 {
			t.Fatalf("answer %s vs %s", again.Body.String(), first.Body.String())
		}
	})
	t.Run("store failure is a 500 that leaks nothing", func(t *testing.T) {
		e := newEnv(t)
		_, tok := e.user("creator@example.com")
		e.idem.failErr = errors.New("dial tcp 10.0.0.7:3306: secret-host down")
		rec := e.do(req{method: "POST", path: "/api/tasks", token: tok, body: `{"Task_name":"x"}`, headers: []string{"Idempotency-Key", "k"}})
		wantErr(t, rec, 500, "internal", "")
		if strings.Contains(rec.Body.String(), "secret-host") || !strings.Contains(e.logs.String(), "secret-host") {
			t.Fatalf("the real error must be logged, not sent: %s", rec.Body.String())
		}
		if e.store.count() != 0 {
			t.Fatal("task created although the key could not be checked")
		}
	})
}

func TestErrorMapping(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user("creator@example.com")
	id := e.createTask(tok, `{"Task_name":"x"}`)

	t.Run("wrapped module errors keep their status", func(t *testing.T) {
		e.TaskByID.Override(func(context.Context, taskquery.TaskByID) (taskquery.Task, error) {
			return taskquery.Task{}, fmt.Errorf("reading task: %w", fmt.Errorf("adapter: %w", task.ErrNotFound))
		})
		defer e.TaskByID.Override(nil)
		wantErr(t, e.do(req{method: "GET", path: "/api/tasks/" + id, token: tok}), 404, "task_not_found", "")
	})
	t.Run("joined errors too", func(t *testing.T) {
		e.UpdateTask.Override(func(context.Context, taskcommand.UpdateTask) error {
			return errors.Join(errors.New("rollback: conn closed"), task.ErrForbiddenUpdate)
		})
		defer e.UpdateTask.Override(nil)
		wantErr(t, e.do(req{method: "PUT", path: "/api/tasks/" + id, token: tok, body: `{}`}), 403, "forbidden", "")
	})
	t.Run("anything else is a logged 500", func(t *testing.T) {
		e.idf.UsersByIDs.Override(func(context.Context, identityquery.UsersByIDs) (map[string]contracts.User, error) {
			return nil, errors.New("users table: password=hunter2 corrupt")
		})
		defer e.idf.UsersByIDs.Override(nil)
		rec := e.do(req{method: "GET", path: "/api/tasks/" + id, token: tok})
		wantErr(t, rec, 500, "internal", "")
		if strings.Contains(rec.Body.String(), "hunter2") {
			t.Fatal("internal error leaked")
		}
		if !strings.Contains(e.logs.String(), "hunter2") {
			t.Fatal("internal error not logged")
		}
	})
	t.Run("conflict", func(t *testing.T) {
		e.UpdateTask.Override(func(context.Context, taskcommand.UpdateTask) error { return errTaskExists })
		defer e.UpdateTask.Override(nil)
		wantErr(t, e.do(req{method: "PUT", path: "/api/tasks/" + id, token: tok, body: `{}`}), 409, "task_exists", "")
	})
}
