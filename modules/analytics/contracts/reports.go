// Package contracts is what the analytics module publishes to the rest of
// taskd: the reports and the task history as DTOs (a future weekly digest
// e-mail of the notifications module reads the same report the API serves).
// It imports only the standard library.
package contracts

import "time"

// PeriodInfo describes a report period.
type PeriodInfo struct {
	// Kind is "week" or "month"; Key "2026-W09" or "2026-03".
	Kind string
	Key  string
	// Start and End (exclusive) in the report time zone.
	Start, End time.Time
	TimeZone   string
	// Current is true while the period runs: open and overdue are then
	// counted now (AsOf), not at its end.
	Current bool
	AsOf    time.Time
}

// UserInfo is a user of a report. Email and Name are empty for a user
// who no longer exists.
type UserInfo struct {
	ID    string
	Email string
	Name  string
}

// Counts are a report's numbers for one scope and period.
type Counts struct {
	Created         int64
	Assigned        int64
	Started         int64
	Completed       int64
	CompletedOnTime int64
	CompletedLate   int64
	Reopened        int64
	// Open and Overdue are taken at the end of the period (now for the
	// current one).
	Open    int64
	Overdue int64
	// CompletionRate is Completed / (Completed + Open); OnTimeRate is
	// CompletedOnTime / (CompletedOnTime + CompletedLate). Nil when the
	// denominator is 0.
	CompletionRate *float64
	OnTimeRate     *float64
	CycleTime      CycleTime
	// ByPriority holds the count metrics per priority (urgent, high,
	// medium, low), every priority present.
	ByPriority map[string]PriorityCounts
}

// PriorityCounts are the count metrics of the tasks of one priority.
type PriorityCounts struct {
	Created         int64
	Assigned        int64
	Started         int64
	Completed       int64
	CompletedOnTime int64
	CompletedLate   int64
	Reopened        int64
	Open            int64
	Overdue         int64
}

// CycleTime summarises the cycle times (first start → done) of the
// period's completions. Mean and median are nil without completions.
type CycleTime struct {
	Count       int64
	MeanHours   *float64
	MedianHours *float64
}

// Delta is a report's change from the previous period: current minus
// previous, per counter. A rate's delta is nil unless both rates exist.
type Delta struct {
	Created          int64
	Assigned         int64
	Started          int64
	Completed        int64
	CompletedOnTime  int64
	CompletedLate    int64
	Reopened         int64
	Open             int64
	Overdue          int64
	CompletionRate   *float64
	OnTimeRate       *float64
	CycleMeanHours   *float64
	CycleMedianHours *float64
}

// ReportTask is a task behind a user's numbers, with what it counted as
// ("completed", "completed_on_time", "overdue", …).
type ReportTask struct {
	ID        string
	Name      string
	Priority  string
	CountedAs []string
}

// UserReport is a user's weekly or monthly report.
type UserReport struct {
	Period   PeriodInfo
	Previous PeriodInfo
	User     UserInfo
	Counts   Counts
	// PreviousCounts are the previous period's numbers; Delta the change.
	PreviousCounts Counts
	Delta          Delta
	Tasks          []ReportTask
}

// TeamRow is one user's line of a team report (or its totals).
type TeamRow struct {
	User     UserInfo
	Counts   Counts
	Previous Counts
	Delta    Delta
}

// TeamReport is the team's (or one supervisor's people's) report: one row
// per user with numbers in the period or the previous one, and totals.
// Totals are over every task, so they also hold tasks without a PIC.
type TeamReport struct {
	Period   PeriodInfo
	Previous PeriodInfo
	// Supervisor is set for a supervisor's view: rows and totals are then
	// over the tasks they supervise.
	Supervisor *UserInfo
	Rows       []TeamRow
	Totals     TeamRow
}

// Change is one changed field of a history entry.
type Change struct {
	Field string
	Old   any
	New   any
}

// HistoryEntry is one change of a task.
type HistoryEntry struct {
	Sequence int64
	Event    string
	At       time.Time
	// ActorID is who made the change ("" for the system).
	ActorID string
	Changes []Change
}

// TaskHistory is a page of a task's changes in sequence order.
type TaskHistory struct {
	TaskID  string
	Entries []HistoryEntry
	// Deleted tells that the task no longer exists (only managers and
	// admins see its history then).
	Deleted bool
	// NextAfter, when not 0, is the sequence to continue after.
	NextAfter int64
}

// Activity is a page of events in time order (by actor or for everyone).
type Activity struct {
	Entries []ActivityEntry
	// NextCursor, when set, continues the list.
	NextCursor string
}

// ActivityEntry is one event of an Activity page.
type ActivityEntry struct {
	EventID       string
	Event         string
	At            time.Time
	ActorID       string
	AggregateType string
	AggregateID   string
	Sequence      int64
	Changes       []Change
}
