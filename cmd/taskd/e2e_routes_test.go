package main

import (
	"io"
	"log/slog"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"go.uber.org/fx"

	"github.com/taskd/taskd/adapters/sqlstore"
	httpport "github.com/taskd/taskd/ports/http"
)

// TestE2ERoutesAreDocumented compares the routes of the binary's own fx
// graph — every registrar any module contributes to the "routes" group —
// with docs/openapi.yaml, both ways. (ports/http/openapi_test.go validates
// answers against the document; this catches a module wired here whose
// routes the document, or that test, does not know.)
func TestE2ERoutesAreDocumented(t *testing.T) {
	t.Parallel()
	cfg, err := LoadConfig(e2eEnv(map[string]string{"TASKD_DATA_DIR": t.TempDir(), "TASKD_ADDR": "127.0.0.1:0"}))
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	var routes []httpport.RouteRegistrar
	app := fx.New(append(serveOptions(cfg, RoleAPI, logger),
		fx.Invoke(func(in struct {
			fx.In
			Routes []httpport.RouteRegistrar `group:"routes"`
			DB     *sqlstore.DB
		}) {
			routes = in.Routes
			t.Cleanup(func() { in.DB.SQL.Close() })
		}),
	)...)
	if err := app.Err(); err != nil {
		t.Fatal(err)
	}
	if len(routes) < 2 {
		t.Fatalf("the fx graph holds %d route registrars, want identity's and tasks' at least", len(routes))
	}

	var served []string
	muxVar := regexp.MustCompile(`\{([^{}:]+):[^{}]*\}`)
	for _, r := range httpport.ListRoutes(routes) {
		served = append(served, r.Method+" "+muxVar.ReplaceAllString(r.Path, "{$1}"))
	}
	sort.Strings(served)
	served = slices.Compact(served)

	doc, err := openapi3.NewLoader().LoadFromFile("../../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	for _, op := range served {
		if !slices.Contains(documented, op) {
			t.Errorf("taskd serves %s, but docs/openapi.yaml does not describe it", op)
		}
	}
	for _, op := range documented {
		if !slices.Contains(served, op) {
			t.Errorf("docs/openapi.yaml describes %s, but taskd does not serve it", op)
		}
	}
}
