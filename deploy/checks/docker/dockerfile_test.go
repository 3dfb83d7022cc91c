// Package docker checks the root Dockerfile and .dockerignore offline, with
// BuildKit's own parser and linter (what `docker build --check` runs) and
// moby's .dockerignore matcher, plus taskd's policy: pinned bases, a static
// build with the version injected, a non-root distroless runtime, OCI labels,
// no HEALTHCHECK and no secrets.
package docker

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	digest "github.com/opencontainers/go-digest"

	"github.com/taskd/taskd/deploy/checks/internal/repo"
)

// dockerfile is the parsed root Dockerfile.
type dockerfile struct {
	src    []byte
	stages []instructions.Stage
}

// parseDockerfile parses src with BuildKit's parser; parser and instruction
// warnings are returned as problems.
func parseDockerfile(src []byte) (dockerfile, []string, error) {
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return dockerfile{}, nil, fmt.Errorf("Dockerfile does not parse: %w", err)
	}
	var problems []string
	for _, w := range res.Warnings {
		problems = append(problems, "parser warning: "+w.Short)
	}
	lint := linter.New(&linter.Config{Warn: func(rule, _, _, msg string, loc []parser.Range) {
		problems = append(problems, fmt.Sprintf("buildkit lint %s (line %d): %s", rule, line(loc), msg))
	}})
	stages, _, err := instructions.Parse(res.AST, lint)
	if err != nil {
		return dockerfile{}, nil, fmt.Errorf("Dockerfile instructions: %w", err)
	}
	return dockerfile{src: src, stages: stages}, problems, nil
}

func line(loc []parser.Range) int {
	if len(loc) == 0 {
		return 0
	}
	return loc[0].Start.Line
}

// offlineResolver answers BuildKit's image look-ups with an empty image
// config, so that linting never touches a registry; it records every image
// the Dockerfile refers to.
type offlineResolver struct{ refs []string }

func (o *offlineResolver) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	o.refs = append(o.refs, ref)
	return ref, digest.FromString(ref), []byte(`{"architecture":"amd64","os":"linux","config":{}}`), nil
}

// buildkitLint runs every BuildKit lint rule (docker build --check) on src.
func buildkitLint(t *testing.T, src []byte) (warnings []string, images []string) {
	t.Helper()
	ctx := context.Background()
	st := llb.Local("dockerfile")
	sm := llb.NewSourceMap(&st, "Dockerfile", "", src)
	def, err := st.Marshal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sm.Definition = def
	r := &offlineResolver{}
	res, err := dockerfile2llb.DockerfileLint(ctx, src, dockerfile2llb.ConvertOpt{SourceMap: sm, MetaResolver: r})
	if err != nil {
		t.Fatalf("buildkit lint: %v", err)
	}
	if res.Error != nil {
		warnings = append(warnings, "error: "+res.Error.Message)
	}
	for _, w := range res.Warnings {
		l := 0
		if w.Location != nil && len(w.Location.Ranges) > 0 {
			l = int(w.Location.Ranges[0].Start.Line)
		}
		warnings = append(warnings, fmt.Sprintf("%s (line %d): %s", w.RuleName, l, w.Detail))
	}
	return warnings, r.refs
}

func TestDockerfileBuildKitCheck(t *testing.T) {
	src := repo.Read(t, "Dockerfile")
	warnings, images := buildkitLint(t, src)
	for _, w := range warnings {
		t.Errorf("docker build --check: %s", w)
	}
	if len(images) < 2 {
		t.Errorf("BuildKit resolved %d base images (%v), want a builder and a runtime", len(images), images)
	}
}

func TestDockerfilePolicy(t *testing.T) {
	problems := dockerfileProblems(repo.Read(t, "Dockerfile"), goVersion(t))
	for _, p := range problems {
		t.Error(p)
	}
}

// goVersion is the go line of the root go.mod, e.g. 1.26.8.
func goVersion(t *testing.T) string {
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+(?:\.\d+)?)\s*$`).FindSubmatch(repo.Read(t, "go.mod"))
	if m == nil {
		t.Fatal("go.mod has no go line")
	}
	return string(m[1])
}

var (
	ociLabels      = []string{"org.opencontainers.image.title", "org.opencontainers.image.source", "org.opencontainers.image.version", "org.opencontainers.image.revision"}
	secretName     = regexp.MustCompile(`(?i)(secret|passw|token|api_?key|private_?key|credential|aws_access_key_id|dsn)`)
	secretFiles    = regexp.MustCompile(`(?i)(^|/)(\.env(\..*)?|id_rsa|id_ed25519|.*\.pem|.*\.key|credentials|\.aws|\.netrc|kubeconfig)$`)
	allowedRuntime = []*regexp.Regexp{
		regexp.MustCompile(`^gcr\.io/distroless/static(-debian\d+)?:nonroot(@sha256:[0-9a-f]{64})?$`),
		regexp.MustCompile(`^docker\.io/library/alpine:\d+\.\d+\.\d+(@sha256:[0-9a-f]{64})?$`),
	}
)

// dockerfileProblems applies taskd's policy to a Dockerfile; each string is
// one defect. goVersion is the root go.mod's go line.
func dockerfileProblems(src []byte, goVersion string) []string {
	df, problems, err := parseDockerfile(src)
	if err != nil {
		return []string{err.Error()}
	}
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	if len(df.stages) < 2 {
		bad("want a multi-stage build (builder + runtime), found %d stage(s)", len(df.stages))
		return problems
	}
	stageNames := map[string]bool{}
	var builderSeen bool
	for i, st := range df.stages {
		last := i == len(df.stages)-1
		base := st.BaseName
		if stageNames[strings.ToLower(base)] {
			// FROM an earlier stage: nothing to pin.
		} else {
			ref, err := reference.ParseNormalizedNamed(base)
			if err != nil {
				bad("stage %d: FROM %q is not an image reference: %v", i, base, err)
				continue
			}
			tagged, hasTag := ref.(reference.Tagged)
			_, hasDigest := ref.(reference.Digested)
			switch {
			case !hasTag && !hasDigest:
				bad("stage %d: FROM %s is not pinned (give a version tag or a digest)", i, base)
			case hasTag && !hasDigest && (tagged.Tag() == "latest" || !regexp.MustCompile(`\d`).MatchString(tagged.Tag())):
				bad("stage %d: FROM %s: tag %q is no version; pin a version or a digest", i, base, tagged.Tag())
			}
			name := reference.FamiliarName(ref)
			if name == "golang" {
				builderSeen = true
				v := ""
				if hasTag {
					v = strings.SplitN(tagged.Tag(), "-", 2)[0]
				}
				if v != goVersion {
					bad("stage %d: builder golang:%s does not match go.mod's go %s", i, v, goVersion)
				}
			}
			if last {
				canonical := reference.TagNameOnly(ref).String()
				if !slices.ContainsFunc(allowedRuntime, func(re *regexp.Regexp) bool { return re.MatchString(canonical) }) {
					bad("runtime stage FROM %s: want distroless static :nonroot or a pinned alpine", base)
				}
			}
		}
		if st.Name != "" {
			stageNames[strings.ToLower(st.Name)] = true
		}

		var user string
		labels := map[string]string{}
		env := map[string]string{}
		var entrypoint, cmd *instructions.ShellDependantCmdLine
		var exposed []string
		for _, c := range st.Commands {
			switch c := c.(type) {
			case *instructions.HealthCheckCommand:
				bad("stage %d: HEALTHCHECK found; orchestrators probe /healthz and /readyz instead", i)
			case *instructions.UserCommand:
				user = c.User
			case *instructions.LabelCommand:
				for _, kv := range c.Labels {
					labels[kv.Key] = kv.Value
				}
			case *instructions.EnvCommand:
				for _, kv := range c.Env {
					env[kv.Key] = kv.Value
					if secretName.MatchString(kv.Key) {
						bad("stage %d: ENV %s looks like a secret; secrets come from the orchestrator at run time", i, kv.Key)
					}
				}
			case *instructions.ArgCommand:
				for _, a := range c.Args {
					if secretName.MatchString(a.Key) {
						bad("stage %d: ARG %s looks like a secret; build args end up in the image history", i, a.Key)
					}
				}
			case *instructions.CopyCommand:
				if c.From != "" && !stageNames[strings.ToLower(c.From)] {
					bad("stage %d: COPY --from=%s names no earlier stage", i, c.From)
				}
				for _, s := range c.SourcePaths {
					if secretFiles.MatchString(s) {
						bad("stage %d: COPY %s copies a secret file into the image", i, s)
					}
				}
			case *instructions.AddCommand:
				bad("stage %d: ADD found; use COPY (ADD fetches URLs and unpacks archives)", i)
			case *instructions.RunCommand:
				line := strings.Join(c.CmdLine, " ")
				if strings.Contains(line, "go build") {
					checkGoBuild(line, bad)
				}
				if regexp.MustCompile(`\b(curl|wget)\b`).MatchString(line) {
					bad("stage %d: RUN downloads with curl/wget; the build must only use the Go module proxy", i)
				}
			case *instructions.EntrypointCommand:
				entrypoint = &c.ShellDependantCmdLine
			case *instructions.CmdCommand:
				cmd = &c.ShellDependantCmdLine
			case *instructions.ExposeCommand:
				exposed = append(exposed, c.Ports...)
			}
		}
		if !last {
			continue
		}
		// The runtime stage.
		if u := strings.SplitN(user, ":", 2)[0]; user == "" || u == "root" || u == "0" {
			bad("runtime stage: USER is %q; run as a non-root user (e.g. 65532:65532)", user)
		}
		for _, l := range ociLabels {
			if strings.TrimSpace(labels[l]) == "" {
				bad("runtime stage: LABEL %s missing", l)
			}
		}
		if entrypoint == nil || entrypoint.PrependShell {
			bad("runtime stage: ENTRYPOINT must be in exec (JSON) form so SIGTERM reaches taskd")
		} else if !strings.HasSuffix(entrypoint.CmdLine[0], "taskd") {
			bad("runtime stage: ENTRYPOINT %v does not run taskd", entrypoint.CmdLine)
		}
		if cmd == nil || cmd.PrependShell || !slices.Contains(cmd.CmdLine, "serve") {
			bad("runtime stage: CMD must be exec form and run `serve`")
		}
		if env["TASKD_ADDR"] != "0.0.0.0:8080" {
			bad("runtime stage: ENV TASKD_ADDR=%q, want 0.0.0.0:8080 (the binary's default is loopback)", env["TASKD_ADDR"])
		}
		if !slices.ContainsFunc(exposed, func(p string) bool { return p == "8080" || p == "8080/tcp" }) {
			bad("runtime stage: EXPOSE 8080 missing")
		}
	}
	if !builderSeen {
		bad("no golang builder stage")
	}
	return problems
}

func checkGoBuild(line string, bad func(string, ...any)) {
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-s", "-w", "-X main.version=", "./cmd/taskd"} {
		if !strings.Contains(line, want) {
			bad("go build step lacks %q: %s", want, line)
		}
	}
}

func TestDockerignore(t *testing.T) {
	f, err := os.Open(repo.Path(t, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := newIgnoreMatcher(t, f)
	mustExclude := []string{
		".git/HEAD", ".github/workflows/ci.yml", "data/taskd.db", ".env", "deploy/aws/.env.production",
		"node_modules/x/index.js", "deploy/aws/node_modules/aws-cdk-lib/index.js",
		"deploy/local/node_modules/fauxqs/package.json", "deploy/aws/cdk.out/manifest.json",
		"web/node_modules/react/index.js", "tls/server.key", "secrets/prod.pem", "deploy/.bin/promtool",
	}
	for _, p := range mustExclude {
		if !m.excluded(t, p) {
			t.Errorf(".dockerignore lets %s into the build context", p)
		}
	}
	mustInclude := []string{
		"go.mod", "go.sum", "cmd/taskd/main.go", "modules/tasks/module.go", "ports/http/router.go",
		"adapters/prometheus/metrics.go", "deploy/names/names.json", "deploy/names/names.go",
	}
	for _, p := range mustInclude {
		if m.excluded(t, p) {
			t.Errorf(".dockerignore excludes %s, which the build needs", p)
		}
	}
	// Every file that `go build ./cmd/taskd` reads (Go files and embedded
	// files) must be in the context.
	for _, p := range buildInputs(t) {
		if m.excluded(t, p) {
			t.Errorf(".dockerignore excludes %s, which go build ./cmd/taskd reads", p)
		}
	}
}
