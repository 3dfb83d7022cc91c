package httpport

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	analyticsapp "github.com/taskd/taskd/modules/analytics/app"
	analyticsquery "github.com/taskd/taskd/modules/analytics/app/query"
	"github.com/taskd/taskd/modules/analytics/contracts"
	"github.com/taskd/taskd/modules/analytics/domain/report"
	"github.com/taskd/taskd/modules/kernel/errs"
	"github.com/taskd/taskd/ports/http/auth"
	"github.com/taskd/taskd/ports/http/httpio"
)

// Messages of the report routes.
const (
	MsgWeeklyReport  = "주간 보고서 조회"
	MsgMonthlyReport = "월간 보고서 조회"
	MsgTeamReport    = "팀 보고서 조회"
	MsgActivity      = "활동 조회"
)

var (
	errInvalidFormat = errs.BadRequest("invalid_format", "format", "format must be json or csv")
	errInvalidTime   = errs.BadRequest("invalid_time", "", "a time must be RFC 3339 (2026-03-02T09:00:00Z) or YYYY-MM-DD")
)

// ReportRoutesDeps are what the report routes need.
type ReportRoutesDeps struct {
	App  analyticsapp.Application
	Auth *auth.Authenticator
}

// ReportRoutes serves the analytics module's reports and activity:
//
//	GET /api/reports/weekly?week=YYYY-Www&user=me|email|id
//	GET /api/reports/monthly?month=YYYY-MM&user=…
//	GET /api/reports/team?week=…|month=…&supervisor=me|email|id
//	GET /api/reports/activity?user=…&from=…&to=…&limit=…&cursor=…
//
// A missing period is the current one. Reports answer JSON, or CSV with
// format=csv or an Accept header that prefers text/csv.
type ReportRoutes struct {
	app  analyticsapp.Application
	auth *auth.Authenticator
}

// NewReportRoutes checks d and builds the routes.
func NewReportRoutes(d ReportRoutesDeps) (*ReportRoutes, error) {
	q := d.App.Queries
	if d.Auth == nil || q.UserReport == nil || q.TeamReport == nil || q.Activity == nil {
		return nil, errors.New("httpport: report routes need Auth and the UserReport, TeamReport and Activity queries")
	}
	return &ReportRoutes{app: d.App, auth: d.Auth}, nil
}

// RegisterRoutes implements RouteRegistrar; every report needs a signed-in user.
func (h *ReportRoutes) RegisterRoutes(r *mux.Router) {
	authed := func(f http.HandlerFunc) http.Handler { return h.auth.Require(f) }
	r.Handle("/api/reports/weekly", authed(h.weekly)).Methods(http.MethodGet)
	r.Handle("/api/reports/monthly", authed(h.monthly)).Methods(http.MethodGet)
	r.Handle("/api/reports/team", authed(h.team)).Methods(http.MethodGet)
	r.Handle("/api/reports/activity", authed(h.activity)).Methods(http.MethodGet)
}

func (h *ReportRoutes) weekly(w http.ResponseWriter, r *http.Request) {
	h.userReport(w, r, report.Week, "week", MsgWeeklyReport)
}

func (h *ReportRoutes) monthly(w http.ResponseWriter, r *http.Request) {
	h.userReport(w, r, report.Month, "month", MsgMonthlyReport)
}

func (h *ReportRoutes) userReport(w http.ResponseWriter, r *http.Request, kind report.PeriodKind, param, msg string) {
	act, ok := actorFrom(w, r)
	if !ok {
		return
	}
	params, err := queryParams(r, param, "user", "format")
	if err != nil {
		httpio.Error(w, r, err)
		return
	}
	csvOut, err := wantsCSV(r, params.Get("format"))
	if err != nil {
		httpio.Error(w, r, err)
		return
	}
	rep, err := h.app.Queries.UserReport.Handle(r.Context(), analyticsquery.UserReport{
		Actor: act, Kind: kind, Period: strings.TrimSpace(params.Get(param)), User: strings.TrimSpace(params.Get("user")),
	})
	if err != nil {
		httpio.Error(w, r, err)
		return
	}
	if csvOut {
		writeCSV(w, r, fmt.Sprintf("%s-%s-%s.csv", kind, rep.Period.Key, rep.User.ID), userReportCSV(rep))
		return
	}
	httpio.JSON(w, r, http.StatusOK, newUserReportJSON(msg, rep))
}

func (h *ReportRoutes) team(w http.ResponseWriter, r *http.Request) {
	act, ok := actorFrom(w, r)
	if !ok {
		return
	}
	params, err := queryParams(r, "week", "month", "supervisor", "format")
	if err != nil {
		httpio.Error(w, r, err)
		return
	}
	csvOut, err := wantsCSV(r, params.Get("format"))
	if err != nil {
		httpio.Error(w, r, err)
		return
	}
	q := analyticsquery.TeamReport{Actor: act, Kind: report.Week, Period: strings.TrimSpace(params.Get("week")),
		Supervisor: strings.TrimSpace(params.Get("supervisor"))}
	if m := strings.TrimSpace(params.Get("month")); m != "" {
		if q.Period != "" {
			httpio.Error(w, r, report.ErrAmbiguousPeriod)
			return
		}
		q.Kind, q.Period = report.Month, m
	}
	rep, err := h.app.Queries.TeamReport.Handle(r.Context(), q)
	if err != nil {
		httpio.Error(w, r, err)
		return
	}
	if csvOut {
		writeCSV(w, r, fmt.Sprintf("team-%s.csv", rep.Period.Key), teamReportCSV(rep))
		return
	}
	httpio.JSON(w, r, http.StatusOK, newTeamReportJSON(rep))
}

func (h *ReportRoutes) activity(w http.ResponseWriter, r *http.Request) {
	act, ok := actorFrom(w, r)
	if !ok {
		return
	}
	params, err := queryParams(r, "user", "from", "to", "limit", "cursor")
	if err != nil {
		httpio.Error(w, r, err)
		return
	}
	q := analyticsquery.Activity{Actor: act, User: strings.TrimSpace(params.Get("user")), Cursor: params.Get("cursor")}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		if s := strings.TrimSpace(params.Get(p.name)); s != "" {
			if *p.dst, err = parseTimeParam(s); err != nil {
				httpio.Error(w, r, errInvalidTime.WithField(p.name))
				return
			}
		}
	}
	if s := params.Get("limit"); s != "" {
		if q.Limit, err = strconv.Atoi(s); err != nil || q.Limit < 1 {
			httpio.Error(w, r, analyticsquery.ErrInvalidLimit)
			return
		}
	}
	page, err := h.app.Queries.Activity.Handle(r.Context(), q)
	if err != nil {
		httpio.Error(w, r, err)
		return
	}
	out := activityJSON{Message: MsgActivity, Events: make([]activityEntryJSON, 0, len(page.Entries)), NextCursor: nilIfEmpty(page.NextCursor)}
	for _, e := range page.Entries {
		out.Events = append(out.Events, activityEntryJSON{
			EventID: e.EventID, Event: e.Event, At: formatTime(e.At), ActorID: nilIfEmpty(e.ActorID),
			AggregateType: e.AggregateType, AggregateID: e.AggregateID, Sequence: e.Sequence, Changes: changesJSON(e.Changes),
			Link: aggregateLink(e.AggregateType, e.AggregateID),
		})
	}
	httpio.JSON(w, r, http.StatusOK, out)
}

// parseTimeParam reads RFC 3339 or a date (the start of that day, UTC).
func parseTimeParam(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil && t.Year() >= 1970 && t.Year() <= 9999 {
		return t.UTC(), nil
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil || d.Year() < 1970 {
		return time.Time{}, errInvalidTime
	}
	return d, nil
}

// wantsCSV decides the answer's format: format=csv|json wins; otherwise an
// Accept header that ranks text/csv above application/json.
func wantsCSV(r *http.Request, format string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(format)) {
	case "csv":
		return true, nil
	case "json":
		return false, nil
	case "":
	default:
		return false, errInvalidFormat
	}
	var csvQ, jsonQ float64 = -1, -1
	for _, part := range strings.Split(strings.Join(r.Header.Values("Accept"), ","), ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if s, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(s, 64); err == nil {
				q = f
			}
		}
		switch mt {
		case "text/csv":
			csvQ = max(csvQ, q)
		case "application/json", "application/*", "*/*":
			jsonQ = max(jsonQ, q)
		}
	}
	return csvQ > 0 && csvQ >= jsonQ, nil
}

// writeCSV answers rows as text/csv.
func writeCSV(w http.ResponseWriter, r *http.Request, filename string, rows [][]string) {
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	if err := cw.WriteAll(rows); err != nil {
		httpio.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": filename}))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

// csvText keeps a spreadsheet from reading a text cell as a formula.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// ---------------------------------------------------------------- JSON

type periodJSON struct {
	Type     string `json:"type"`
	Week     string `json:"week,omitempty"`
	Month    string `json:"month,omitempty"`
	Start    string `json:"start"`
	End      string `json:"end"`
	TimeZone string `json:"time_zone"`
	Current  bool   `json:"current"`
	AsOf     string `json:"as_of"`
}

func newPeriodJSON(p contracts.PeriodInfo) periodJSON {
	out := periodJSON{Type: p.Kind, Start: p.Start.Format(time.RFC3339), End: p.End.Format(time.RFC3339),
		TimeZone: p.TimeZone, Current: p.Current, AsOf: formatTime(p.AsOf)}
	if p.Kind == report.Month.String() {
		out.Month = p.Key
	} else {
		out.Week = p.Key
	}
	return out
}

type reportUserJSON struct {
	ID    string  `json:"id"`
	Email *string `json:"email"`
	Name  *string `json:"name"`
}

func newReportUserJSON(u contracts.UserInfo) reportUserJSON {
	return reportUserJSON{ID: u.ID, Email: nilIfEmpty(u.Email), Name: nilIfEmpty(u.Name)}
}

type cycleTimeJSON struct {
	Count  int64    `json:"count"`
	Mean   *float64 `json:"mean"`
	Median *float64 `json:"median"`
}

type priorityCountsJSON struct {
	Created         int64 `json:"created"`
	Assigned        int64 `json:"assigned"`
	Started         int64 `json:"started"`
	Completed       int64 `json:"completed"`
	CompletedOnTime int64 `json:"completed_on_time"`
	CompletedLate   int64 `json:"completed_late"`
	Reopened        int64 `json:"reopened"`
	Open            int64 `json:"open"`
	Overdue         int64 `json:"overdue"`
}

// countsJSON is a report's numbers; embedded, its fields sit at the top
// level of a report, a team row and the totals.
type countsJSON struct {
	Created         int64                         `json:"created"`
	Assigned        int64                         `json:"assigned"`
	Started         int64                         `json:"started"`
	Completed       int64                         `json:"completed"`
	CompletedOnTime int64                         `json:"completed_on_time"`
	CompletedLate   int64                         `json:"completed_late"`
	Reopened        int64                         `json:"reopened"`
	Open            int64                         `json:"open"`
	Overdue         int64                         `json:"overdue"`
	CompletionRate  *float64                      `json:"completion_rate"`
	OnTimeRate      *float64                      `json:"on_time_rate"`
	CycleTimeHours  cycleTimeJSON                 `json:"cycle_time_hours"`
	ByPriority      map[string]priorityCountsJSON `json:"by_priority"`
}

func newCountsJSON(c contracts.Counts) countsJSON {
	out := countsJSON{
		Created: c.Created, Assigned: c.Assigned, Started: c.Started, Completed: c.Completed,
		CompletedOnTime: c.CompletedOnTime, CompletedLate: c.CompletedLate, Reopened: c.Reopened,
		Open: c.Open, Overdue: c.Overdue,
		CompletionRate: round(c.CompletionRate, 4), OnTimeRate: round(c.OnTimeRate, 4),
		CycleTimeHours: cycleTimeJSON{Count: c.CycleTime.Count, Mean: round(c.CycleTime.MeanHours, 2), Median: round(c.CycleTime.MedianHours, 2)},
		ByPriority:     make(map[string]priorityCountsJSON, len(c.ByPriority)),
	}
	for p, pc := range c.ByPriority {
		out.ByPriority[p] = priorityCountsJSON(pc)
	}
	return out
}

type deltaJSON struct {
	Created          int64    `json:"created"`
	Assigned         int64    `json:"assigned"`
	Started          int64    `json:"started"`
	Completed        int64    `json:"completed"`
	CompletedOnTime  int64    `json:"completed_on_time"`
	CompletedLate    int64    `json:"completed_late"`
	Reopened         int64    `json:"reopened"`
	Open             int64    `json:"open"`
	Overdue          int64    `json:"overdue"`
	CompletionRate   *float64 `json:"completion_rate"`
	OnTimeRate       *float64 `json:"on_time_rate"`
	CycleMeanHours   *float64 `json:"cycle_time_mean_hours"`
	CycleMedianHours *float64 `json:"cycle_time_median_hours"`
}

func newDeltaJSON(d contracts.Delta) deltaJSON {
	return deltaJSON{
		Created: d.Created, Assigned: d.Assigned, Started: d.Started, Completed: d.Completed,
		CompletedOnTime: d.CompletedOnTime, CompletedLate: d.CompletedLate, Reopened: d.Reopened,
		Open: d.Open, Overdue: d.Overdue,
		CompletionRate: round(d.CompletionRate, 4), OnTimeRate: round(d.OnTimeRate, 4),
		CycleMeanHours: round(d.CycleMeanHours, 2), CycleMedianHours: round(d.CycleMedianHours, 2),
	}
}

func round(f *float64, digits int) *float64 {
	if f == nil {
		return nil
	}
	p := math.Pow(10, float64(digits))
	r := math.Round(*f*p) / p
	return &r
}

type previousJSON struct {
	Period periodJSON `json:"period"`
	countsJSON
}

type reportTaskJSON struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Priority  string   `json:"priority"`
	CountedAs []string `json:"counted_as"`
	Link      string   `json:"link"`
}

type userReportJSON struct {
	Message string         `json:"message"`
	Period  periodJSON     `json:"period"`
	User    reportUserJSON `json:"user"`
	countsJSON
	Previous previousJSON     `json:"previous"`
	Delta    deltaJSON        `json:"delta"`
	Tasks    []reportTaskJSON `json:"tasks"`
}

func newUserReportJSON(msg string, rep contracts.UserReport) userReportJSON {
	out := userReportJSON{
		Message: msg, Period: newPeriodJSON(rep.Period), User: newReportUserJSON(rep.User),
		countsJSON: newCountsJSON(rep.Counts),
		Previous:   previousJSON{Period: newPeriodJSON(rep.Previous), countsJSON: newCountsJSON(rep.PreviousCounts)},
		Delta:      newDeltaJSON(rep.Delta),
		Tasks:      make([]reportTaskJSON, 0, len(rep.Tasks)),
	}
	for _, t := range rep.Tasks {
		out.Tasks = append(out.Tasks, reportTaskJSON{ID: t.ID, Name: t.Name, Priority: t.Priority, CountedAs: t.CountedAs, Link: taskLink(t.ID)})
	}
	return out
}

func taskLink(id string) string { return "/api/tasks/" + id }

func aggregateLink(aggregateType, id string) *string {
	if aggregateType == "task" {
		s := taskLink(id)
		return &s
	}
	return nil
}

type teamRowJSON struct {
	User *reportUserJSON `json:"user"`
	countsJSON
	Previous countsJSON `json:"previous"`
	Delta    deltaJSON  `json:"delta"`
}

func newTeamRowJSON(r contracts.TeamRow, withUser bool) teamRowJSON {
	out := teamRowJSON{countsJSON: newCountsJSON(r.Counts), Previous: newCountsJSON(r.Previous), Delta: newDeltaJSON(r.Delta)}
	if withUser {
		u := newReportUserJSON(r.User)
		out.User = &u
	}
	return out
}

type teamReportJSON struct {
	Message        string          `json:"message"`
	Period         periodJSON      `json:"period"`
	PreviousPeriod periodJSON      `json:"previous_period"`
	Supervisor     *reportUserJSON `json:"supervisor"`
	Rows           []teamRowJSON   `json:"rows"`
	Totals         teamRowJSON     `json:"totals"`
}

func newTeamReportJSON(rep contracts.TeamReport) teamReportJSON {
	out := teamReportJSON{
		Message: MsgTeamReport, Period: newPeriodJSON(rep.Period), PreviousPeriod: newPeriodJSON(rep.Previous),
		Rows: make([]teamRowJSON, 0, len(rep.Rows)), Totals: newTeamRowJSON(rep.Totals, false),
	}
	if rep.Supervisor != nil {
		u := newReportUserJSON(*rep.Supervisor)
		out.Supervisor = &u
	}
	for _, row := range rep.Rows {
		out.Rows = append(out.Rows, newTeamRowJSON(row, true))
	}
	return out
}

type changeJSON struct {
	Field string `json:"field"`
	Old   any    `json:"old"`
	New   any    `json:"new"`
}

func changesJSON(cs []contracts.Change) []changeJSON {
	out := make([]changeJSON, 0, len(cs))
	for _, c := range cs {
		out = append(out, changeJSON(c))
	}
	return out
}

type activityEntryJSON struct {
	EventID       string       `json:"event_id"`
	Event         string       `json:"event"`
	At            string       `json:"at"`
	ActorID       *string      `json:"actor_id"`
	AggregateType string       `json:"aggregate_type"`
	AggregateID   string       `json:"aggregate_id"`
	Sequence      int64        `json:"sequence"`
	Changes       []changeJSON `json:"changes"`
	Link          *string      `json:"link"`
}

type activityJSON struct {
	Message    string              `json:"message"`
	Events     []activityEntryJSON `json:"events"`
	NextCursor *string             `json:"next_cursor"`
}

// ---------------------------------------------------------------- CSV

// countColumns are the CSV columns of a report's numbers.
var countColumns = []string{
	"created", "assigned", "started", "completed", "completed_on_time", "completed_late", "reopened", "open", "overdue",
	"completion_rate", "on_time_rate", "cycle_time_count", "cycle_time_mean_hours", "cycle_time_median_hours",
}

func countCells(c contracts.Counts) []string {
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	f := func(v *float64, digits int) string {
		if r := round(v, digits); r != nil {
			return strconv.FormatFloat(*r, 'f', -1, 64)
		}
		return ""
	}
	return []string{
		n(c.Created), n(c.Assigned), n(c.Started), n(c.Completed), n(c.CompletedOnTime), n(c.CompletedLate),
		n(c.Reopened), n(c.Open), n(c.Overdue), f(c.CompletionRate, 4), f(c.OnTimeRate, 4),
		n(c.CycleTime.Count), f(c.CycleTime.MeanHours, 2), f(c.CycleTime.MedianHours, 2),
	}
}

// userReportCSV: one line per number, this period, the previous one, the change.
func userReportCSV(rep contracts.UserReport) [][]string {
	cur, prev := countCells(rep.Counts), countCells(rep.PreviousCounts)
	rows := [][]string{{"metric", rep.Period.Key, rep.Previous.Key, "delta"}}
	for i, name := range countColumns {
		rows = append(rows, []string{name, cur[i], prev[i], cellDelta(cur[i], prev[i])})
	}
	return rows
}

func cellDelta(cur, prev string) string {
	a, err1 := strconv.ParseFloat(cur, 64)
	b, err2 := strconv.ParseFloat(prev, 64)
	if err1 != nil || err2 != nil {
		return ""
	}
	return strconv.FormatFloat(math.Round((a-b)*10000)/10000, 'f', -1, 64)
}

// teamReportCSV: one line per user, then the totals; each number, then its
// change from the previous period.
func teamReportCSV(rep contracts.TeamReport) [][]string {
	header := []string{"row", "user_id", "email", "name"}
	header = append(header, countColumns...)
	for _, c := range countColumns {
		header = append(header, c+"_delta")
	}
	rows := [][]string{header}
	line := func(kind string, u contracts.UserInfo, r contracts.TeamRow) []string {
		cur, prev := countCells(r.Counts), countCells(r.Previous)
		out := append([]string{kind, u.ID, csvText(u.Email), csvText(u.Name)}, cur...)
		for i := range cur {
			out = append(out, cellDelta(cur[i], prev[i]))
		}
		return out
	}
	for _, r := range rep.Rows {
		rows = append(rows, line("user", r.User, r))
	}
	return append(rows, line("total", contracts.UserInfo{}, rep.Totals))
}
