package dynamodb_test

import (
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/taskd/taskd/adapters/contracttest"
)

// The analytics benchmarks on DynamoDB Local (docs/analytics.md,
// "Performance"); they need the stand-in like the tests:
//
//	go test -run '^$' -bench . ./adapters/dynamodb/
//	TASKD_BENCH_ANALYTICS_EVENTS=100000 go test -run '^$' -bench Reports -timeout 3h ./adapters/dynamodb/
//
// DynamoDB Local runs every request through a Java process and SQLite, so
// its numbers say little about DynamoDB itself: they compare designs.

func BenchmarkAnalyticsProjection(b *testing.B) {
	contracttest.BenchmarkAnalyticsProjection(b, newEnv)
}

func BenchmarkAnalyticsProjectionParallel(b *testing.B) {
	contracttest.BenchmarkAnalyticsProjectionParallel(b, newEnv, 8)
}

// BenchmarkAnalyticsReports projects a history (10k events, or
// TASKD_BENCH_ANALYTICS_EVENTS) once, then measures report latency (p50,
// p99) and a full rebuild on it.
func BenchmarkAnalyticsReports(b *testing.B) {
	n := 10_000
	if s := os.Getenv("TASKD_BENCH_ANALYTICS_EVENTS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1 {
			b.Fatalf("TASKD_BENCH_ANALYTICS_EVENTS=%q: want a number of events", s)
		}
	}
	ab := contracttest.NewAnalyticsBench(b, newEnv(b), n, nil)
	b.Logf("%d events projected in %s (%.0f events/s, one after the other)", len(ab.Workload.Events), ab.Projected,
		float64(len(ab.Workload.Events))/ab.Projected.Seconds())
	b.Run(fmt.Sprintf("events=%d/weekly", n), ab.BenchmarkWeeklyReport)
	b.Run(fmt.Sprintf("events=%d/team", n), ab.BenchmarkTeamReport)
	b.Run(fmt.Sprintf("events=%d/rebuild", n), ab.BenchmarkRebuild)
}
