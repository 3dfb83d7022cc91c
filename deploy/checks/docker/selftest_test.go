package docker

import (
	"strings"
	"testing"

	"github.com/taskd/taskd/deploy/checks/internal/repo"
)

// The checks must fail on real defects: each mutation of the real Dockerfile
// must be reported, by the policy or by BuildKit's linter.
func TestDockerfileChecksCatchDefects(t *testing.T) {
	good := string(repo.Read(t, "Dockerfile"))
	goV := goVersion(t)
	mutations := []struct {
		name      string
		from, to  string
		wantIssue string
	}{
		{"unpinned builder", "golang:" + goV + "-bookworm", "golang:latest", "is no version"},
		{"builder drifts from go.mod", "golang:" + goV + "-bookworm", "golang:1.20.1-bookworm", "does not match go.mod"},
		{"root user", "USER 65532:65532", "USER root", "non-root"},
		{"no user", "USER 65532:65532", "", "non-root"},
		{"healthcheck", "EXPOSE 8080", "EXPOSE 8080\nHEALTHCHECK CMD [\"/taskd\", \"health\"]", "HEALTHCHECK"},
		{"cgo on", "CGO_ENABLED=0", "CGO_ENABLED=1", "CGO_ENABLED=0"},
		{"no version injected", "-X main.version=${VERSION}", "", "-X main.version="},
		{"no trimpath", "-trimpath ", "", "-trimpath"},
		{"secret in ENV", "TASKD_DATA_DIR=/data", "TASKD_DATA_DIR=/data \\\n    TASKD_JWT_SECRET=changeme-changeme-changeme-changeme", "secret"},
		{"secret in ARG", "ARG VERSION=dev\nWORKDIR", "ARG VERSION=dev\nARG DB_PASSWORD\nWORKDIR", "secret"},
		{"missing OCI label", "org.opencontainers.image.revision", "org.example.revision", "org.opencontainers.image.revision"},
		{"shell-form entrypoint", `ENTRYPOINT ["/taskd"]`, "ENTRYPOINT /taskd", "exec (JSON) form"},
		{"fat runtime", "gcr.io/distroless/static-debian12:nonroot@", "ubuntu:24.04@", "distroless"},
		{"typo in stage reference", "--from=build /out/taskd", "--from=biuld /out/taskd", "names no earlier stage"},
		{"loopback address", "TASKD_ADDR=0.0.0.0:8080", "TASKD_ADDR=127.0.0.1:8080", "TASKD_ADDR"},
		{"casing", "AS build", "as build", "FromAsCasing"},
	}
	for _, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			if !strings.Contains(good, m.from) {
				t.Fatalf("the Dockerfile no longer contains %q; update this mutation", m.from)
			}
			bad := []byte(strings.Replace(good, m.from, m.to, 1))
			issues := dockerfileProblems(bad, goV)
			lint, _ := buildkitLint(t, bad)
			issues = append(issues, lint...)
			for _, i := range issues {
				if strings.Contains(i, m.wantIssue) {
					return
				}
			}
			t.Errorf("mutation not caught; want an issue containing %q, got %q", m.wantIssue, issues)
		})
	}
	if issues := dockerfileProblems([]byte(good), goV); len(issues) > 0 {
		t.Errorf("the real Dockerfile has issues: %q", issues)
	}
}

func TestDockerignoreMatcherCatchesDefects(t *testing.T) {
	m := newIgnoreMatcher(t, strings.NewReader("*\n!go.mod\n"))
	if !m.excluded(t, "cmd/taskd/main.go") || m.excluded(t, "go.mod") {
		t.Fatal("matcher disagrees with docker on '*' + '!go.mod'")
	}
	m = newIgnoreMatcher(t, strings.NewReader("deploy\n"))
	if !m.excluded(t, "deploy/names/names.json") {
		t.Fatal("an excluded directory must exclude its files")
	}
	m = newIgnoreMatcher(t, strings.NewReader("**/node_modules\n"))
	if !m.excluded(t, "deploy/aws/node_modules/x/y.js") || m.excluded(t, "deploy/aws/bin/app.ts") {
		t.Fatal("**/node_modules matched wrongly")
	}
}
