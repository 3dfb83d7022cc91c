package main

// Helpers of the component tests (e2e_*_test.go): they run the whole
// binary's fx graph with run(…), as main does, on a free port on 127.0.0.1,
// with real adapters — SQLite in a temp dir, or MariaDB/MySQL in a database
// created for the test and dropped afterwards — and drive it over HTTP.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/taskd/taskd/adapters/eventtest"
	"github.com/taskd/taskd/adapters/mysql"
	"github.com/taskd/taskd/adapters/sqlite"
	"github.com/taskd/taskd/adapters/sqlstore"
)

// e2eSecret is the JWT secret of the MySQL runs (required there).
const e2eSecret = "e2e-jwt-secret-0123456789abcdefghijklmnop"

// e2eBackend is where a test's taskd keeps its data.
type e2eBackend struct {
	name string
	// env is the storage part of the environment (TASKD_DATA_DIR or TASKD_MYSQL_DSN…).
	env map[string]string
	// open opens the same database for the test's own reads (the outbox).
	open func(t testing.TB) *sqlstore.DB
}

// e2eSQLite is embedded mode in a fresh temp data dir.
func e2eSQLite(t testing.TB) e2eBackend {
	dir := t.TempDir()
	return e2eBackend{
		name: "sqlite",
		env:  map[string]string{"TASKD_DATA_DIR": dir},
		open: func(t testing.TB) *sqlstore.DB {
			db, err := sqlite.OpenInDir(context.Background(), dir)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return sqlstore.New(db, sqlstore.SQLite)
		},
	}
}

// e2eMySQL is cloud storage in a database of its own, dropped when the
// test ends. The database is empty: run `taskd migrate` (or set
// TASKD_AUTO_MIGRATE=true) before serving.
func e2eMySQL(t testing.TB) e2eBackend {
	t.Helper()
	eventtest.RequireMySQL(t)
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	name := fmt.Sprintf("taskd_e2e_%d_%s", os.Getpid(), hex.EncodeToString(b))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := mysql.CreateDatabase(ctx, eventtest.MySQLServerDSN(), name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := mysql.DropDatabase(ctx, eventtest.MySQLServerDSN(), name); err != nil {
			t.Errorf("dropping %s: %v", name, err)
		}
	})
	dsn, err := mysql.WithDatabase(eventtest.MySQLServerDSN(), name)
	if err != nil {
		t.Fatal(err)
	}
	return e2eBackend{
		name: "mysql",
		env:  map[string]string{"TASKD_MYSQL_DSN": dsn, "TASKD_JWT_SECRET": e2eSecret},
		open: func(t testing.TB) *sqlstore.DB {
			db, err := mysql.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return sqlstore.New(db, sqlstore.MySQL)
		},
	}
}

// e2eEnv is an envSource over a map.
func e2eEnv(m map[string]string) envSource {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func e2eMerge(maps ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// e2eLogBuffer collects a taskd's log lines.
type e2eLogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *e2eLogBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *e2eLogBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// e2eRun runs a taskd subcommand (migrate, users …) to completion.
func e2eRun(t testing.TB, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out, logs e2eLogBuffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := run(ctx, args, &out, &logs, e2eEnv(env))
	if err != nil {
		t.Logf("taskd %s: %v\n%s", strings.Join(args, " "), err, logs.String())
	}
	return out.String(), err
}

// e2eServer is a running `taskd serve`.
type e2eServer struct {
	base   string
	client *http.Client
	logs   *e2eLogBuffer
}

// e2eListening finds the address taskd logged it listens on.
var e2eListening = regexp.MustCompile(`"msg":"listening"[^\n]*"addr":"([^"]+)"`)

// e2eStart runs `taskd serve` with env until the test ends, listening on a
// port of the kernel's choice on 127.0.0.1 (TASKD_ADDR=127.0.0.1:0: no race
// for a free port with parallel tests); it returns once /healthz answers.
func e2eStart(t testing.TB, env map[string]string) *e2eServer {
	t.Helper()
	env = e2eMerge(env, map[string]string{"TASKD_ADDR": "127.0.0.1:0", "TASKD_LOG_FORMAT": "json"})
	if lvl := env["TASKD_LOG_LEVEL"]; lvl != "debug" {
		env["TASKD_LOG_LEVEL"] = "info" // the "listening" line
	}
	logs := &e2eLogBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, io.Discard, logs, e2eEnv(env)) }()
	stop := func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(40 * time.Second):
			return errors.New("taskd serve did not stop within 40 s of its context ending")
		}
	}

	s := &e2eServer{logs: logs, client: &http.Client{Timeout: 30 * time.Second}}
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-done:
			cancel()
			t.Fatalf("taskd serve stopped before it answered: %v\n%s", err, logs.String())
		default:
		}
		if s.base == "" {
			if m := e2eListening.FindStringSubmatch(logs.String()); m != nil {
				s.base = "http://" + m[1]
			}
		}
		if s.base != "" {
			if resp, err := s.client.Get(s.base + "/healthz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
		}
		if time.Now().After(deadline) {
			err := stop()
			t.Fatalf("taskd did not answer /healthz within 30 s (%v)\n%s", err, logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("taskd serve: %v", err)
		}
		s.client.CloseIdleConnections()
		if t.Failed() {
			t.Logf("taskd log:\n%s", logs.String())
		}
	})
	return s
}

// e2eReply is an HTTP answer.
type e2eReply struct {
	status int
	header http.Header
	body   []byte
}

// obj decodes the answer as a JSON object.
func (r e2eReply) obj(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("answer is not a JSON object (%v): %d %s", err, r.status, r.body)
	}
	return m
}

func (r e2eReply) str(t testing.TB, key string) string {
	t.Helper()
	s, ok := r.obj(t)[key].(string)
	if !ok {
		t.Fatalf("answer has no string %q: %s", key, r.body)
	}
	return s
}

// errorCode is the code of an error answer.
func (r e2eReply) errorCode(t testing.TB) string {
	t.Helper()
	e, _ := r.obj(t)["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

// send makes one request; body is JSON-encoded unless it is a string.
func (s *e2eServer) send(t testing.TB, method, path, token string, body any, header ...string) e2eReply {
	t.Helper()
	r, err := s.trySend(method, path, token, body, header...)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

func (s *e2eServer) trySend(method, path, token string, body any, header ...string) (e2eReply, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return e2eReply{}, err
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, s.base+path, rd)
	if err != nil {
		return e2eReply{}, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return e2eReply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return e2eReply{}, err
	}
	return e2eReply{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// expect makes a request and fails the test unless the status is want.
func (s *e2eServer) expect(t testing.TB, want int, method, path, token string, body any, header ...string) e2eReply {
	t.Helper()
	r := s.send(t, method, path, token, body, header...)
	if r.status != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, r.status, r.body, want)
	}
	return r
}

// e2eExactly fails unless the answer's object has e2eExactly these keys, with
// the string values given ("" = any value).
func e2eExactly(t testing.TB, r e2eReply, want map[string]string) map[string]any {
	t.Helper()
	got := r.obj(t)
	if len(got) != len(want) {
		t.Errorf("answer %s: want e2eExactly the keys %v", r.body, e2eKeys(want))
	}
	for k, v := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("answer %s lacks %q", r.body, k)
			continue
		}
		if v != "" && g != v {
			t.Errorf("answer %s: %s = %v, want %q", r.body, k, g, v)
		}
	}
	return got
}

func e2eKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
