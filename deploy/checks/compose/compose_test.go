// Package compose checks deploy/compose/compose.yaml offline with compose-go,
// the loader docker compose itself uses (schema validation, interpolation,
// merge keys, consistency), and taskd's expectations of the local stack.
package compose

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/distribution/reference"
	"sigs.k8s.io/yaml"

	"github.com/taskd/taskd/deploy/checks/internal/repo"
	"github.com/taskd/taskd/deploy/names"
)

func load(t *testing.T, content []byte) (*types.Project, error) {
	t.Helper()
	dir := repo.Path(t, "deploy", "compose")
	return loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  dir,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(dir, "compose.yaml"), Content: content}},
		Environment: types.Mapping{}, // defaults only: no developer's variables leak in
	}, func(o *loader.Options) { o.SetProjectName("taskd", true) })
}

func TestComposeStack(t *testing.T) {
	p, err := load(t, repo.Read(t, "deploy", "compose", "compose.yaml"))
	if err != nil {
		t.Fatalf("compose-go rejects compose.yaml: %v", err)
	}
	for _, problem := range stackProblems(t, p) {
		t.Error(problem)
	}
}

// Services the local stack must have; the roles of taskd's processes.
var (
	wantServices = []string{"api", "worker", "migrate", "mysql", "fauxqs", "dynamodb", "prometheus", "grafana"}
	wantCommand  = map[string][]string{
		"api":     {"serve", "--role=api"},
		"worker":  {"serve", "--role=worker"},
		"migrate": {"migrate"},
	}
	// Where each stand-in listens inside the compose network.
	servicePorts = map[string]string{"mysql": "3306", "fauxqs": "4566", "dynamodb": "8000", "prometheus": "9090", "api": "8080", "worker": "8080"}
)

func stackProblems(t *testing.T, p *types.Project) []string {
	t.Helper()
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	root := repo.Root(t)

	for _, name := range wantServices {
		if _, ok := p.Services[name]; !ok {
			bad("service %s missing", name)
		}
	}
	for name, svc := range p.Services {
		// Images: ours are built from the root Dockerfile, the rest pinned.
		if svc.Build != nil {
			ctx := svc.Build.Context
			if filepath.Clean(ctx) != root {
				bad("%s: build context %s, want the repository root", name, ctx)
			}
			if _, err := os.Stat(filepath.Join(ctx, svc.Build.Dockerfile)); err != nil {
				bad("%s: Dockerfile %s: %v", name, svc.Build.Dockerfile, err)
			}
		} else if problem := pinned(svc.Image); problem != "" {
			bad("%s: %s", name, problem)
		}
		// Bind mounts must name files of the repository.
		for _, v := range svc.Volumes {
			if v.Type == types.VolumeTypeBind {
				if _, err := os.Stat(v.Source); err != nil {
					bad("%s: bind mount source %s does not exist", name, v.Source)
				} else if !v.ReadOnly {
					bad("%s: bind mount %s should be read-only", name, v.Source)
				}
			}
		}
		for dep, d := range svc.DependsOn {
			target, ok := p.Services[dep]
			if !ok {
				bad("%s depends on unknown service %s", name, dep)
				continue
			}
			if d.Condition == types.ServiceConditionHealthy && target.HealthCheck == nil {
				bad("%s waits for %s to be healthy, but %s has no healthcheck", name, dep, dep)
			}
		}
	}

	for name, want := range wantCommand {
		svc, ok := p.Services[name]
		if !ok {
			continue
		}
		if svc.Build == nil {
			bad("%s: must be built from the repository's Dockerfile", name)
		}
		if !slices.Equal(svc.Command, want) {
			bad("%s: command %q, want %q", name, svc.Command, want)
		}
		env := func(k string) string {
			if v, ok := svc.Environment[k]; ok && v != nil {
				return *v
			}
			return ""
		}
		for k, want := range map[string]string{"TASKD_MODE": "cloud", "TASKD_ADDR": "0.0.0.0:8080", "TASKD_CREATE_RESOURCES": "true"} {
			if got := env(k); got != want {
				bad("%s: %s=%q, want %q", name, k, got, want)
			}
		}
		if _, err := names.For(env("TASKD_ENV")); err != nil {
			bad("%s: %v", name, err)
		}
		if env("AWS_REGION") == "" {
			bad("%s: AWS_REGION unset", name)
		}
		if len(env("TASKD_JWT_SECRET")) < 32 {
			bad("%s: TASKD_JWT_SECRET must be at least 32 characters (cmd/taskd rejects shorter)", name)
		}
		// Endpoints: each must reach a service of this file on its port.
		for _, k := range []string{"AWS_ENDPOINT_URL_SNS", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_DYNAMODB"} {
			u, err := url.Parse(env(k))
			if err != nil || u.Host == "" {
				bad("%s: %s=%q is not a URL", name, k, env(k))
				continue
			}
			problems = append(problems, reachable(p, name, k, u.Hostname(), u.Port())...)
		}
		dsn := regexp.MustCompile(`^[^:@]+(:[^@]*)?@tcp\(([^:)]+):(\d+)\)/\w+`).FindStringSubmatch(env("TASKD_MYSQL_DSN"))
		if dsn == nil {
			bad("%s: TASKD_MYSQL_DSN=%q is not user:pass@tcp(host:port)/db", name, env("TASKD_MYSQL_DSN"))
		} else {
			problems = append(problems, reachable(p, name, "TASKD_MYSQL_DSN", dsn[2], dsn[3])...)
			if _, ok := svc.DependsOn[dsn[2]]; !ok {
				bad("%s: does not depend on its database %s", name, dsn[2])
			}
		}
		if name != "migrate" {
			if d, ok := svc.DependsOn["migrate"]; !ok || d.Condition != types.ServiceConditionCompletedSuccessfully {
				bad("%s: must wait for migrate to complete successfully", name)
			}
		}
	}
	if api, ok := p.Services["api"]; ok && !slices.ContainsFunc(api.Ports, func(pc types.ServicePortConfig) bool {
		return pc.Target == 8080 && pc.Published == "8080"
	}) {
		bad("api: port 8080 is not published")
	}

	problems = append(problems, prometheusTargets(t, p)...)
	problems = append(problems, grafanaMounts(t, p)...)
	return problems
}

func pinned(image string) string {
	ref, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return fmt.Sprintf("image %q: %v", image, err)
	}
	if _, ok := ref.(reference.Digested); ok {
		return ""
	}
	tagged, ok := ref.(reference.Tagged)
	if !ok || tagged.Tag() == "latest" || !regexp.MustCompile(`\d`).MatchString(tagged.Tag()) {
		return fmt.Sprintf("image %q is not pinned to a version", image)
	}
	return ""
}

func reachable(p *types.Project, from, what, host, port string) []string {
	if _, ok := p.Services[host]; !ok {
		return []string{fmt.Sprintf("%s: %s points at %s, which is no service of the stack", from, what, net.JoinHostPort(host, port))}
	}
	if want := servicePorts[host]; want != "" && port != want {
		return []string{fmt.Sprintf("%s: %s uses port %s of %s, which listens on %s", from, what, port, host, want)}
	}
	return nil
}

// prometheusTargets: every scrape target of deploy/prometheus/prometheus.yml
// (except Prometheus itself) is a service of the stack on its port, and both
// taskd roles are scraped.
func prometheusTargets(t *testing.T, p *types.Project) []string {
	var cfg struct {
		ScrapeConfigs []struct {
			JobName       string `json:"job_name"`
			StaticConfigs []struct {
				Targets []string          `json:"targets"`
				Labels  map[string]string `json:"labels"`
			} `json:"static_configs"`
		} `json:"scrape_configs"`
	}
	if err := yaml.Unmarshal(repo.Read(t, "deploy", "prometheus", "prometheus.yml"), &cfg); err != nil {
		return []string{fmt.Sprintf("prometheus.yml: %v", err)}
	}
	var problems []string
	roles := map[string]bool{}
	for _, sc := range cfg.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			for _, target := range st.Targets {
				host, port, err := net.SplitHostPort(target)
				if err != nil {
					problems = append(problems, fmt.Sprintf("prometheus.yml: target %q: %v", target, err))
					continue
				}
				if host == "localhost" {
					continue
				}
				problems = append(problems, reachable(p, "prometheus", "scrape target", host, port)...)
				if sc.JobName == "taskd" {
					roles[st.Labels["role"]] = true
				}
			}
		}
	}
	for _, r := range []string{"api", "worker"} {
		if !roles[r] {
			problems = append(problems, fmt.Sprintf("prometheus.yml: job taskd does not scrape the %s role (label role=%s)", r, r))
		}
	}
	return problems
}

// grafanaMounts: the provisioning folder and the dashboards folder are
// mounted where the provisioning files say.
func grafanaMounts(t *testing.T, p *types.Project) []string {
	g, ok := p.Services["grafana"]
	if !ok {
		return nil
	}
	var provider struct {
		Providers []struct {
			Options struct {
				Path string `json:"path"`
			} `json:"options"`
		} `json:"providers"`
	}
	if err := yaml.Unmarshal(repo.Read(t, "deploy", "grafana", "provisioning", "dashboards", "taskd.yml"), &provider); err != nil {
		return []string{fmt.Sprintf("grafana dashboards provider: %v", err)}
	}
	targets := map[string]string{}
	for _, v := range g.Volumes {
		targets[v.Target] = v.Source
	}
	var problems []string
	if src := targets["/etc/grafana/provisioning"]; src != repo.Path(t, "deploy", "grafana", "provisioning") {
		problems = append(problems, fmt.Sprintf("grafana: /etc/grafana/provisioning is mounted from %q", src))
	}
	for _, pr := range provider.Providers {
		if src := targets[pr.Options.Path]; src != repo.Path(t, "deploy", "grafana", "dashboards") {
			problems = append(problems, fmt.Sprintf("grafana: the dashboards provider reads %s, which is mounted from %q, not deploy/grafana/dashboards", pr.Options.Path, src))
		}
	}
	var ds struct {
		Datasources []struct {
			URL string `json:"url"`
		} `json:"datasources"`
	}
	if err := yaml.Unmarshal(repo.Read(t, "deploy", "grafana", "provisioning", "datasources", "prometheus.yml"), &ds); err != nil {
		return append(problems, fmt.Sprintf("grafana datasource: %v", err))
	}
	for _, d := range ds.Datasources {
		u, err := url.Parse(d.URL)
		if err != nil {
			problems = append(problems, fmt.Sprintf("grafana datasource url %q: %v", d.URL, err))
			continue
		}
		problems = append(problems, reachable(p, "grafana", "datasource", u.Hostname(), u.Port())...)
	}
	return problems
}

// The checks must fail on real defects.
func TestComposeChecksCatchDefects(t *testing.T) {
	good := string(repo.Read(t, "deploy", "compose", "compose.yaml"))
	mutations := []struct {
		name, from, to, want string
	}{
		{"misspelled key", "    environment:\n      MYSQL_DATABASE", "    enviroment:\n      MYSQL_DATABASE", "enviroment"},
		{"unpinned image", "image: mysql:8.4.8", "image: mysql:latest", "not pinned"},
		{"untagged image", "image: grafana/grafana:12.4.0", "image: grafana/grafana", "not pinned"},
		{"wrong role", `command: ["serve", "--role=worker"]`, `command: ["serve", "--role=all"]`, "want [\"serve\" \"--role=worker\"]"},
		{"endpoint to nowhere", "AWS_ENDPOINT_URL_SQS: http://fauxqs:4566", "AWS_ENDPOINT_URL_SQS: http://sqs:4566", "no service of the stack"},
		{"wrong port", "AWS_ENDPOINT_URL_DYNAMODB: http://dynamodb:8000", "AWS_ENDPOINT_URL_DYNAMODB: http://dynamodb:4566", "listens on 8000"},
		{"missing mount", "../prometheus/rules.yml:", "../prometheus/alerts.yml:", "does not exist"},
		{"loopback address", "TASKD_ADDR: 0.0.0.0:8080", "TASKD_ADDR: 127.0.0.1:8080", "TASKD_ADDR"},
		{"no migration wait", "    migrate:\n      condition: service_completed_successfully\n", "", "wait for migrate"},
		{"unknown dependency", "      - prometheus\n\nvolumes:", "      - prometheus\n      - loki\n\nvolumes:", "loki"},
		{"dashboards not mounted", "../grafana/dashboards:/var/lib/grafana/dashboards:ro", "../grafana/dashboards:/dashboards:ro", "dashboards provider"},
	}
	for _, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			if !strings.Contains(good, m.from) {
				t.Fatalf("compose.yaml no longer contains %q; update this mutation", m.from)
			}
			p, err := load(t, []byte(strings.Replace(good, m.from, m.to, 1)))
			var issues []string
			if err != nil {
				issues = []string{err.Error()}
			} else {
				issues = stackProblems(t, p)
			}
			for _, i := range issues {
				if strings.Contains(i, m.want) {
					return
				}
			}
			t.Errorf("mutation not caught; want an issue containing %q, got %q", m.want, issues)
		})
	}
}
