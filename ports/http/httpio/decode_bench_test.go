package httpio_test

import (
	"bytes"
	"net/http/httptest"
	"testing"

	"github.com/taskd/taskd/ports/http/httpio"
)

// The request decoder on the bodies of the hottest routes (go test -bench
// . -benchmem ./ports/http/httpio; docs/performance.md).

type benchCreate struct {
	Name       string `json:"Task_name"`
	Contents   string `json:"Task_contents"`
	Status     string `json:"Task_status"`
	Priority   string `json:"Task_priority"`
	Deadline   string `json:"Deadline"`
	PIC        string `json:"PIC"`
	Supervisor string `json:"Supervisor"`
}

type benchUpdate struct {
	Name     httpio.Optional[string] `json:"Task_name"`
	Contents httpio.Optional[string] `json:"Task_contents"`
	Status   httpio.Optional[string] `json:"Task_status"`
	Deadline httpio.Optional[string] `json:"Deadline"`
	PIC      httpio.Optional[string] `json:"PIC"`
}

var (
	createBody = []byte(`{"Task_name":"Write the Q4 report","Task_contents":"numbers + summary","Task_status":"대기 중",` +
		`"Task_priority":"high","Deadline":"2026-12-01","PIC":"bob@example.com","Supervisor":"alice@example.com"}`)
	statusBody = []byte(`{"Task_status":"in_progress"}`)
	updateBody = []byte(`{"Task_contents":"more","Deadline":null,"PIC":"bob@example.com"}`)
)

func BenchmarkDecodeBytesCreateTask(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(createBody)))
	for b.Loop() {
		var req benchCreate
		if err := httpio.DecodeBytes(createBody, &req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeBytesStatus(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var req benchUpdate
		if err := httpio.DecodeBytes(statusBody, &req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeBytesPartialUpdate(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var req benchUpdate
		if err := httpio.DecodeBytes(updateBody, &req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeRequest adds what Decode does around DecodeBytes: the
// Content-Type check and the bounded read of the body.
func BenchmarkDecodeRequest(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest("POST", "/api/tasks", bytes.NewReader(createBody))
		r.Header.Set("Content-Type", "application/json")
		var req benchCreate
		if err := httpio.Decode(httptest.NewRecorder(), r, 0, &req); err != nil {
			b.Fatal(err)
		}
	}
}
