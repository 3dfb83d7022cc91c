// Package workflows checks taskd's GitHub Actions policy (actionlint, run by
// deploy/check.sh, checks syntax, expressions and shell): CI runs the README
// test command, AWS is reached only through OIDC roles, images are pushed
// only from main and tags, and production deploys wait for an approval.
package workflows

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/taskd/taskd/deploy/checks/internal/repo"
)

type step struct {
	Name string            `yaml:"name"`
	Uses string            `yaml:"uses"`
	Run  string            `yaml:"run"`
	With map[string]any    `yaml:"with"`
	Env  map[string]string `yaml:"env"`
}

type job struct {
	Uses        string            `yaml:"uses"`
	Needs       any               `yaml:"needs"`
	Permissions map[string]string `yaml:"permissions"`
	Environment any               `yaml:"environment"`
	Steps       []step            `yaml:"steps"`
}

type workflow struct {
	On          map[string]any    `yaml:"on"`
	Permissions map[string]string `yaml:"permissions"`
	Jobs        map[string]job    `yaml:"jobs"`
}

func load(t *testing.T, b []byte) (workflow, error) {
	var w workflow
	// YAML 1.2 (yaml/v3): "on" stays a string key, as GitHub reads it.
	err := yaml.Unmarshal(b, &w)
	return w, err
}

func read(t *testing.T) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob(repo.Path(t, ".github", "workflows", "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no workflows (%v)", err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = b
	}
	return out
}

var longLivedKeys = regexp.MustCompile(`(?i)aws-access-key-id|aws-secret-access-key|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|secrets\.AWS_`)

func policyProblems(t *testing.T, files map[string][]byte) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	wfs := map[string]workflow{}
	for name, b := range files {
		w, err := load(t, b)
		if err != nil {
			bad("%s: %v", name, err)
			continue
		}
		wfs[name] = w
		if longLivedKeys.Match(b) {
			bad("%s: mentions long-lived AWS keys; use OIDC (role-to-assume)", name)
		}
		if w.Permissions["contents"] != "read" || len(w.Permissions) != 1 {
			bad("%s: top-level permissions must be exactly contents: read (jobs widen what they need)", name)
		}
		for jn, j := range w.Jobs {
			usesAWS := false
			for _, s := range j.Steps {
				if strings.HasPrefix(s.Uses, "aws-actions/configure-aws-credentials@") {
					usesAWS = true
					if r, _ := s.With["role-to-assume"].(string); r == "" {
						bad("%s/%s: configure-aws-credentials without role-to-assume", name, jn)
					}
				}
				if s.Uses != "" && !strings.HasPrefix(s.Uses, "./") && !regexp.MustCompile(`@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$`).MatchString(s.Uses) {
					bad("%s/%s: %s is not pinned to a version or commit", name, jn, s.Uses)
				}
			}
			if usesAWS && j.Permissions["id-token"] != "write" {
				bad("%s/%s: uses AWS but lacks permissions id-token: write (OIDC)", name, jn)
			}
			if !usesAWS && j.Permissions["id-token"] == "write" {
				bad("%s/%s: id-token: write without AWS", name, jn)
			}
		}
	}

	ci, ok := wfs["ci.yml"]
	if !ok {
		return append(problems, "ci.yml missing")
	}
	runsTests := false
	for _, j := range ci.Jobs {
		for _, s := range j.Steps {
			if strings.TrimSpace(s.Run) == "bash scripts/test.sh" {
				runsTests = true
			}
		}
	}
	if !runsTests {
		bad("ci.yml: no step runs exactly `bash scripts/test.sh` (the README test command)")
	}
	for _, ev := range []string{"pull_request", "workflow_call"} {
		if _, ok := ci.On[ev]; !ok {
			bad("ci.yml: not triggered by %s", ev)
		}
	}

	rel, ok := wfs["release.yml"]
	if !ok {
		return append(problems, "release.yml missing")
	}
	push, _ := rel.On["push"].(map[string]any)
	branches, _ := push["branches"].([]any)
	tags, _ := push["tags"].([]any)
	if !slices.Equal(branches, []any{"main"}) || !slices.Contains(tags, any("v*")) {
		bad("release.yml: must run on pushes to main and v* tags only (got branches %v, tags %v)", branches, tags)
	}
	if rel.Jobs["test"].Uses != "./.github/workflows/ci.yml" {
		bad("release.yml: job test must reuse ci.yml")
	}
	var pushJob, deployJob string
	for jn, j := range rel.Jobs {
		for _, s := range j.Steps {
			if strings.HasPrefix(s.Uses, "docker/build-push-action@") && fmt.Sprint(s.With["push"]) == "true" {
				pushJob = jn
			}
			if strings.Contains(s.Run, "cdk deploy") {
				deployJob = jn
			}
		}
	}
	needs := func(jn string) []string {
		switch v := rel.Jobs[jn].Needs.(type) {
		case string:
			return []string{v}
		case []any:
			var out []string
			for _, x := range v {
				out = append(out, fmt.Sprint(x))
			}
			return out
		}
		return nil
	}
	switch {
	case pushJob == "":
		bad("release.yml: no job pushes the image")
	case !slices.Contains(needs(pushJob), "test"):
		bad("release.yml: %s pushes an image without needing the tests", pushJob)
	}
	switch {
	case deployJob == "":
		bad("release.yml: no job runs cdk deploy")
	default:
		env := rel.Jobs[deployJob].Environment
		if m, ok := env.(map[string]any); ok {
			env = m["name"]
		}
		if env != "production" {
			bad("release.yml: %s must run in the GitHub environment production (its reviewers approve)", deployJob)
		}
		if !slices.Contains(needs(deployJob), pushJob) {
			bad("release.yml: %s must need %s", deployJob, pushJob)
		}
	}
	return problems
}

func TestWorkflowPolicy(t *testing.T) {
	for _, p := range policyProblems(t, read(t)) {
		t.Error(p)
	}
}

func TestWorkflowPolicyCatchesDefects(t *testing.T) {
	cases := []struct {
		name, file, from, to, want string
	}{
		{"stored keys", "release.yml", "role-to-assume: arn:aws:iam::${{ vars.AWS_ACCOUNT_ID }}:role/${{ env.TASKD_ENV }}-github-build", "aws-access-key-id: ${{ secrets.AWS_ACCESS_KEY_ID }}", "long-lived"},
		{"no approval", "release.yml", "name: production # required reviewers: the manual approval", "name: staging", "environment production"},
		{"no oidc permission", "release.yml", "      id-token: write # OIDC token for configure-aws-credentials\n", "", "id-token: write (OIDC)"},
		{"push from any branch", "release.yml", "branches: [main]", "branches: ['**']", "pushes to main"},
		{"untested image", "release.yml", "    needs: test\n", "", "without needing the tests"},
		{"ci skips tests", "ci.yml", "run: bash scripts/test.sh", "run: go test ./...", "README test command"},
		{"unpinned action", "ci.yml", "actions/checkout@v6", "actions/checkout@main", "not pinned"},
	}
	good := read(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := map[string][]byte{}
			for k, v := range good {
				files[k] = v
			}
			if !strings.Contains(string(files[c.file]), c.from) {
				t.Fatalf("%s no longer contains %q; update this case", c.file, c.from)
			}
			files[c.file] = []byte(strings.Replace(string(files[c.file]), c.from, c.to, 1))
			for _, p := range policyProblems(t, files) {
				if strings.Contains(p, c.want) {
					return
				}
			}
			t.Errorf("defect not caught; want %q", c.want)
		})
	}
}
