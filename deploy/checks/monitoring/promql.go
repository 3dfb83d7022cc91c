// Package monitoring checks the Prometheus alert rules and the Grafana
// dashboards against what the taskd binary exports
// (adapters/prometheus.Exported), with Prometheus's own PromQL parser: every
// series a query names must exist, every label it matches or groups by must
// exist on those series, and legends may only name labels the query keeps.
package monitoring

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	tp "github.com/taskd/taskd/adapters/prometheus"
)

// Catalog is what a query may refer to: series names with their labels.
type Catalog struct {
	series       map[string]map[string]bool
	targetLabels []string // added by the scrape: job, instance, role …
}

// NewCatalog builds the catalog of the binary's exported metrics plus the
// labels every scraped series carries.
func NewCatalog(exported []tp.MetricInfo, targetLabels []string) *Catalog {
	c := &Catalog{series: map[string]map[string]bool{}, targetLabels: targetLabels}
	for _, m := range exported {
		for _, s := range m.Series() {
			set := map[string]bool{}
			for _, l := range m.Labels {
				set[l] = true
			}
			switch {
			case m.Type == "histogram" && strings.HasSuffix(s, "_bucket"):
				set["le"] = true
			case m.Type == "summary" && s == m.Name:
				set["quantile"] = true
			}
			c.series[s] = set
		}
	}
	// Synthetic series every Prometheus target has.
	for _, s := range []string{"up", "scrape_duration_seconds", "scrape_samples_scraped"} {
		c.series[s] = map[string]bool{}
	}
	return c
}

// AddRecorded registers the series a recording rule produces.
func (c *Catalog) AddRecorded(name string, labelNames []string) {
	set := map[string]bool{}
	for _, l := range labelNames {
		set[l] = true
	}
	c.series[name] = set
}

// Has tells whether the catalog knows a series.
func (c *Catalog) Has(name string) bool { _, ok := c.series[name]; return ok }

var promqlParser = parser.NewParser(parser.Options{})

// Analysis is what one query uses and produces.
type Analysis struct {
	Series   []string // series names the query reads
	Output   []string // labels of the result (sorted)
	Problems []string
}

// Analyze parses expr and checks it against the catalog.
func (c *Catalog) Analyze(expr string) Analysis {
	e, err := promqlParser.ParseExpr(expr)
	if err != nil {
		return Analysis{Problems: []string{fmt.Sprintf("does not parse: %v", err)}}
	}
	a := &analyzer{c: c, series: map[string]bool{}}
	out := a.labels(e)
	return Analysis{Series: sortedKeys(a.series), Output: sortedKeys(out), Problems: a.problems}
}

type analyzer struct {
	c        *Catalog
	series   map[string]bool
	problems []string
}

func (a *analyzer) bad(format string, args ...any) {
	a.problems = append(a.problems, fmt.Sprintf(format, args...))
}

// labels returns the label names the node's result carries, reporting
// references to series or labels that do not exist.
func (a *analyzer) labels(n parser.Node) map[string]bool {
	switch n := n.(type) {
	case *parser.VectorSelector:
		name := n.Name
		for _, m := range n.LabelMatchers {
			if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
				name = m.Value
			}
		}
		if name == "" {
			a.bad("selector %s has no metric name", n)
			return map[string]bool{}
		}
		a.series[name] = true
		own, ok := a.c.series[name]
		if !ok {
			a.bad("metric %s is not exported by taskd (nor recorded by a rule)", name)
			return map[string]bool{}
		}
		set := maps.Clone(own)
		for _, l := range a.c.targetLabels {
			set[l] = true
		}
		for _, m := range n.LabelMatchers {
			if m.Name != labels.MetricName && !set[m.Name] {
				a.bad("%s has no label %q (it has %s)", name, m.Name, strings.Join(sortedKeys(set), ", "))
			}
		}
		return set
	case *parser.MatrixSelector:
		return a.labels(n.VectorSelector)
	case *parser.SubqueryExpr:
		return a.labels(n.Expr)
	case *parser.ParenExpr:
		return a.labels(n.Expr)
	case *parser.UnaryExpr:
		return a.labels(n.Expr)
	case *parser.StepInvariantExpr:
		return a.labels(n.Expr)
	case *parser.NumberLiteral, *parser.StringLiteral:
		return map[string]bool{}
	case *parser.Call:
		var args []map[string]bool
		for _, arg := range n.Args {
			args = append(args, a.labels(arg))
		}
		switch n.Func.Name {
		case "histogram_quantile":
			in := args[len(args)-1]
			if !in["le"] {
				a.bad("histogram_quantile over series without an le label (keep le in the aggregation: by (le, …))")
			}
			out := maps.Clone(in)
			delete(out, "le")
			return out
		case "label_replace", "label_join":
			out := maps.Clone(args[0])
			if s, ok := n.Args[1].(*parser.StringLiteral); ok {
				out[s.Val] = true
			}
			return out
		case "vector", "time", "scalar", "pi":
			return map[string]bool{}
		}
		out := map[string]bool{}
		for i, arg := range n.Args {
			if arg.Type() == parser.ValueTypeVector || arg.Type() == parser.ValueTypeMatrix {
				maps.Copy(out, args[i])
			}
		}
		return out
	case *parser.AggregateExpr:
		if n.Param != nil {
			a.labels(n.Param)
		}
		in := a.labels(n.Expr)
		for _, g := range n.Grouping {
			if !in[g] {
				a.bad("%s by/without (%s): the aggregated series have no label %q (they have %s)",
					n.Op, strings.Join(n.Grouping, ", "), g, strings.Join(sortedKeys(in), ", "))
			}
		}
		switch {
		case n.Op == parser.TOPK || n.Op == parser.BOTTOMK || n.Op == parser.LIMITK || n.Op == parser.LIMIT_RATIO:
			return in
		case n.Without:
			out := maps.Clone(in)
			for _, g := range n.Grouping {
				delete(out, g)
			}
			return out
		}
		out := map[string]bool{}
		for _, g := range n.Grouping {
			out[g] = true
		}
		if n.Op == parser.COUNT_VALUES {
			if s, ok := n.Param.(*parser.StringLiteral); ok {
				out[s.Val] = true
			}
		}
		return out
	case *parser.BinaryExpr:
		l, r := a.labels(n.LHS), a.labels(n.RHS)
		lVec := n.LHS.Type() == parser.ValueTypeVector
		rVec := n.RHS.Type() == parser.ValueTypeVector
		if vm := n.VectorMatching; vm != nil && lVec && rVec {
			if vm.On {
				for _, m := range vm.MatchingLabels {
					if !l[m] || !r[m] {
						a.bad("on(%s): label %q is not on both sides", strings.Join(vm.MatchingLabels, ", "), m)
					}
				}
			}
			for _, inc := range vm.Include {
				if !r[inc] && !l[inc] {
					a.bad("group_left/right(%s): label %q exists on neither side", strings.Join(vm.Include, ", "), inc)
				}
			}
		}
		switch {
		case !lVec:
			return r
		case !rVec:
			return l
		case n.Op == parser.LOR:
			out := maps.Clone(l)
			maps.Copy(out, r)
			return out
		case n.VectorMatching != nil && n.VectorMatching.Card == parser.CardManyToOne:
			out := maps.Clone(l)
			for _, inc := range n.VectorMatching.Include {
				out[inc] = true
			}
			return out
		case n.VectorMatching != nil && n.VectorMatching.Card == parser.CardOneToMany:
			out := maps.Clone(r)
			for _, inc := range n.VectorMatching.Include {
				out[inc] = true
			}
			return out
		}
		return l
	}
	a.bad("unsupported PromQL node %T in the checker", n)
	return map[string]bool{}
}

func sortedKeys(m map[string]bool) []string {
	out := slices.Collect(maps.Keys(m))
	sort.Strings(out)
	return out
}
