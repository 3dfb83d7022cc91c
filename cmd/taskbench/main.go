// Command taskbench is taskd's load benchmark. It builds taskd, starts it
// (embedded: SQLite in a temp dir; cloud: MariaDB + the local AWS
// stand-ins), signs users up, and drives the REST API over loopback with a
// bounded number of requests per scenario and concurrency; then it measures
// the bare database (the baseline) and the event path. It prints a table
// and writes every figure as JSON.
//
//	go run ./cmd/taskbench                          # both modes, defaults (~5 min)
//	go run ./cmd/taskbench --mode=embedded -n 500   # quicker
//	go run ./cmd/taskbench --help
//	go run ./cmd/taskbench compare OLD.json NEW.json   # two runs side by side
//
// docs/performance.md explains the scenarios and keeps the last figures.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	mode        string
	conc        []int
	n           int
	nCreate     int
	nUpdate     int
	nGet        int
	nList       int
	nSorted     int
	nReport     int
	nBaseline   int
	tasks       int
	users       int
	evLatency   int
	evRate      float64
	evBurst     int
	jsonPath    string
	keep        bool
	taskdBin    string
	mysqlServer string
	cloudEvents string
	scenarios   map[string]bool
	pprofAddr   string
	logLevel    string
	idleMax     time.Duration
	role        string
	seed        string
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("taskbench", flag.ContinueOnError)
	fs.StringVar(&o.mode, "mode", "both", "embedded, cloud or both")
	concs := fs.String("concurrency", "1,16,64", "comma-separated concurrencies of every scenario")
	fs.IntVar(&o.n, "n", 0, "requests per scenario and concurrency (overrides every -n-* default that is not set)")
	fs.IntVar(&o.nCreate, "n-create", 600, "create-task requests per concurrency")
	fs.IntVar(&o.nUpdate, "n-update", 600, "update-status requests per concurrency (each of the two update scenarios)")
	fs.IntVar(&o.nGet, "n-get", 2000, "get-one requests per concurrency")
	fs.IntVar(&o.nList, "n-list", 600, "filtered list requests per concurrency")
	fs.IntVar(&o.nSorted, "n-sorted", 600, "priority-sorted list requests per concurrency")
	fs.IntVar(&o.nReport, "n-report", 1000, "weekly report requests per concurrency")
	fs.IntVar(&o.nBaseline, "n-baseline", 2000, "bare INSERT and SELECT statements per concurrency")
	fs.IntVar(&o.tasks, "tasks", 10000, "tasks present for the priority-sorted list (topped up through the API)")
	fs.IntVar(&o.users, "users", 16, "users driving the load (sign-up is argon2id: about 0.1 s each)")
	fs.IntVar(&o.evLatency, "events-latency", 200, "tasks created one at a time for the event latency")
	fs.Float64Var(&o.evRate, "events-rate", 50, "creates per second of the event latency phase")
	fs.IntVar(&o.evBurst, "events-burst", 1000, "tasks created at concurrency 16 for the sustained event rate")
	fs.StringVar(&o.jsonPath, "json", "", "write the results here (default: taskbench-<time>.json in the temp dir)")
	fs.BoolVar(&o.keep, "keep", false, "keep the data dir, the MariaDB database and the logs")
	fs.StringVar(&o.taskdBin, "taskd", "", "a taskd binary to run instead of building ./cmd/taskd")
	fs.StringVar(&o.mysqlServer, "mysql", envOr("TASKD_TEST_MYSQL_DSN", "root@tcp(127.0.0.1:3306)/"), "MariaDB/MySQL server DSN of the cloud mode (a database is created in it)")
	fs.StringVar(&o.cloudEvents, "cloud-events", "auto", "event transport of the cloud mode: aws, embedded, or auto (aws when the stand-ins answer)")
	only := fs.String("only", "", "comma-separated scenarios to run (default all): "+strings.Join(allScenarios, ","))
	fs.StringVar(&o.pprofAddr, "pprof", "", "TASKD_PPROF_ADDR for the server, e.g. 127.0.0.1:6060 (profiles while it runs)")
	fs.StringVar(&o.logLevel, "log-level", "info", "TASKD_LOG_LEVEL of the server (info: an access-log line per request, as in production)")
	fs.StringVar(&o.role, "role", "all", "taskd serve --role: all (API and event consumers in one process, the default) or api (no consumers: the API's own cost; the event phase is skipped)")
	fs.StringVar(&o.seed, "seed", "sql", "how the tasks for the priority-sorted list are added: sql (rows written straight into the tasks table, no events) or api (POST /api/tasks)")
	fs.DurationVar(&o.idleMax, "idle-wait", 60*time.Second, "longest wait for the server's event consumers to catch up between scenarios")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.n > 0 {
		for name, p := range map[string]*int{"n-create": &o.nCreate, "n-update": &o.nUpdate, "n-get": &o.nGet, "n-list": &o.nList,
			"n-sorted": &o.nSorted, "n-report": &o.nReport, "n-baseline": &o.nBaseline} {
			if !set[name] {
				*p = o.n
			}
		}
	}
	for _, s := range strings.Split(*concs, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || c < 1 || c > 1024 {
			return o, fmt.Errorf("-concurrency: %q is not a number from 1 to 1024", s)
		}
		o.conc = append(o.conc, c)
	}
	switch o.mode {
	case "embedded", "cloud", "both":
	default:
		return o, fmt.Errorf("-mode must be embedded, cloud or both")
	}
	if o.role != "all" && o.role != "api" {
		return o, fmt.Errorf("-role must be all or api")
	}
	if o.seed != "sql" && o.seed != "api" {
		return o, fmt.Errorf("-seed must be sql or api")
	}
	if o.users < 3 {
		return o, fmt.Errorf("-users must be at least 3")
	}
	if *only != "" {
		o.scenarios = map[string]bool{}
		for _, s := range strings.Split(*only, ",") {
			s = strings.TrimSpace(s)
			if !contains(allScenarios, s) {
				return o, fmt.Errorf("-only: unknown scenario %q (known: %s)", s, strings.Join(allScenarios, ", "))
			}
			o.scenarios[s] = true
		}
	}
	return o, nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// Output is the JSON file.
type Output struct {
	StartedAt time.Time      `json:"started_at"`
	Machine   machineInfo    `json:"machine"`
	Options   map[string]any `json:"options"`
	Results   []Result       `json:"results"`
	Events    []EventResult  `json:"events"`
	Memory    []memoryResult `json:"memory"`
	Notes     []string       `json:"notes"`
}

type memoryResult struct {
	Mode string `json:"mode"`
	// PeakRSSMiB is the server's VmHWM at the end of the run (its peak RSS,
	// reached under the 64-concurrency scenarios).
	PeakRSSMiB float64 `json:"peak_rss_mib"`
	EndRSSMiB  float64 `json:"end_rss_mib"`
}

type machineInfo struct {
	CPUs     int     `json:"cpus"`
	CPUModel string  `json:"cpu_model"`
	MemGiB   float64 `json:"mem_gib"`
	Go       string  `json:"go"`
	Kernel   string  `json:"kernel"`
	Database string  `json:"database,omitempty"`
}

func main() {
	if len(os.Args) == 4 && os.Args[1] == "compare" {
		if err := compare(os.Stdout, os.Args[2], os.Args[3]); err != nil {
			fmt.Fprintln(os.Stderr, "taskbench:", err)
			os.Exit(1)
		}
		return
	}
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		if err == flag.ErrHelp {
			return
		}
		fmt.Fprintln(os.Stderr, "taskbench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "taskbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "taskbench-")
	if err != nil {
		return err
	}
	if !o.keep {
		defer os.RemoveAll(tmp)
	}
	bin := o.taskdBin
	if bin == "" {
		logf("building taskd")
		if bin, err = buildTaskd(ctx, root, tmp); err != nil {
			return err
		}
	}
	out := Output{StartedAt: time.Now().UTC(), Machine: readMachine(), Options: optionsMap(o)}
	modes := []string{o.mode}
	if o.mode == "both" {
		modes = []string{"embedded", "cloud"}
	}
	for _, m := range modes {
		res, ev, mem, notes, err := runMode(ctx, o, m, bin, tmp, root)
		out.Results = append(out.Results, res...)
		if ev != nil {
			out.Events = append(out.Events, *ev)
		}
		if mem != nil {
			out.Memory = append(out.Memory, *mem)
		}
		out.Notes = append(out.Notes, notes...)
		if err != nil {
			out.Notes = append(out.Notes, fmt.Sprintf("%s: stopped: %v", m, err))
			fmt.Fprintf(os.Stderr, "taskbench: %s mode: %v\n", m, err)
			if ctx.Err() != nil {
				break
			}
		}
	}
	printReport(os.Stdout, out)
	path := o.jsonPath
	if path == "" {
		path = filepath.Join(os.TempDir(), "taskbench-"+out.StartedAt.Format("20060102-150405")+".json")
	}
	b, _ := json.MarshalIndent(out, "", "  ")
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Printf("\nJSON: %s\n", path)
	return nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s taskbench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func optionsMap(o options) map[string]any {
	return map[string]any{
		"mode": o.mode, "concurrency": o.conc, "n_create": o.nCreate, "n_update": o.nUpdate, "n_get": o.nGet,
		"n_list": o.nList, "n_sorted": o.nSorted, "n_report": o.nReport, "n_baseline": o.nBaseline, "tasks": o.tasks,
		"users": o.users, "events_latency": o.evLatency, "events_rate": o.evRate, "events_burst": o.evBurst,
		"log_level": o.logLevel, "role": o.role, "seed": o.seed, "gomaxprocs": runtime.GOMAXPROCS(0),
	}
}

func readMachine() machineInfo {
	m := machineInfo{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "MemTotal:") {
				f := strings.Fields(line)
				if len(f) >= 2 {
					kb, _ := strconv.ParseFloat(f[1], 64)
					m.MemGiB = float64(int(kb/(1<<20)*10+0.5)) / 10
				}
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}
