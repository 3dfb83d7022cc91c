package monitoring

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"sigs.k8s.io/yaml"

	tp "github.com/taskd/taskd/adapters/prometheus"
	"github.com/taskd/taskd/deploy/checks/internal/repo"
)

// targetLabels are the labels Prometheus adds to every scraped series:
// job and instance, plus the static labels of deploy/prometheus/prometheus.yml.
func targetLabels(t *testing.T) []string {
	t.Helper()
	var cfg struct {
		ScrapeConfigs []struct {
			StaticConfigs []struct {
				Labels map[string]string `json:"labels"`
			} `json:"static_configs"`
		} `json:"scrape_configs"`
	}
	if err := yaml.Unmarshal(repo.Read(t, "deploy", "prometheus", "prometheus.yml"), &cfg); err != nil {
		t.Fatalf("prometheus.yml: %v", err)
	}
	set := map[string]bool{"job": true, "instance": true}
	for _, sc := range cfg.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			for k := range st.Labels {
				set[k] = true
			}
		}
	}
	return sortedKeys(set)
}

// loadRules parses rules.yml strictly (unknown fields fail) with
// Prometheus's rule file parser and adds the recorded series to c.
func loadRules(t *testing.T, content []byte, c *Catalog) (*rulefmt.RuleGroups, []string) {
	t.Helper()
	groups, errs := rulefmt.Parse(content, false, model.UTF8Validation, promqlParser, slog.New(slog.DiscardHandler))
	if len(errs) > 0 {
		var out []string
		for _, e := range errs {
			out = append(out, "rules.yml: "+e.Error())
		}
		return nil, out
	}
	var problems []string
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			name := r.Alert
			if r.Record != "" {
				name = r.Record
			}
			a := c.Analyze(r.Expr)
			for _, p := range a.Problems {
				problems = append(problems, fmt.Sprintf("rules.yml %s/%s: %s", g.Name, name, p))
			}
			if r.Record != "" {
				c.AddRecorded(r.Record, append(a.Output, sortedKeysOf(r.Labels)...))
			}
		}
	}
	return groups, problems
}

func sortedKeysOf(m map[string]string) []string {
	set := map[string]bool{}
	for k := range m {
		set[k] = true
	}
	return sortedKeys(set)
}

// alarm is one entry of deploy/alarms.json.
type alarm struct {
	Key        string   `json:"key"`
	Op         string   `json:"op"`
	Threshold  float64  `json:"threshold"`
	ForMinutes int      `json:"forMinutes"`
	Where      []string `json:"where"`
	Severity   string   `json:"severity"`
}

func loadAlarms(t *testing.T) []alarm {
	t.Helper()
	var f struct {
		Alarms []alarm `json:"alarms"`
	}
	dec := json.NewDecoder(strings.NewReader(string(repo.Read(t, "deploy", "alarms.json"))))
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("deploy/alarms.json: %v", err)
	}
	return f.Alarms
}

// alarmProblems: every alarm meant for Prometheus has exactly one alert rule
// (label alarm=<key>) whose condition is `… <op> <threshold>` held for
// forMinutes, and every alert rule belongs to such an alarm.
func alarmProblems(groups *rulefmt.RuleGroups, alarms []alarm) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	byKey := map[string]alarm{}
	for _, a := range alarms {
		byKey[a.Key] = a
	}
	seen := map[string]int{}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			key := r.Labels["alarm"]
			a, ok := byKey[key]
			if !ok || !slices.Contains(a.Where, "prometheus") {
				bad("alert %s: label alarm=%q names no Prometheus alarm of deploy/alarms.json", r.Alert, key)
				continue
			}
			seen[key]++
			if r.Labels["severity"] != a.Severity {
				bad("alert %s: severity %q, deploy/alarms.json says %q", r.Alert, r.Labels["severity"], a.Severity)
			}
			if time.Duration(r.For) != time.Duration(a.ForMinutes)*time.Minute {
				bad("alert %s: for %s, deploy/alarms.json says %dm", r.Alert, r.For, a.ForMinutes)
			}
			e, err := promqlParser.ParseExpr(r.Expr)
			if err != nil {
				bad("alert %s: %v", r.Alert, err)
				continue
			}
			for {
				p, ok := e.(*parser.ParenExpr)
				if !ok {
					break
				}
				e = p.Expr
			}
			bin, ok := e.(*parser.BinaryExpr)
			if !ok || !bin.Op.IsComparisonOperator() {
				bad("alert %s: expression is not `<query> %s %v`", r.Alert, a.Op, a.Threshold)
				continue
			}
			num, ok := bin.RHS.(*parser.NumberLiteral)
			if !ok {
				bad("alert %s: the right side of %s is not a number", r.Alert, bin.Op)
				continue
			}
			if bin.Op.String() != a.Op || math.Abs(num.Val-a.Threshold) > 1e-9*math.Max(1, math.Abs(a.Threshold)) {
				bad("alert %s: condition `%s %v`, deploy/alarms.json says `%s %v`", r.Alert, bin.Op, num.Val, a.Op, a.Threshold)
			}
		}
	}
	for _, a := range alarms {
		if slices.Contains(a.Where, "prometheus") && seen[a.Key] != 1 {
			bad("alarm %s: %d alert rules implement it, want 1", a.Key, seen[a.Key])
		}
	}
	return problems
}

func TestAlertRules(t *testing.T) {
	c := NewCatalog(tp.Exported(), targetLabels(t))
	groups, problems := loadRules(t, repo.Read(t, "deploy", "prometheus", "rules.yml"), c)
	for _, p := range problems {
		t.Error(p)
	}
	if groups == nil {
		return
	}
	for _, p := range alarmProblems(groups, loadAlarms(t)) {
		t.Error(p)
	}
}

// Panel is the part of a Grafana panel the checks read.
type Panel struct {
	ID         int     `json:"id"`
	Type       string  `json:"type"`
	Title      string  `json:"title"`
	Panels     []Panel `json:"panels"` // collapsed rows
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	GridPos struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Targets []struct {
		Expr         string `json:"expr"`
		LegendFormat string `json:"legendFormat"`
		RefID        string `json:"refId"`
	} `json:"targets"`
}

// Dashboard is the part of a Grafana dashboard the checks read.
type Dashboard struct {
	UID        string  `json:"uid"`
	Title      string  `json:"title"`
	Panels     []Panel `json:"panels"`
	Templating struct {
		List []struct {
			Name    string `json:"name"`
			Type    string `json:"type"`
			Query   any    `json:"query"`
			Current struct {
				Value any `json:"value"`
			} `json:"current"`
		} `json:"list"`
	} `json:"templating"`
}

var (
	grafanaVar = regexp.MustCompile(`\$(\{([A-Za-z_][A-Za-z0-9_]*)(:[a-z]+)?\}|([A-Za-z_][A-Za-z0-9_]*))`)
	legendVar  = regexp.MustCompile(`\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}`)
	// Grafana's built-in interval variables, replaced by a duration.
	builtinDurations = map[string]bool{"__rate_interval": true, "__interval": true, "__range": true, "__range_s": false}
)

// Grafana's core panel types that the dashboards may use.
var panelTypes = []string{"timeseries", "stat", "gauge", "bargauge", "table", "barchart", "heatmap", "piechart", "state-timeline", "status-history", "text", "logs"}

// dashboardProblems checks one dashboard: its JSON, every panel's query, the
// labels its legends use, and that it covers what operators look at.
func dashboardProblems(b []byte, c *Catalog) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	var d Dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		return []string{fmt.Sprintf("not valid dashboard JSON: %v", err)}
	}
	if d.UID == "" || d.Title == "" {
		bad("dashboard needs a uid and a title")
	}
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
	}
	used := map[string]bool{}
	ids := map[int]bool{}
	var walk func([]Panel)
	walk = func(panels []Panel) {
		for _, p := range panels {
			where := fmt.Sprintf("panel %d %q", p.ID, p.Title)
			if ids[p.ID] {
				bad("%s: duplicate panel id", where)
			}
			ids[p.ID] = true
			if p.GridPos.W <= 0 || p.GridPos.X+p.GridPos.W > 24 {
				bad("%s: gridPos does not fit the 24-column grid", where)
			}
			walk(p.Panels)
			if p.Type == "row" {
				continue
			}
			if !slices.Contains(panelTypes, p.Type) {
				bad("%s: unknown panel type %q", where, p.Type)
			}
			if len(p.Targets) == 0 {
				bad("%s: no queries", where)
			}
			if p.Datasource == nil || p.Datasource.Type != "prometheus" {
				bad("%s: data source must be the Prometheus data source", where)
			}
			for _, tg := range p.Targets {
				expr := grafanaVar.ReplaceAllStringFunc(tg.Expr, func(m string) string {
					s := grafanaVar.FindStringSubmatch(m)
					name := s[2] + s[4]
					switch {
					case builtinDurations[name]:
						return "5m"
					case vars[name]:
						return ".*"
					}
					bad("%s %s: unknown variable $%s", where, tg.RefID, name)
					return "x"
				})
				a := c.Analyze(expr)
				for _, pr := range a.Problems {
					bad("%s %s: %s\n      query: %s", where, tg.RefID, pr, tg.Expr)
				}
				for _, s := range a.Series {
					used[s] = true
				}
				for _, m := range legendVar.FindAllStringSubmatch(tg.LegendFormat, -1) {
					if len(a.Problems) == 0 && !slices.Contains(a.Output, m[1]) {
						bad("%s %s: legend {{%s}} names a label the query drops (it keeps %v)", where, tg.RefID, m[1], a.Output)
					}
				}
			}
		}
	}
	walk(d.Panels)
	return problems
}

// What the overview dashboard must show (the list: traffic, errors,
// latency, outbox/queue lag, DLQ, notifications, report activity).
var mustShow = []string{
	"taskd_http_requests_total", "taskd_http_request_duration_seconds_bucket",
	"taskd_handler_errors_total", "taskd_outbox_oldest_age_seconds", "taskd_outbox_backlog",
	"taskd_events_consumed_total", "taskd_projection_lag_seconds", "taskd_dlq_depth",
	"taskd_notifications_sent_total", "taskd_notifications_failed_total", "taskd_reports_served_total",
}

func usedSeries(t *testing.T, b []byte, c *Catalog) map[string]bool {
	var d Dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	var walk func([]Panel)
	walk = func(ps []Panel) {
		for _, p := range ps {
			walk(p.Panels)
			for _, tg := range p.Targets {
				expr := grafanaVar.ReplaceAllString(tg.Expr, "5m")
				for _, s := range c.Analyze(strings.ReplaceAll(expr, `=~"5m"`, `=~".*"`)).Series {
					used[s] = true
				}
			}
		}
	}
	walk(d.Panels)
	return used
}

func TestGrafanaDashboards(t *testing.T) {
	c := NewCatalog(tp.Exported(), targetLabels(t))
	loadRules(t, repo.Read(t, "deploy", "prometheus", "rules.yml"), c) // recorded series may be plotted
	files, err := filepath.Glob(repo.Path(t, "deploy", "grafana", "dashboards", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards in deploy/grafana/dashboards (%v)", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range dashboardProblems(b, c) {
			t.Errorf("%s: %s", filepath.Base(f), p)
		}
	}
	overview := repo.Read(t, "deploy", "grafana", "dashboards", "taskd-overview.json")
	used := usedSeries(t, overview, c)
	for _, s := range mustShow {
		if !used[s] {
			t.Errorf("taskd-overview.json shows nothing of %s", s)
		}
	}
}
