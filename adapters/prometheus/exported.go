package prometheus

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"slices"
	"strings"
)

// MetricInfo describes one metric family the binary exports.
type MetricInfo struct {
	Name   string   // family name, e.g. taskd_http_requests_total
	Type   string   // counter, gauge, histogram, summary, untyped
	Labels []string // label names, sorted (histograms: without le)
}

// Series are the names of the series this family produces in PromQL:
// histograms add _bucket, _sum and _count; summaries _sum and _count.
func (i MetricInfo) Series() []string {
	switch i.Type {
	case "histogram":
		return []string{i.Name + "_bucket", i.Name + "_sum", i.Name + "_count"}
	case "summary":
		return []string{i.Name, i.Name + "_sum", i.Name + "_count"}
	}
	return []string{i.Name}
}

// Exported lists every metric family a taskd process exports on /metrics:
// taskd_*, the Go runtime (go_*), the process (process_*), the database
// pool (go_sql_*) and promhttp_*. It is read off a fresh registry built by
// New with one child of every labelled metric and a database registered, not
// written by hand, so dashboards and alert rules can be checked against it.
func Exported() []MetricInfo {
	m := New()
	for _, sample := range m.samplers {
		sample()
	}
	db := sql.OpenDB(nopConnector{}) // DBStats only; never connects
	defer db.Close()
	if err := m.RegisterDB(db, "exported"); err != nil {
		panic(err)
	}
	// promhttp_metric_handler_errors_total is registered by the handler.
	_ = m.Handler()

	families, err := m.reg.Gather()
	if err != nil {
		panic(err)
	}
	out := make([]MetricInfo, 0, len(families))
	for _, f := range families {
		info := MetricInfo{Name: f.GetName(), Type: strings.ToLower(f.GetType().String())}
		seen := map[string]bool{}
		for _, metric := range f.GetMetric() {
			for _, lp := range metric.GetLabel() {
				if !seen[lp.GetName()] {
					seen[lp.GetName()] = true
					info.Labels = append(info.Labels, lp.GetName())
				}
			}
		}
		slices.Sort(info.Labels)
		out = append(out, info)
	}
	slices.SortFunc(out, func(a, b MetricInfo) int { return strings.Compare(a.Name, b.Name) })
	return out
}

type nopConnector struct{}

func (nopConnector) Connect(context.Context) (driver.Conn, error) {
	return nil, errors.New("adapters/prometheus: the Exported() probe database never connects")
}

func (nopConnector) Driver() driver.Driver { return nopDriver{} }

type nopDriver struct{}

func (nopDriver) Open(string) (driver.Conn, error) {
	return nil, errors.New("adapters/prometheus: the Exported() probe database never connects")
}
