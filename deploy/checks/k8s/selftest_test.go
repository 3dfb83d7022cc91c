package k8s

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/taskd/taskd/deploy/checks/internal/repo"
)

// The checks must fail on real defects: each mutation of one file of
// deploy/k8s, rendered through the production overlay, must be reported.
func TestK8sChecksCatchDefects(t *testing.T) {
	mutations := []struct {
		name, file, from, to, want string
	}{
		{"misspelled field", "base/deployment-api.yaml", "readinessProbe:", "readinesProbe:", "unknown field"},
		{"wrong type", "base/deployment-api.yaml", "terminationGracePeriodSeconds: 45", "terminationGracePeriodSeconds: soon", "terminationGracePeriodSeconds"},
		{"root allowed", "base/deployment-worker.yaml", "        runAsNonRoot: true\n        runAsUser", "        runAsNonRoot: false\n        runAsUser", "runAsNonRoot"},
		{"writable root fs", "base/deployment-api.yaml", "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false", "readOnlyRootFilesystem"},
		{"capabilities kept", "base/deployment-worker.yaml", `drop: ["ALL"]`, `drop: ["NET_RAW"]`, "drop ALL"},
		{"liveness on readyz", "base/deployment-api.yaml", "            httpGet:\n              path: /healthz\n              port: http\n            periodSeconds: 10", "            httpGet:\n              path: /readyz\n              port: http\n            periodSeconds: 10", "liveness probe path"},
		{"no readiness", "base/deployment-worker.yaml", "          readinessProbe:\n            httpGet:\n              path: /readyz\n              port: http\n            periodSeconds: 5\n            timeoutSeconds: 2\n            failureThreshold: 2\n", "", "no readiness probe"},
		{"service selects nothing", "base/service.yaml", "    app.kubernetes.io/component: api\n  ports", "    app.kubernetes.io/component: apí\n  ports", "does not select the api pods"},
		{"hpa to nowhere", "base/hpa.yaml", "name: taskd-worker\n  minReplicas", "name: taskd-workers\n  minReplicas", "no HorizontalPodAutoscaler targets Deployment taskd-worker"},
		{"no irsa", "overlays/production/kustomization.yaml", "value: arn:aws:iam::123456789012:role/taskd-production-app", "value: taskd-production-app", "not an IAM role ARN"},
		{"literal secret", "base/deployment-api.yaml", "            - name: GOMEMLIMIT", "            - name: TASKD_SMTP_PASSWORD\n              value: hunter2\n            - name: GOMEMLIMIT", "literal value"},
		{"resources dropped", "base/deployment-worker.yaml", "            requests:\n              cpu: 100m\n              memory: 192Mi\n", "", "no cpu request"},
		{"unpinned image", "overlays/production/kustomization.yaml", "newTag: 1.0.0", "newTag: latest", "not a registry image pinned"},
		{"wrong role", "base/deployment-worker.yaml", `args: ["serve", "--role=worker"]`, `args: ["serve", "--role=all"]`, "--role=worker"},
		{"creates resources in production", "base/kustomization.yaml", "TASKD_CREATE_RESOURCES=false", "TASKD_CREATE_RESOURCES=true", "TASKD_CREATE_RESOURCES"},
		{"unknown kind", "base/kustomization.yaml", "  - networkpolicy.yaml\n", "  - networkpolicy.yaml\n  - extra.yaml\n", `no kind "CronJob"`},
	}
	for _, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			fsys := readTree(t)
			path := repo.Path(t, "deploy", "k8s", filepath.FromSlash(m.file))
			b, err := fsys.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), m.from) {
				t.Fatalf("%s no longer contains %q; update this mutation", m.file, m.from)
			}
			if err := fsys.WriteFile(path, []byte(strings.Replace(string(b), m.from, m.to, 1))); err != nil {
				t.Fatal(err)
			}
			if m.name == "unknown kind" {
				extra := "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: x\nspec:\n  schedule: '* * * * *'\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n          containers: [{name: x, image: x}]\n"
				if err := fsys.WriteFile(repo.Path(t, "deploy", "k8s", "base", "extra.yaml"), []byte(extra)); err != nil {
					t.Fatal(err)
				}
			}
			var issues []string
			r, err := render(fsys, repo.Path(t, "deploy", "k8s", "overlays", "production"))
			if err != nil {
				issues = []string{err.Error()}
			} else {
				issues = problems(r, true)
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
