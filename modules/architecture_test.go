// Package modules_test keeps the dependency rules of ARCHITECTURE.md true:
// a rule no test checks erodes.
package modules_test

import (
	"os/exec"
	"sort"
	"strings"
	"testing"
)

const root = "github.com/taskd/taskd/"

// thirdPartyInDomain lists what domain packages may import beyond the
// standard library and our kernel: pure libraries, no I/O frameworks.
var thirdPartyInDomain = []string{
	"golang.org/x/crypto/",
	"github.com/google/uuid",
}

// violations returns every forbidden edge among imports (package → its
// direct imports), one line each.
func violations(imports map[string][]string) []string {
	var out []string
	for pkg, deps := range imports {
		for _, dep := range deps {
			if why := forbidden(pkg, dep); why != "" {
				out = append(out, pkg+" → "+dep+": "+why)
			}
		}
	}
	sort.Strings(out)
	return out
}

func forbidden(pkg, dep string) string {
	p, pIsOurs := strings.CutPrefix(pkg, root)
	d, dIsOurs := strings.CutPrefix(dep, root)
	if !pIsOurs {
		return ""
	}
	layer := func(s string) string { return strings.SplitN(s, "/", 2)[0] }
	switch layer(p) {
	case "modules":
		pm, pRest := moduleOf(p)
		if dIsOurs {
			if l := layer(d); l == "ports" || l == "adapters" || l == "cmd" {
				return "modules import neither ports nor adapters"
			}
			dm, dRest := moduleOf(d)
			if dm != pm && dm != "kernel" && dRest != "contracts" && !strings.HasPrefix(dRest, "contracts/") {
				return "a module may import another module's contracts only"
			}
			if pm == "kernel" && dm != "kernel" {
				return "the kernel imports no module"
			}
			if strings.HasPrefix(pRest, "domain") && dm == pm && !strings.HasPrefix(dRest, "domain") && dRest != "contracts" {
				return "domain imports only its own domain, its contracts and the kernel"
			}
			if strings.HasPrefix(pRest, "contracts") && dm == pm && !strings.HasPrefix(dRest, "contracts") {
				return "contracts import nothing of their module but contracts"
			}
			return ""
		}
		if isStdlib(dep) {
			return ""
		}
		if strings.HasPrefix(pRest, "domain") || strings.HasPrefix(pRest, "contracts") || pm == "kernel" {
			for _, ok := range thirdPartyInDomain {
				if strings.HasPrefix(dep, ok) || dep == strings.TrimSuffix(ok, "/") {
					return ""
				}
			}
			return "domain, contracts and kernel use the standard library and pure libraries only"
		}
	case "ports":
		if dIsOurs && (layer(d) == "adapters" || layer(d) == "cmd") {
			return "ports (driving side) do not know adapters (driven side)"
		}
	case "adapters":
		// The one exception: ports/events declares the transport contract
		// (Transport, DeadLetter, Settler…) that the outbox and SNS/SQS
		// adapters implement, as database/sql/driver is for drivers
		// (docs/decisions.md, D9).
		if dIsOurs && d == "ports/events" {
			return ""
		}
		if dIsOurs && (layer(d) == "ports" || layer(d) == "cmd") {
			return "adapters do not import ports or cmd"
		}
	}
	return ""
}

// moduleOf splits "modules/tasks/app/command" into "tasks", "app/command".
func moduleOf(p string) (string, string) {
	parts := strings.SplitN(strings.TrimPrefix(p, "modules/"), "/", 2)
	if len(parts) == 1 {
		return parts[0], ""
	}
	return parts[0], parts[1]
}

func isStdlib(path string) bool {
	first := strings.SplitN(path, "/", 2)[0]
	return !strings.Contains(first, ".")
}

func TestDependencyRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, root+"...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	imports := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) > 0 {
			imports[f[0]] = f[1:]
		}
	}
	if len(imports) < 10 {
		t.Fatalf("go list found only %d packages; is the module path right?", len(imports))
	}
	for _, v := range violations(imports) {
		t.Error(v)
	}
}

// TestRulesCatchForbiddenEdges proves the checker fails on each kind of
// forbidden edge, so TestDependencyRules cannot pass vacuously.
func TestRulesCatchForbiddenEdges(t *testing.T) {
	bad := map[string][]string{
		root + "modules/tasks/app/command":     {root + "modules/identity/app/query"},
		root + "modules/tasks/domain/task":     {root + "adapters/sqlstore"},
		root + "modules/identity/app":          {root + "ports/http"},
		root + "modules/tasks/domain/task/sub": {root + "modules/tasks/app"},
		root + "modules/kernel/event":          {root + "modules/tasks/contracts"},
		root + "modules/tasks/contracts":       {"github.com/ThreeDotsLabs/watermill"},
		root + "ports/http":                    {root + "adapters/sqlstore"},
		root + "adapters/sqlstore":             {root + "ports/http"},
	}
	got := violations(bad)
	if len(got) != len(bad) {
		t.Fatalf("want %d violations, got %d:\n%s", len(bad), len(got), strings.Join(got, "\n"))
	}
	good := map[string][]string{
		root + "modules/tasks/app/command":    {root + "modules/tasks/domain/task", root + "modules/kernel/errs", "context"},
		root + "modules/tasks/domain/task":    {root + "modules/tasks/contracts", root + "modules/kernel/event", "time"},
		root + "modules/analytics/app":        {root + "modules/tasks/contracts", root + "modules/identity/contracts"},
		root + "modules/identity/domain/user": {"golang.org/x/crypto/argon2"},
		root + "adapters/sqlstore":            {root + "modules/tasks/domain/task", root + "adapters/outbox"},
		root + "cmd/taskd":                    {root + "adapters/sqlstore", root + "ports/http"},
		root + "adapters/snssqs":              {root + "ports/events"},
	}
	if got := violations(good); len(got) != 0 {
		t.Fatalf("allowed edges reported:\n%s", strings.Join(got, "\n"))
	}
}
