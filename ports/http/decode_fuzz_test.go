package httpport

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/taskd/taskd/ports/http/httpio"
)

// decodeBody runs the strict decoder as a route does and checks what must
// hold for any input: an error is a 4xx with a code; success means the body
// was one JSON object that encoding/json reads the same way.
func decodeBody[T any](t *testing.T, body []byte, contentType string, optional bool) (T, bool) {
	t.Helper()
	var dst T
	r := httptest.NewRequest("POST", "/", bytes.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	w := httptest.NewRecorder()
	var err error
	if optional {
		_, err = httpio.DecodeOptional(w, r, 0, &dst)
	} else {
		err = httpio.Decode(w, r, 0, &dst)
	}
	if err != nil {
		status, e := httpio.StatusOf(err)
		if status < 400 || status > 499 || e == nil || e.Code == "" || e.Message == "" {
			t.Fatalf("decoding %q gave %d %v", body, status, err)
		}
		return dst, false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if !optional {
			t.Fatalf("empty body accepted")
		}
		return dst, true
	}
	if !json.Valid(body) || bytes.TrimSpace(body)[0] != '{' {
		t.Fatalf("accepted a body that is not one JSON object: %q", body)
	}
	var std T
	if err := json.Unmarshal(body, &std); err != nil {
		t.Fatalf("accepted %q that encoding/json rejects: %v", body, err)
	}
	if !reflect.DeepEqual(std, dst) {
		t.Fatalf("decoded %q as %+v, encoding/json as %+v", body, dst, std)
	}
	return dst, true
}

var decodeSeeds = []string{
	`{"Task_name":"보고서 작성","Task_contents":"주간 보고서","Task_status":"대기 중","Deadline":"2026-12-01","PIC":"pic@example.com","Supervisor":"boss@example.com"}`,
	`{"Task_name":"x","Task_priority":"urgent","Deadline":"2026-12-01T18:00:00+09:00"}`,
	`{"Task_contents":"c","Task_status":"done","Deadline":null,"PIC":""}`,
	`{"Task_id":"0190f5e4-0000-7000-8000-000000000000"}`,
	`{}`, ``, `null`, `[]`, `"x"`, `{"Task_name":1}`, `{"task_name":"x"}`, `{"Task_name":"x","Task_name":"y"}`,
	`{"Task_name":"x"} {}`, `{"Task_name":"\u0000\ud800"}`, `{"Task_name":"x",}`, `{"a":{"b":[1,2,{"c":null}]}}`,
	"{\"Task_name\":\"\xff\xfe\"}", `{"Deadline":{"$gt":""}}`, `{"PIC":["a"]}`, `{"Task_name":"x"` + "\x00",
}

func addSeeds(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s), "application/json")
	}
	f.Add([]byte(`{"Task_name":"x"}`), "")
	f.Add([]byte(`{"Task_name":"x"}`), "text/plain")
	f.Add([]byte(`{"Task_name":"x"}`), "application/json; charset=utf-16")
	f.Add([]byte(`{"Task_name":"x"}`), "application/merge-patch+json")
	f.Add([]byte(`{"Task_name":"x"}`), ";;;")
}

func FuzzDecodeCreateTask(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte, ct string) {
		decodeBody[createTaskRequest](t, body, ct, false)
	})
}

func FuzzDecodeUpdateTask(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte, ct string) {
		req, ok := decodeBody[updateTaskRequest](t, body, ct, false)
		if !ok {
			return
		}
		for _, o := range []httpio.Optional[string]{req.Name, req.Contents, req.Status, req.Priority, req.Deadline, req.PIC, req.Supervisor} {
			if !o.Set && (o.Null || o.Value != "") || o.Null && o.Value != "" {
				t.Fatalf("inconsistent optional %+v from %q", o, body)
			}
		}
		cmd, err := req.toCommand("id", actorForFuzz, nil)
		if err != nil {
			if status, _ := httpio.StatusOf(err); status != 400 {
				t.Fatalf("toCommand: %d %v", status, err)
			}
			return
		}
		if (cmd.Deadline != nil) != req.Deadline.Set || (cmd.PIC != nil) != req.PIC.Set || (cmd.Name != nil) != req.Name.Set {
			t.Fatalf("presence lost: %+v from %q", cmd, body)
		}
	})
}

func FuzzDecodeDeleteTask(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte, ct string) {
		decodeBody[deleteTaskRequest](t, body, ct, true)
	})
}

func FuzzDecodeSignIn(f *testing.F) {
	f.Add([]byte(`{"email":"kim@example.com","password":"correct horse battery"}`), "application/json")
	addSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte, ct string) {
		decodeBody[signInRequest](t, body, ct, false)
	})
}

func FuzzDecodeUpdateProfile(f *testing.F) {
	f.Add([]byte(`{"name":"김","phone":null,"locale":"en","notification_preferences":{"email":false}}`), "application/json")
	addSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte, ct string) {
		decodeBody[updateProfileRequest](t, body, ct, false)
	})
}

func FuzzIfMatch(f *testing.F) {
	for _, s := range []string{`"1"`, "1", "*", `W/"1"`, `"1", "2"`, "", `""`, "-1", "99999999999999999999", "+1", " 7 ", "0x10", "١"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		r := httptest.NewRequest("PUT", "/", nil)
		r.Header["If-Match"] = []string{h}
		v, err := ifMatch(r)
		if err != nil {
			if status, e := httpio.StatusOf(err); status != 400 || e.Code != "invalid_if_match" {
				t.Fatalf("%q: %d %v", h, status, err)
			}
			return
		}
		if v != nil && *v < 1 {
			t.Fatalf("%q gave version %d", h, *v)
		}
	})
}
