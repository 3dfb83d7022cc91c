package monitoring

import (
	"strings"
	"testing"

	tp "github.com/taskd/taskd/adapters/prometheus"
	"github.com/taskd/taskd/deploy/checks/internal/repo"
)

// The checks must fail on real defects in the dashboard and the rules.
func TestMonitoringChecksCatchDefects(t *testing.T) {
	dash := string(repo.Read(t, "deploy", "grafana", "dashboards", "taskd-overview.json"))
	rules := string(repo.Read(t, "deploy", "prometheus", "rules.yml"))
	cases := []struct {
		name, file, from, to, want string
	}{
		{"metric typo in a panel", "dash", "sum by (route) (rate(taskd_http_requests_total{", "sum by (route) (rate(taskd_http_request_total{", "taskd_http_request_total is not exported"},
		{"metric the binary lacks", "dash", "max(taskd_outbox_oldest_age_seconds{", "max(taskd_outbox_age_seconds{", "taskd_outbox_age_seconds is not exported"},
		{"grouping by a raw path", "dash", "sum by (route) (rate(taskd_http_requests_total{", "sum by (path) (rate(taskd_http_requests_total{", `no label "path"`},
		{"matcher on a missing label", "dash", `status=~\"5..\"`, `code=~\"5..\"`, `has no label "code"`},
		{"quantile without le", "dash", "sum by (le, route) (rate(taskd_http_request_duration_seconds_bucket", "sum by (route) (rate(taskd_http_request_duration_seconds_bucket", "without an le label"},
		{"legend names a dropped label", "dash", `"legendFormat": "{{status}}"`, `"legendFormat": "{{route}}"`, "legend {{route}}"},
		{"undefined variable", "dash", `role=~\"$role\"`, `role=~\"$rol\"`, "unknown variable $rol"},
		{"PromQL syntax", "dash", "sum by (channel) (rate(taskd_notifications_sent_total{", "sum by (channel) (rate(taskd_notifications_sent_total{{", "does not parse"},
		{"rule on a missing metric", "rules", "max by (queue) (taskd_dlq_depth)", "max by (queue) (taskd_dlq_messages)", "taskd_dlq_messages is not exported"},
		{"threshold drifts from CloudWatch", "rules", "max(taskd_outbox_oldest_age_seconds) > 300", "max(taskd_outbox_oldest_age_seconds) > 600", "deploy/alarms.json says `> 300`"},
		{"duration drifts", "rules", "for: 1m\n        labels:\n          severity: page\n          alarm: dlqDepth", "for: 5m\n        labels:\n          severity: page\n          alarm: dlqDepth", "deploy/alarms.json says 1m"},
		{"alert without alarm", "rules", "alarm: targetDown", "alarm: down", "names no Prometheus alarm"},
		{"misspelled rule field", "rules", "        for: 10m\n        labels:\n          severity: page\n          alarm: httpP99Latency", "        fro: 10m\n        labels:\n          severity: page\n          alarm: httpP99Latency", "fro"},
	}
	for _, m := range cases {
		t.Run(m.name, func(t *testing.T) {
			d, r := dash, rules
			target := &d
			if m.file == "rules" {
				target = &r
			}
			if !strings.Contains(*target, m.from) {
				t.Fatalf("%s no longer contains %q; update this case", m.file, m.from)
			}
			*target = strings.Replace(*target, m.from, m.to, 1)
			c := NewCatalog(tp.Exported(), targetLabels(t))
			groups, issues := loadRules(t, []byte(r), c)
			if groups != nil {
				issues = append(issues, alarmProblems(groups, loadAlarms(t))...)
			}
			issues = append(issues, dashboardProblems([]byte(d), c)...)
			for _, i := range issues {
				if strings.Contains(i, m.want) {
					return
				}
			}
			t.Errorf("defect not caught; want an issue containing %q, got %q", m.want, issues)
		})
	}
}
