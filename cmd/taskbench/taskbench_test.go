package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/taskd/taskd/adapters/sqlite"
	"github.com/taskd/taskd/adapters/sqlstore"
)

func TestPercentiles(t *testing.T) {
	var lat []time.Duration
	for i := 1; i <= 100; i++ {
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	if p := pct(lat, 0.5); p != 50 {
		t.Errorf("p50 = %v, want 50", p)
	}
	if p := pct(lat, 0.99); p != 99 {
		t.Errorf("p99 = %v, want 99", p)
	}
	if p := pct(nil, 0.99); p != 0 {
		t.Errorf("p99 of nothing = %v", p)
	}
}

func TestFlagsNSetsEveryCountNotGiven(t *testing.T) {
	o, err := parseFlags([]string{"-n", "50", "-n-get", "7", "-concurrency", "2,4", "-only", "create,get-one"})
	if err != nil {
		t.Fatal(err)
	}
	if o.nCreate != 50 || o.nReport != 50 || o.nGet != 7 || len(o.conc) != 2 || !o.scenarios["get-one"] || o.scenarios["list-filter"] {
		t.Fatalf("%+v", o)
	}
	for _, bad := range [][]string{{"-mode", "x"}, {"-concurrency", "0"}, {"-only", "nope"}, {"-seed", "x"}} {
		if _, err := parseFlags(bad); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

func TestReadProcOfThisProcess(t *testing.T) {
	st := readProc(os.Getpid())
	if !st.Valid || st.RSS <= 0 || st.HWM < st.RSS {
		t.Fatalf("%+v", st)
	}
}

// The baseline's copy of the tasks table has the table's columns and
// indexes, and the bare statements and the seeding work on it.
func TestBaselineAndSeedOnSQLite(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := sqlstore.Migrate(ctx, db, sqlstore.SQLite); err != nil {
		t.Fatal(err)
	}
	rs, err := runBaseline(ctx, db, "sqlite", []int{1, 4}, 20)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Errors != 0 || r.Requests != 20 {
			t.Errorf("%s c=%d: %+v", r.Scenario, r.Concurrency, r)
		}
	}
	var tasks, indexes, copies int
	_ = db.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tasks'`).Scan(&indexes)
	_ = db.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'bench_tasks'`).Scan(&copies)
	if indexes == 0 || copies != indexes {
		t.Errorf("bench_tasks has %d indexes, tasks %d", copies, indexes)
	}
	users := []user{{ID: "u1"}, {ID: "u2"}, {ID: "u3"}}
	if err := seedRows(ctx, db, users, 1234); err != nil {
		t.Fatal(err)
	}
	_ = db.QueryRow(`SELECT COUNT(*) FROM tasks`).Scan(&tasks)
	if tasks != 1234 {
		t.Errorf("seeded %d tasks, want 1234", tasks)
	}
}
