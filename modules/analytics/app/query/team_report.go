package query

import (
	"context"
	"log/slog"
	"slices"
	"strings"

	"github.com/taskd/taskd/modules/analytics/contracts"
	"github.com/taskd/taskd/modules/analytics/domain/report"
	"github.com/taskd/taskd/modules/kernel/actor"
	"github.com/taskd/taskd/modules/kernel/decorator"
)

// TeamReport is the team's report (managers and admins), or with
// Supervisor a supervisor's view of the people whose tasks they supervise
// (anyone for themselves with "me"; managers and admins for anyone).
type TeamReport struct {
	Actor  actor.Actor
	Kind   report.PeriodKind
	Period string
	// Supervisor is "" (the whole team), me, an e-mail or a user id.
	Supervisor string
}

func (q TeamReport) LogAttrs() []slog.Attr {
	return []slog.Attr{slog.String("kind", q.Kind.String()), slog.String("period", q.Period), slog.Bool("supervisor", q.Supervisor != "")}
}

type TeamReportHandler decorator.QueryHandler[TeamReport, contracts.TeamReport]

type teamReportHandler struct {
	rm    ReportReadModel
	users UserDirectory
	cfg   Config
}

func NewTeamReportHandler(rm ReportReadModel, users UserDirectory, cfg Config, logger *slog.Logger, m decorator.Metrics) TeamReportHandler {
	return decorator.ApplyQueryDecorators[TeamReport, contracts.TeamReport](teamReportHandler{rm: rm, users: users, cfg: cfg}, logger, m)
}

func (h teamReportHandler) Handle(ctx context.Context, q TeamReport) (contracts.TeamReport, error) {
	loc, now := h.cfg.Loc, h.cfg.Clock()
	if q.Kind.IsZero() {
		q.Kind = report.Week
	}
	p, err := resolvePeriod(q.Kind, q.Period, now, loc)
	if err != nil {
		return contracts.TeamReport{}, err
	}
	var (
		sup         *contracts.UserInfo
		totalsScope = report.TeamScope
		rowPrefix   = report.UserScopePrefix
		openScope   = report.TeamScope
	)
	if q.Supervisor != "" {
		if !isMe(q.Supervisor) && !q.Actor.IsManager() {
			return contracts.TeamReport{}, ErrTeamForbidden
		}
		u, err := resolveUser(ctx, h.users, q.Actor, q.Supervisor)
		if err != nil {
			return contracts.TeamReport{}, err
		}
		sup = &u
		totalsScope = report.SupervisorScope(u.ID)
		rowPrefix = report.PairScopePrefix(u.ID)
		openScope = totalsScope
	} else if !q.Actor.IsManager() {
		return contracts.TeamReport{}, ErrTeamForbidden
	}

	prev := p.Prev()
	rows, err := h.rm.CountersByPrefix(ctx, p.Key(), rowPrefix)
	if err != nil {
		return contracts.TeamReport{}, err
	}
	prevRows, err := h.rm.CountersByPrefix(ctx, prev.Key(), rowPrefix)
	if err != nil {
		return contracts.TeamReport{}, err
	}
	cur, prv := report.CounterKey{Period: p.Key(), Scope: totalsScope}, report.CounterKey{Period: prev.Key(), Scope: totalsScope}
	totals, err := h.rm.Counters(ctx, []report.CounterKey{cur, prv})
	if err != nil {
		return contracts.TeamReport{}, err
	}
	// The open tasks, counted in the database (a team's backlog can be
	// long; a report needs its counts per person, not its tasks).
	instant, _ := report.Instant(p, now, loc)
	prevInstant, _ := report.Instant(prev, now, loc)
	open, err := h.rm.OpenSummary(ctx, openScope, instant)
	if err != nil {
		return contracts.TeamReport{}, err
	}
	prevOpen, err := h.rm.OpenSummary(ctx, openScope, prevInstant)
	if err != nil {
		return contracts.TeamReport{}, err
	}
	byPIC := func(groups []report.OpenGroup) map[string][]report.OpenGroup {
		out := map[string][]report.OpenGroup{}
		for _, g := range groups {
			out[g.PICID] = append(out[g.PICID], g)
		}
		return out
	}
	openByPIC, prevOpenByPIC := byPIC(open), byPIC(prevOpen)

	// One row per user with numbers in either period, or open tasks then.
	ids := map[string]bool{}
	for s := range rows {
		ids[s.UserID()] = true
	}
	for s := range prevRows {
		ids[s.UserID()] = true
	}
	for id := range openByPIC {
		ids[id] = true
	}
	for id := range prevOpenByPIC {
		ids[id] = true
	}
	delete(ids, "")
	idList := make([]string, 0, len(ids))
	for id := range ids {
		idList = append(idList, id)
	}
	users, err := h.users.UsersByIDs(ctx, idList)
	if err != nil {
		return contracts.TeamReport{}, err
	}
	scopeOf := func(id string) report.Scope {
		if sup != nil {
			return report.PairScope(sup.ID, id)
		}
		return report.UserScope(id)
	}
	out := contracts.TeamReport{
		Period: periodInfo(p, now, loc), Previous: periodInfo(prev, now, loc), Supervisor: sup,
		Rows: make([]contracts.TeamRow, 0, len(idList)),
	}
	for _, id := range idList {
		u, ok := users[id]
		if !ok {
			u = contracts.UserInfo{ID: id}
		}
		s := scopeOf(id)
		out.Rows = append(out.Rows, row(u, withOpenGroups(rows[s], openByPIC[id]), withOpenGroups(prevRows[s], prevOpenByPIC[id])))
	}
	slices.SortFunc(out.Rows, func(a, b contracts.TeamRow) int {
		if c := strings.Compare(strings.ToLower(a.User.Name), strings.ToLower(b.User.Name)); c != 0 {
			return c
		}
		if c := strings.Compare(a.User.Email, b.User.Email); c != 0 {
			return c
		}
		return strings.Compare(a.User.ID, b.User.ID)
	})
	out.Totals = row(contracts.UserInfo{}, withOpenGroups(totals[cur], open), withOpenGroups(totals[prv], prevOpen))
	return out, nil
}

func row(u contracts.UserInfo, cur, prev report.Counters) contracts.TeamRow {
	r := contracts.TeamRow{User: u, Counts: countsOf(cur), Previous: countsOf(prev)}
	r.Delta = deltaOf(r.Counts, r.Previous)
	return r
}
