// Package query is the analytics module's read side: reports, task history
// and activity, served from the read models and the event log through the
// interfaces declared here.
package query

import (
	"context"
	"time"

	"github.com/taskd/taskd/modules/analytics/contracts"
	"github.com/taskd/taskd/modules/analytics/domain/eventlog"
	"github.com/taskd/taskd/modules/analytics/domain/report"
	"github.com/taskd/taskd/modules/kernel/errs"
)

// ReportReadModel serves the projected read models. Every method reads a
// bounded number of rows (one scope and period, one period's users, one
// scope's open tasks): a report's cost does not grow with history.
type ReportReadModel interface {
	// Counters returns the counters of keys (absent keys are left out).
	Counters(ctx context.Context, keys []report.CounterKey) (map[report.CounterKey]report.Counters, error)
	// CountersByPrefix returns the counters of every scope of period that
	// starts with scopePrefix (report.UserScopePrefix, PairScopePrefix).
	CountersByPrefix(ctx context.Context, period, scopePrefix string) (map[report.Scope]report.Counters, error)
	// OpenTasks returns the tasks open now in scope: report.TeamScope, a
	// UserScope (the tasks of that PIC) or a SupervisorScope.
	OpenTasks(ctx context.Context, scope report.Scope) ([]report.OpenTask, error)
	// OpenSummary counts the tasks open now in scope (TeamScope or a
	// SupervisorScope) that count as open, and overdue, at instant
	// (report.OpenTask.At), by PIC and priority.
	OpenSummary(ctx context.Context, scope report.Scope, instant time.Time) ([]report.OpenGroup, error)
	// Facts returns what each task contributed to a user's counters in a
	// period, by task id.
	Facts(ctx context.Context, period, userID string) (map[string]report.Fact, error)
}

// HistoryReadModel is the part of the event log the history queries read.
type HistoryReadModel interface {
	Entries(ctx context.Context, aggregateType, aggregateID string, afterSeq int64, limit int) ([]eventlog.Entry, error)
	Events(ctx context.Context, q eventlog.Query) ([]eventlog.Entry, error)
}

// UserDirectory is what the reports need from the identity module.
type UserDirectory interface {
	// ResolveUser maps an e-mail or a user id to the user; ErrUserNotFound
	// when none.
	ResolveUser(ctx context.Context, ref string) (contracts.UserInfo, error)
	// UsersByIDs returns the existing users among ids.
	UsersByIDs(ctx context.Context, ids []string) (map[string]contracts.UserInfo, error)
}

// TaskDirectory is what the history needs from the tasks module.
type TaskDirectory interface {
	// TaskExists tells whether the task exists (has not been deleted).
	TaskExists(ctx context.Context, taskID string) (bool, error)
}

// Errors of the queries.
var (
	ErrUserNotFound    = errs.NotFound("user_not_found", "no such user")
	ErrInvalidUserRef  = errs.BadRequest("invalid_user_ref", "user", "user takes me, an e-mail address or a user id")
	ErrReportForbidden = errs.Forbidden("report_forbidden", "members may read only their own reports; managers and admins anyone's")
	ErrTeamForbidden   = errs.Forbidden("report_forbidden", "the team report is for managers and admins; supervisor=me shows the people you supervise")
	ErrTaskNotFound    = errs.NotFound("task_not_found", "task not found")
	ErrInvalidLimit    = errs.BadRequest("invalid_limit", "limit", "limit must be between 1 and 1000")
	ErrInvalidRange    = errs.BadRequest("invalid_range", "", "from must be before to, at most 366 days apart")
	ErrInvalidCursor   = errs.BadRequest("invalid_cursor", "cursor", "cursor is not one this API returned")
)

// Config is what the queries need besides their ports.
type Config struct {
	// Loc is the report time zone.
	Loc   *time.Location
	Clock func() time.Time
}
