package httpport_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

// serve sends r and checks what holds for any input: never a 5xx, and the
// answer is JSON — the error shape for an error.
func serve(t *testing.T, h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code >= 500 {
		t.Fatalf("%s %s → %d %s", r.Method, r.URL, rec.Code, rec.Body.String())
	}
	checkShape(t, rec)
	return rec
}

func bodyRequest(method, path string, body []byte, contentType, token string) *http.Request {
	r := httptest.NewRequest(method, "/", bytes.NewReader(body))
	r.URL.Path = path
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	return r
}

var endpointSeeds = []string{
	seedCreate,
	`{"Task_name":"x","Task_priority":"urgent","Deadline":"2026-12-01T18:00:00+09:00","Task_status":"완료"}`,
	`{"Task_name":"x","PIC":"pic@example.com","Supervisor":"0190f5e4-0000-7000-8000-000000000000"}`,
	`{"Task_name":"x","Deadline":"0000-01-01"}`, `{"Task_name":"x","Deadline":"9999-12-31T23:59:60Z"}`,
	`{"Task_name":"` + "\u200b" + `"}`, `{"Task_name":"x","Task_contents":"\u0000"}`, `{"Task_name":"x","PIC":"a@b"}`,
	`{"Task_name":"x","PIC":"me"}`, `{"Task_status":null,"Deadline":null}`, `{}`, ``, `null`, `{"Task_name":1e400}`,
	`{"Task_name":"x","Task_name":"x"}`, `[`, "{\"Task_name\":\"\xff\"}",
}

func FuzzCreateTaskEndpoint(f *testing.F) {
	e := newEnv(f)
	_, tok := e.user("creator@example.com")
	e.user("pic@example.com")
	for _, s := range endpointSeeds {
		f.Add([]byte(s), "application/json", "")
	}
	f.Add([]byte(`{"Task_name":"x"}`), "", "key-1")
	f.Add([]byte(`{"Task_name":"x"}`), "text/html", "key-1")
	f.Add([]byte(`{"Task_name":"y"}`), "application/json", "key-1")
	f.Fuzz(func(t *testing.T, body []byte, ct, key string) {
		r := bodyRequest("POST", "/api/tasks", body, ct, tok)
		if key != "" {
			r.Header["Idempotency-Key"] = []string{key}
		}
		serve(t, e.handler, r)
	})
}

func FuzzUpdateTaskEndpoint(f *testing.F) {
	e := newEnv(f)
	_, tok := e.user("creator@example.com")
	e.user("pic@example.com")
	id := e.createTask(tok, `{"Task_name":"x"}`)
	for _, s := range endpointSeeds {
		f.Add([]byte(s), "", id)
	}
	f.Add([]byte(`{"Task_name":"y"}`), `"1"`, id)
	f.Add([]byte(`{"Task_status":"in_progress"}`), `*`, "not-an-id")
	f.Add([]byte(`{"PIC":null}`), `W/"2"`, id+"/../x")
	f.Fuzz(func(t *testing.T, body []byte, ifMatch, path string) {
		r := bodyRequest("PUT", "/api/tasks/"+path, body, "application/json", tok)
		if ifMatch != "" {
			r.Header["If-Match"] = []string{ifMatch}
		}
		serve(t, e.handler, r)
	})
}

func FuzzDeleteTaskEndpoint(f *testing.F) {
	e := newEnv(f)
	_, tok := e.user("creator@example.com")
	id := e.createTask(tok, `{"Task_name":"x"}`)
	for _, s := range endpointSeeds {
		f.Add([]byte(s), id)
	}
	f.Add([]byte(`{"Task_id":"`+id+`"}`), id)
	f.Add([]byte(`{"Task_id":null}`), id)
	f.Fuzz(func(t *testing.T, body []byte, path string) {
		serve(t, e.handler, bodyRequest("DELETE", "/api/tasks/"+path, body, "application/json", tok))
	})
}

func FuzzChangeStatusEndpoint(f *testing.F) {
	e := newEnv(f)
	_, tok := e.user("creator@example.com")
	id := e.createTask(tok, `{"Task_name":"x"}`)
	for _, s := range []string{`{"Task_status":"in_progress"}`, `{"Task_status":"완료"}`, `{"Task_status":"waiting"}`, `{"Task_status":1}`, `{}`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		serve(t, e.handler, bodyRequest("POST", "/api/tasks/"+id+"/status", body, "application/json", tok))
	})
}

func FuzzListTasksEndpoint(f *testing.F) {
	e := newEnv(f)
	_, tok := e.user("creator@example.com")
	e.user("pic@example.com")
	e.createTask(tok, `{"Task_name":"x","PIC":"pic@example.com","Deadline":"2026-04-01"}`)
	for _, s := range []string{
		"", "status=%EC%99%84%EB%A3%8C", "pic=me&sort=priority&limit=1", "pic=pic@example.com", "creator=0190f5e4-0000-7000-8000-000000000000",
		"due_before=2026-05-01&due_after=2026-04-01T00:00:00Z", "q=%ff", "q=a;b", "limit=-1", "cursor=o:1", "cursor=o:-5",
		"sort=-created&sort=deadline", "%zz", "pic=", "x=1", "due_before=99999-01-01", "limit=1e3",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		r := httptest.NewRequest("GET", "/api/tasks", nil)
		r.URL.RawQuery = raw
		r.Header.Set("Authorization", "Bearer "+tok)
		serve(t, e.handler, r)
	})
}

func FuzzSignInEndpoint(f *testing.F) {
	e := newEnv(f)
	e.world.add(fakeUser{Email: "kim@example.com", Password: "correct horse battery"})
	for _, s := range []string{
		`{"email":"kim@example.com","password":"correct horse battery"}`, `{"email":"kim@example.com"}`, `{"email":1}`, `{}`, ``,
		`{"email":"` + "\xff" + `","password":""}`, `{"email":"kim@example.com","password":"x","remember":true}`,
	} {
		f.Add([]byte(s), "GET")
		f.Add([]byte(s), "POST")
	}
	f.Fuzz(func(t *testing.T, body []byte, method string) {
		if method != "GET" {
			method = "POST"
		}
		serve(t, e.handler, bodyRequest(method, "/api/sign_in", body, "application/json", ""))
	})
}

func FuzzSignUpEndpoint(f *testing.F) {
	e := newEnv(f)
	for _, s := range []string{
		`{"email":"kim@example.com","password":"correct horse battery","name":"김"}`, `{"email":"a@b.co","password":"0123456789","name":"x","phone":"+821012345678"}`,
		`{"email":"kim@example.com","password":"correct horse battery","name":"김","phone":"010"}`, `{"email":[]}`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		serve(t, e.handler, bodyRequest("POST", "/api/sign_up", body, "application/json", ""))
	})
}

func FuzzAuthorizationHeader(f *testing.F) {
	e := newEnv(f)
	_, tok := e.user("creator@example.com")
	for _, s := range []string{"Bearer " + tok, "Bearer", "bearer x.y.z", "Basic YTpi", "", "Bearer " + tok + "x", "Bearer eyJhbGciOiJub25lIn0.e30."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		r := httptest.NewRequest("GET", "/api/users/me", nil)
		r.Header["Authorization"] = []string{h}
		rec := serve(t, e.handler, r)
		if rec.Code != 200 && rec.Code != 401 {
			t.Fatalf("%q → %d", h, rec.Code)
		}
	})
}
