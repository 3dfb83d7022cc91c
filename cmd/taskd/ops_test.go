package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/taskd/taskd/adapters/prometheus"
)

func TestReadyzReportsEachCheckAndDraining(t *testing.T) {
	ok := readinessCheck{Name: "database", Check: func(context.Context) error { return nil }}
	down := readinessCheck{Name: "sqs", Check: func(context.Context) error { return errors.New("connection refused") }}
	m := prometheus.New()

	get := func(h http.Handler, path string) (*httptest.ResponseRecorder, readinessBody) {
		t.Helper()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		var b readinessBody
		if path == "/readyz" {
			if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil {
				t.Fatalf("readyz body %q: %v", rec.Body.String(), err)
			}
		}
		return rec, b
	}

	d := &draining{}
	rec, body := get(opsHandler(nil, m, []readinessCheck{ok}, d), "/readyz")
	if rec.Code != http.StatusOK || body.Status != "ready" || body.Checks["database"] != "ok" {
		t.Fatalf("all up: %d %+v", rec.Code, body)
	}
	rec, body = get(opsHandler(nil, m, []readinessCheck{ok, down}, d), "/readyz")
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(body.Checks["sqs"], "connection refused") || body.Checks["database"] != "ok" {
		t.Fatalf("one down: %d %+v", rec.Code, body)
	}
	d.Store(true)
	rec, body = get(opsHandler(nil, m, []readinessCheck{ok}, d), "/readyz")
	if rec.Code != http.StatusServiceUnavailable || body.Status != "draining" {
		t.Fatalf("draining: %d %+v", rec.Code, body)
	}
	// A worker answers health and metrics, and nothing of the API.
	if rec, _ := get(opsHandler(nil, m, nil, d), "/healthz"); rec.Code != http.StatusOK {
		t.Fatalf("worker /healthz: %d", rec.Code)
	}
	if rec, _ := get(opsHandler(nil, m, nil, d), "/metrics"); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "go_goroutines") {
		t.Fatalf("worker /metrics: %d", rec.Code)
	}
	if rec, _ := get(opsHandler(nil, m, nil, d), "/api/tasks"); rec.Code != http.StatusNotFound {
		t.Fatalf("worker /api/tasks: %d", rec.Code)
	}
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	if rec, _ := get(opsHandler(api, m, nil, d), "/api/tasks"); rec.Code != http.StatusTeapot {
		t.Fatalf("api role does not reach the API: %d", rec.Code)
	}
}
