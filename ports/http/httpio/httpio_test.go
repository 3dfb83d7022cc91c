package httpio_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/taskd/taskd/modules/kernel/errs"
	"github.com/taskd/taskd/ports/http/httpio"
)

func TestStatusOf(t *testing.T) {
	notFound := errs.NotFound("task_not_found", "task not found")
	cases := []struct {
		err    error
		status int
		code   string
	}{
		{errs.Invalid("x", "f", "m"), 422, "x"},
		{errs.BadRequest("x", "", "m"), 400, "x"},
		{notFound, 404, "task_not_found"},
		{fmt.Errorf("a: %w", fmt.Errorf("b: %w", notFound)), 404, "task_not_found"},
		{errors.Join(errors.New("rollback failed"), notFound), 404, "task_not_found"},
		{errs.Conflict("x", "m"), 409, "x"},
		{errs.ErrVersionMismatch, 412, "version_mismatch"},
		{errs.Forbidden("forbidden", "m"), 403, "forbidden"},
		{errs.Unauthorized("x", "m"), 401, "x"},
		{httpio.ErrTooManyRequests, 429, "too_many_requests"},
		{httpio.WithStatus(413, httpio.ErrBodyTooLarge), 413, "body_too_large"},
		{fmt.Errorf("wrapped: %w", httpio.WithStatus(415, httpio.ErrUnsupportedMediaType)), 415, "unsupported_media_type"},
		{httpio.WithStatus(503, errs.BadRequest("x", "", "m")), 400, "x"}, // a port override never makes a 5xx
		{errs.New(errs.KindUnknown, "weird", "m"), 500, "internal"},
		{errors.New("db down"), 500, "internal"},
		{(*errs.Error)(nil), 500, "internal"},
	}
	for _, c := range cases {
		status, e := httpio.StatusOf(c.err)
		if status != c.status || e.Code != c.code {
			t.Errorf("%v: %d %s, want %d %s", c.err, status, e.Code, c.status, c.code)
		}
	}
}

type body struct {
	Name  string                   `json:"name"`
	Count int                      `json:"count"`
	Opt   httpio.Optional[string]  `json:"opt"`
	Tags  []string                 `json:"tags"`
	Skip  string                   `json:"-"`
	Deep  map[string]any           `json:"deep"`
	Num   httpio.Optional[float64] `json:"num"`
}

func TestDecodeBytes(t *testing.T) {
	cases := []struct {
		in          string
		code, field string
	}{
		{`{"name":"a","count":2,"opt":null,"tags":["x"],"deep":{"a":[1]},"num":1.5}`, "", ""},
		{`  {"name":"a"}  ` + "\n", "", ""},
		{`{"Skip":"x"}`, "unknown_field", "Skip"},
		{`{"-":"x"}`, "unknown_field", "-"},
		{`{"count":"2"}`, "invalid_type", "count"},
		{`{"count":2.5}`, "invalid_type", "count"},
		{`{"count":1e100}`, "invalid_type", "count"},
		{`{"tags":"x"}`, "invalid_type", "tags"},
		{`{"opt":1}`, "invalid_type", "opt"},
		{`{"num":"1"}`, "invalid_type", "num"},
		{`{"name":"a"`, "malformed_json", ""},
		{`{"name" "a"}`, "malformed_json", ""},
		{`{name:"a"}`, "malformed_json", ""},
		{`{"name":"a"}]`, "malformed_json", ""},
		{`{"name":"a"}{}`, "malformed_json", ""},
		{`[]`, "invalid_type", ""},
		{`1`, "invalid_type", ""},
		{`true`, "invalid_type", ""},
		{`{"deep":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`, "malformed_json", ""},
	}
	for _, c := range cases {
		var b body
		err := httpio.DecodeBytes([]byte(c.in), &b)
		if c.code == "" {
			if err != nil {
				t.Errorf("%.60s: %v", c.in, err)
			}
			continue
		}
		_, e := httpio.StatusOf(err)
		if e.Code != c.code || e.Field != c.field {
			t.Errorf("%.60s: %v, want %s (%s)", c.in, err, c.code, c.field)
		}
	}
	var b body
	if err := httpio.DecodeBytes([]byte(`{"opt":null,"name":null}`), &b); err != nil || !b.Opt.Set || !b.Opt.Null || b.Name != "" || b.Num.Set {
		t.Fatalf("%+v %v", b, err)
	}
}

func TestDecodeLimits(t *testing.T) {
	send := func(payload, ct string, limit int64, chunked bool) error {
		r := httptest.NewRequest("POST", "/", strings.NewReader(payload))
		if chunked {
			r.ContentLength = -1
		}
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		var b body
		return httpio.Decode(httptest.NewRecorder(), r, limit, &b)
	}
	if status, _ := httpio.StatusOf(send(`{"name":"`+strings.Repeat("a", 100)+`"}`, "", 50, false)); status != http.StatusRequestEntityTooLarge {
		t.Fatalf("declared length: %d", status)
	}
	if status, _ := httpio.StatusOf(send(`{"name":"`+strings.Repeat("a", 100)+`"}`, "", 50, true)); status != http.StatusRequestEntityTooLarge {
		t.Fatalf("streamed: %d", status)
	}
	if err := send(`{"name":"a"}`, "", 50, true); err != nil {
		t.Fatal(err)
	}
	for ct, ok := range map[string]bool{
		"application/json": true, "application/json; charset=UTF-8": true, "Application/JSON": true,
		"application/problem+json": true, "text/json": false, "text/plain": false, "application/x-www-form-urlencoded": false,
		"application/json; charset=iso-8859-1": false, "garbage/": false,
	} {
		err := send(`{"name":"a"}`, ct, 0, false)
		if (err == nil) != ok {
			t.Errorf("%s: %v", ct, err)
		}
		if err != nil {
			if status, _ := httpio.StatusOf(err); status != http.StatusUnsupportedMediaType {
				t.Errorf("%s: status %d", ct, status)
			}
		}
	}
	if _, e := httpio.StatusOf(send("", "text/plain", 0, false)); e.Code != "body_required" {
		t.Fatalf("empty body: %s", e.Code)
	}
}

func TestErrorAnswer(t *testing.T) {
	rec := httptest.NewRecorder()
	httpio.Error(rec, httptest.NewRequest("GET", "/", nil), errs.Invalid("invalid_deadline", "Deadline", "bad"))
	if rec.Code != 422 || rec.Body.String() != `{"error":{"code":"invalid_deadline","message":"bad","field":"Deadline"}}` ||
		rec.Header().Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("%d %s", rec.Code, rec.Body.String())
	}
	rec = httptest.NewRecorder()
	httpio.Error(rec, httptest.NewRequest("GET", "/", nil), errors.New("secret"))
	if rec.Code != 500 || rec.Body.String() != `{"error":{"code":"internal","message":"internal server error"}}` {
		t.Fatalf("%d %s", rec.Code, rec.Body.String())
	}
}
