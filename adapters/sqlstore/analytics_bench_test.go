package sqlstore_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/taskd/taskd/adapters/contracttest"
)

// The analytics benchmarks on SQLite (docs/analytics.md, "Performance"):
//
//	go test -run '^$' -bench Analytics ./adapters/sqlstore/
//	TASKD_BENCH_ANALYTICS_1M=1 go test -run '^$' -bench AnalyticsReports -timeout 2h ./adapters/sqlstore/
//
// The second adds the history of one million events (projected through the
// application first, which takes minutes).

func sqliteAnalyticsEnv(t testing.TB) contracttest.AnalyticsEnv { return analyticsEnv(openSQLite(t)) }

func BenchmarkAnalyticsProjectionSQLite(b *testing.B) {
	contracttest.BenchmarkAnalyticsProjection(b, sqliteAnalyticsEnv)
}

func BenchmarkAnalyticsProjectionParallelSQLite(b *testing.B) {
	contracttest.BenchmarkAnalyticsProjectionParallel(b, sqliteAnalyticsEnv, 4)
}

// benchSizes are the history sizes of the report benchmarks.
func benchSizes() []int {
	if os.Getenv("TASKD_BENCH_ANALYTICS_1M") == "1" {
		return []int{10_000, 1_000_000}
	}
	return []int{10_000}
}

// BenchmarkAnalyticsReportsSQLite projects each history once, then
// measures report latency (p50, p99) and a full rebuild on it.
func BenchmarkAnalyticsReportsSQLite(b *testing.B) {
	for _, n := range benchSizes() {
		ab := contracttest.NewAnalyticsBench(b, sqliteAnalyticsEnv(b), n, func(done, total int) {
			if done%100_000 == 0 {
				b.Logf("projected %d of %d events", done, total)
			}
		})
		b.Logf("%d events projected in %s (%.0f events/s)", len(ab.Workload.Events), ab.Projected, float64(len(ab.Workload.Events))/ab.Projected.Seconds())
		b.Run(fmt.Sprintf("events=%d/weekly", n), ab.BenchmarkWeeklyReport)
		b.Run(fmt.Sprintf("events=%d/team", n), ab.BenchmarkTeamReport)
		b.Run(fmt.Sprintf("events=%d/rebuild", n), ab.BenchmarkRebuild)
	}
}
