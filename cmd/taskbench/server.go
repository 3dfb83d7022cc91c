package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// buildTaskd builds ./cmd/taskd into dir and returns the binary's path.
func buildTaskd(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "taskd")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/taskd")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building taskd: %w", err)
	}
	return bin, nil
}

// moduleRoot is the directory of go.mod (taskbench runs from the repository).
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run taskbench inside the taskd repository (no go.mod found)")
	}
	return filepath.Dir(mod), nil
}

// server is a running `taskd serve`, a child process of taskbench.
type server struct {
	cmd     *exec.Cmd
	base    string
	logPath string
	exited  chan error
}

var listeningRE = regexp.MustCompile(`"msg":"listening"[^\n]*"addr":"([^"]+)"`)

// startServer runs bin serve with env (on top of a cleaned process
// environment) and waits until it answers /healthz. Its logs go to logPath.
func startServer(ctx context.Context, bin, role string, env map[string]string, logPath string) (*server, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", "--role="+role)
	cmd.Env = processEnv(env)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		logFile.Close()
		return nil, err
	}
	cmd.Stdout = logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting taskd: %w", err)
	}
	s := &server{cmd: cmd, logPath: logPath, exited: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		// Copy the log, watching for the listening line.
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		found := false
		for sc.Scan() {
			line := sc.Bytes()
			logFile.Write(line)
			logFile.Write([]byte{'\n'})
			if !found {
				if m := listeningRE.FindSubmatch(line); m != nil {
					found = true
					addr <- string(m[1])
				}
			}
		}
		io.Copy(logFile, stderr)
		logFile.Close()
	}()
	go func() { s.exited <- cmd.Wait() }()
	deadline := time.NewTimer(90 * time.Second)
	defer deadline.Stop()
	select {
	case a := <-addr:
		s.base = "http://" + a
	case err := <-s.exited:
		s.exited <- err
		return nil, fmt.Errorf("taskd exited before listening (%v); log: %s\n%s", err, logPath, tail(logPath, 20))
	case <-deadline.C:
		s.stop()
		return nil, fmt.Errorf("taskd did not listen within 90 s; log: %s\n%s", logPath, tail(logPath, 20))
	case <-ctx.Done():
		s.stop()
		return nil, ctx.Err()
	}
	for i := 0; ; i++ {
		resp, err := http.Get(s.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s, nil
			}
		}
		if i > 200 {
			s.stop()
			return nil, fmt.Errorf("taskd /healthz does not answer 200: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// processEnv is this process's environment without any TASKD_ variable,
// plus env.
func processEnv(env map[string]string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "TASKD_") {
			continue
		}
		out = append(out, kv)
	}
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// stop sends SIGTERM and waits (then SIGKILL) — only to the child it started.
func (s *server) stop() error {
	if s.cmd.Process == nil {
		return nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.exited:
		s.exited <- err
		return nil
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		return errors.New("taskd did not stop within 30 s: killed")
	}
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// procStats is what /proc says about a process.
type procStats struct {
	CPU   time.Duration // user + system
	RSS   int64         // bytes (VmRSS)
	HWM   int64         // bytes (VmHWM, the peak RSS so far)
	Valid bool
}

// clockTicks is USER_HZ, 100 on every Linux architecture Go runs taskd on.
const clockTicks = 100

func readProc(pid int) procStats {
	var st procStats
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return st
	}
	// The command name may hold spaces: fields start after the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return st
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); utime is field 14, stime field 15.
	if len(f) < 13 {
		return st
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	stt, _ := strconv.ParseInt(f[12], 10, 64)
	st.CPU = time.Duration(ut+stt) * time.Second / clockTicks
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			fs := strings.Fields(v)
			if len(fs) == 0 {
				continue
			}
			n, _ := strconv.ParseInt(fs[0], 10, 64)
			switch k {
			case "VmRSS":
				st.RSS = n << 10
			case "VmHWM":
				st.HWM = n << 10
			}
		}
	}
	st.Valid = true
	return st
}

// waitIdle waits until the process used under 5 % of one core over a
// 300 ms window (its event consumers have caught up), at most max. It
// returns how long it waited.
func waitIdle(pid int, max time.Duration) time.Duration {
	start := time.Now()
	const window = 300 * time.Millisecond
	prev := readProc(pid)
	for time.Since(start) < max {
		time.Sleep(window)
		cur := readProc(pid)
		if !cur.Valid {
			break
		}
		if cur.CPU-prev.CPU <= window/20 {
			break
		}
		prev = cur
	}
	return time.Since(start)
}

// dbPID is the database server's process (mariadbd or mysqld) on this
// machine, when the cloud mode runs; 0 otherwise.
var dbPID int

// findProcess returns the pid of the first process whose command name is
// one of names, or 0.
func findProcess(names ...string) int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err != nil {
			continue
		}
		comm := strings.TrimSpace(string(b))
		for _, n := range names {
			if comm == n {
				return pid
			}
		}
	}
	return 0
}
