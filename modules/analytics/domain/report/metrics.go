package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Metric names: stable, they are storage keys (column values in SQL,
// attribute names in DynamoDB).
const (
	// Created counts tasks created (in a user scope: by the user).
	Created = "created"
	// Assigned counts tasks given to a PIC (at creation or later).
	Assigned = "assigned"
	// Started counts tasks leaving waiting for the first time (the start of
	// their cycle time).
	Started = "started"
	// Completed counts moves to done (a reopened task completed again
	// counts again).
	Completed = "completed"
	// CompletedOnTime and CompletedLate split the completions of tasks that
	// had a deadline at completion: at or before it, or after it.
	CompletedOnTime = "completed_on_time"
	CompletedLate   = "completed_late"
	// Reopened counts moves from done back to in progress.
	Reopened = "reopened"
	// Open is the number of tasks open (waiting or in progress) at the end
	// of the period; Overdue those of them past their deadline.
	Open    = "open"
	Overdue = "overdue"
	// CycleSecondsSum and CycleCount sum the cycle times (first start →
	// done) of the completions; CycleHistogramPrefix + bucket counts them
	// by duration, for the median.
	CycleSecondsSum      = "cycle_seconds_sum"
	CycleCount           = "cycle_count"
	CycleHistogramPrefix = "cycle_hist."
)

// CountMetrics are the metrics that count tasks; each also has a twin per
// priority (ByPriority).
var CountMetrics = []string{Created, Assigned, Started, Completed, CompletedOnTime, CompletedLate, Reopened, Open, Overdue}

// Priorities of the tasks module, most urgent first.
var Priorities = []string{"urgent", "high", "medium", "low"}

// ByPriority names the twin of a count metric for one priority:
// "completed.high".
func ByPriority(metric, priority string) string { return metric + "." + priority }

// Counters are metric values of one scope and period.
type Counters map[string]int64

// Add adds n to metric (nothing for 0).
func (c Counters) Add(metric string, n int64) {
	if n != 0 {
		c[metric] += n
	}
}

// Merge adds every value of o.
func (c Counters) Merge(o Counters) {
	for k, v := range o {
		c.Add(k, v)
	}
}

// Get returns metric's value (0 when absent).
func (c Counters) Get(metric string) int64 { return c[metric] }

// Clone returns a copy.
func (c Counters) Clone() Counters {
	out := make(Counters, len(c))
	for k, v := range c {
		out[k] = v
	}
	return out
}

// The cycle-time histogram: bucket i holds durations in
// [1 min · 2^(i/8), 1 min · 2^((i+1)/8)); bucket 0 also everything shorter,
// the last everything longer (2^20 min ≈ 2 years). With eight buckets per
// doubling a bucket spans 9%, which bounds the median's error (within its
// bucket, interpolated).
const (
	HistogramBuckets   = 160
	bucketsPerDoubling = 8
	histogramBase      = 60.0 // seconds
)

// HistogramBucket returns the bucket of a duration.
func HistogramBucket(d time.Duration) int {
	s := d.Seconds()
	if s < histogramBase {
		return 0
	}
	i := int(math.Floor(bucketsPerDoubling * math.Log2(s/histogramBase)))
	return min(max(i, 0), HistogramBuckets-1)
}

// HistogramMetric names bucket i: "cycle_hist.007".
func HistogramMetric(i int) string { return fmt.Sprintf("%s%03d", CycleHistogramPrefix, i) }

func bucketBounds(i int) (lo, hi float64) {
	lo = histogramBase * math.Pow(2, float64(i)/bucketsPerDoubling)
	hi = histogramBase * math.Pow(2, float64(i+1)/bucketsPerDoubling)
	if i == 0 {
		lo = 0
	}
	return lo, hi
}

// Histogram returns the bucket counts of c.
func (c Counters) Histogram() []int64 {
	out := make([]int64, HistogramBuckets)
	for k, v := range c {
		if rest, ok := strings.CutPrefix(k, CycleHistogramPrefix); ok {
			if i, err := strconv.Atoi(rest); err == nil && i >= 0 && i < HistogramBuckets {
				out[i] += v
			}
		}
	}
	return out
}

// CycleTime is the mean and the median of the cycle times counted in c,
// in hours; ok is false when c counts none.
type CycleTime struct {
	Count        int64
	MeanHours    float64
	MedianHours  float64
	TotalSeconds int64
}

// CycleTime computes the mean (exact: sum / count) and the median
// (estimated from the histogram, interpolated within its bucket).
func (c Counters) CycleTime() CycleTime {
	n := c.Get(CycleCount)
	if n <= 0 {
		return CycleTime{}
	}
	ct := CycleTime{Count: n, TotalSeconds: c.Get(CycleSecondsSum)}
	ct.MeanHours = float64(ct.TotalSeconds) / float64(n) / 3600
	ct.MedianHours = MedianSeconds(c.Histogram()) / 3600
	return ct
}

// MedianSeconds estimates the median of the durations a histogram counts.
func MedianSeconds(hist []int64) float64 {
	var total int64
	for _, v := range hist {
		total += v
	}
	if total <= 0 {
		return 0
	}
	half := float64(total) / 2
	var cum float64
	for i, v := range hist {
		if v <= 0 {
			continue
		}
		if cum+float64(v) >= half {
			f := (half - cum) / float64(v)
			lo, hi := bucketBounds(i)
			if lo == 0 {
				return hi * f
			}
			return lo * math.Pow(hi/lo, f) // geometric: buckets grow geometrically
		}
		cum += float64(v)
	}
	return 0
}
