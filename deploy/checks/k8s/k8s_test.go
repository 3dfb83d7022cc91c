// Package k8s renders the kustomize overlays of deploy/k8s with kustomize's
// Go API (what `kubectl kustomize` runs) and decodes every rendered object
// strictly with the Kubernetes API types: an unknown or misspelled field, a
// wrong type or an unknown kind fails. It then checks what taskd needs:
// security context, probes, resources, references between objects, IRSA.
package k8s

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/taskd/taskd/deploy/checks/internal/repo"
	"github.com/taskd/taskd/deploy/names"
)

// Overlays that must render and pass.
var overlays = []string{"overlays/staging", "overlays/production"}

var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, autoscalingv2.AddToScheme,
		policyv1.AddToScheme, networkingv1.AddToScheme,
	} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return s
}()

// strict decodes with unknown-field and duplicate-field errors.
var strict = serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()

// rendered is one overlay's output, decoded.
type rendered struct {
	objects     []runtime.Object
	deployments map[string]*appsv1.Deployment
	services    map[string]*corev1.Service
	configMaps  map[string]*corev1.ConfigMap
	accounts    map[string]*corev1.ServiceAccount
	ingresses   []*networkingv1.Ingress
	hpas        []*autoscalingv2.HorizontalPodAutoscaler
	pdbs        []*policyv1.PodDisruptionBudget
	namespaces  []*corev1.Namespace
}

// render runs kustomize on dir of fsys and decodes every object strictly.
func render(fsys filesys.FileSystem, dir string) (*rendered, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	resMap, err := k.Run(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	r := &rendered{
		deployments: map[string]*appsv1.Deployment{}, services: map[string]*corev1.Service{},
		configMaps: map[string]*corev1.ConfigMap{}, accounts: map[string]*corev1.ServiceAccount{},
	}
	var errs []string
	for _, res := range resMap.Resources() {
		js, err := res.MarshalJSON()
		if err != nil {
			return nil, err
		}
		obj, gvk, err := strict.Decode(js, nil, nil)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s %s: %v", res.GetKind(), res.GetName(), err))
			continue
		}
		r.objects = append(r.objects, obj)
		switch o := obj.(type) {
		case *appsv1.Deployment:
			r.deployments[o.Name] = o
		case *corev1.Service:
			r.services[o.Name] = o
		case *corev1.ConfigMap:
			r.configMaps[o.Name] = o
		case *corev1.ServiceAccount:
			r.accounts[o.Name] = o
		case *networkingv1.Ingress:
			r.ingresses = append(r.ingresses, o)
		case *autoscalingv2.HorizontalPodAutoscaler:
			r.hpas = append(r.hpas, o)
		case *policyv1.PodDisruptionBudget:
			r.pdbs = append(r.pdbs, o)
		case *corev1.Namespace:
			r.namespaces = append(r.namespaces, o)
		case *networkingv1.NetworkPolicy:
		default:
			errs = append(errs, fmt.Sprintf("%s: kind %s is not checked; add it to the scheme and the checks", res.GetName(), gvk))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("strict decoding:\n  %s", strings.Join(errs, "\n  "))
	}
	return r, nil
}

func TestOverlaysRenderAndPass(t *testing.T) {
	fsys := filesys.MakeFsOnDisk()
	for _, o := range overlays {
		t.Run(o, func(t *testing.T) {
			r, err := render(fsys, repo.Path(t, "deploy", "k8s", o))
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range problems(r, strings.HasSuffix(o, "production")) {
				t.Error(p)
			}
		})
	}
}

// Every folder with a kustomization is an overlay this test knows.
func TestEveryOverlayIsChecked(t *testing.T) {
	entries, err := os.ReadDir(repo.Path(t, "deploy", "k8s", "overlays"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() && !slices.Contains(overlays, "overlays/"+e.Name()) {
			t.Errorf("overlay %s is not in the checked list", e.Name())
		}
	}
}

var (
	pinnedImage = regexp.MustCompile(`^[a-z0-9.-]+(:\d+)?(/[a-z0-9._-]+)+(:[A-Za-z0-9._-]+|@sha256:[0-9a-f]{64})$`)
	roleARN     = regexp.MustCompile(`^arn:aws:iam::\d{12}:role/[\w+=,.@/-]+$`)
)

func problems(r *rendered, production bool) []string {
	var out []string
	bad := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }

	for _, role := range []string{"api", "worker"} {
		if _, ok := r.deployments["taskd-"+role]; !ok {
			bad("Deployment taskd-%s missing", role)
		}
	}
	for name, d := range r.deployments {
		role := strings.TrimPrefix(name, "taskd-")
		pod := d.Spec.Template.Spec
		sel, err := metaSelector(d.Spec.Selector)
		if err != nil || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			bad("%s: selector does not match its pod labels", name)
		}
		psc := pod.SecurityContext
		if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
			bad("%s: pod securityContext.runAsNonRoot must be true", name)
		}
		if psc == nil || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
			bad("%s: pod securityContext.runAsUser must be a non-zero uid", name)
		}
		if psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			bad("%s: pod seccompProfile must be RuntimeDefault", name)
		}
		if pod.ServiceAccountName == "" || r.accounts[pod.ServiceAccountName] == nil {
			bad("%s: serviceAccountName %q names no rendered ServiceAccount", name, pod.ServiceAccountName)
		}
		if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
			bad("%s: automountServiceAccountToken must be false (IRSA projects its own token)", name)
		}
		writable := map[string]bool{}
		for _, v := range pod.Volumes {
			if v.EmptyDir != nil {
				writable[v.Name] = true
			}
		}
		if len(pod.Containers) == 0 {
			bad("%s: no containers", name)
		}
		for _, c := range pod.Containers {
			where := name + "/" + c.Name
			sc := c.SecurityContext
			switch {
			case sc == nil:
				bad("%s: no securityContext", where)
			default:
				if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
					bad("%s: readOnlyRootFilesystem must be true", where)
				}
				if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
					bad("%s: allowPrivilegeEscalation must be false", where)
				}
				if sc.Privileged != nil && *sc.Privileged {
					bad("%s: privileged", where)
				}
				if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
					bad("%s: capabilities must drop ALL and add none", where)
				}
				if sc.RunAsUser != nil && *sc.RunAsUser == 0 {
					bad("%s: runs as uid 0", where)
				}
			}
			if !pinnedImage.MatchString(c.Image) || strings.HasSuffix(c.Image, ":latest") {
				bad("%s: image %q is not a registry image pinned to a tag or digest", where, c.Image)
			}
			if want := []string{"serve", "--role=" + role}; !slices.Equal(c.Args, want) && !slices.Equal(c.Command, want) {
				bad("%s: args %q, want %q", where, c.Args, want)
			}
			port := int32(0)
			for _, p := range c.Ports {
				if p.Name == "http" {
					port = p.ContainerPort
				}
			}
			if port != 8080 {
				bad("%s: container port named http must be 8080 (TASKD_ADDR)", where)
			}
			checkProbe := func(kind string, p *corev1.Probe, path string) {
				switch {
				case p == nil:
					bad("%s: no %s probe", where, kind)
				case p.HTTPGet == nil:
					bad("%s: %s probe is not an HTTP GET", where, kind)
				case p.HTTPGet.Path != path:
					bad("%s: %s probe path %q, want %q", where, kind, p.HTTPGet.Path, path)
				case p.HTTPGet.Port.String() != "http" && p.HTTPGet.Port.IntValue() != int(port):
					bad("%s: %s probe port %s is not the http port", where, kind, p.HTTPGet.Port.String())
				}
			}
			checkProbe("liveness", c.LivenessProbe, "/healthz")
			checkProbe("readiness", c.ReadinessProbe, "/readyz")
			if c.StartupProbe != nil {
				checkProbe("startup", c.StartupProbe, "/healthz")
			}
			for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				if q, ok := c.Resources.Requests[res]; !ok || q.IsZero() {
					bad("%s: no %s request", where, res)
				}
			}
			if q, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok || q.IsZero() {
				bad("%s: no memory limit", where)
			}
			for _, m := range c.VolumeMounts {
				if !writable[m.Name] && !m.ReadOnly {
					bad("%s: writable mount %s is not an emptyDir", where, m.MountPath)
				}
			}
			// Configuration: a rendered ConfigMap, and secrets by reference.
			config := map[string]string{}
			for _, ef := range c.EnvFrom {
				switch {
				case ef.ConfigMapRef != nil:
					cm := r.configMaps[ef.ConfigMapRef.Name]
					if cm == nil {
						bad("%s: envFrom ConfigMap %q is not rendered", where, ef.ConfigMapRef.Name)
						continue
					}
					for k, v := range cm.Data {
						config[k] = v
					}
				case ef.SecretRef != nil:
					bad("%s: envFrom a whole Secret; reference the keys one by one", where)
				}
			}
			secretEnv := map[string]bool{}
			for _, e := range c.Env {
				if e.Value != "" && regexp.MustCompile(`(?i)secret|password|dsn|token`).MatchString(e.Name) {
					bad("%s: %s has a literal value; secrets come from a Secret", where, e.Name)
				}
				if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
					secretEnv[e.Name] = true
					if e.ValueFrom.SecretKeyRef.Name != "taskd-secrets" {
						bad("%s: %s reads Secret %q; the documented Secret is taskd-secrets", where, e.Name, e.ValueFrom.SecretKeyRef.Name)
					}
				}
			}
			for _, k := range []string{"TASKD_JWT_SECRET", "TASKD_MYSQL_DSN"} {
				if !secretEnv[k] {
					bad("%s: %s must come from a secretKeyRef", where, k)
				}
			}
			want := map[string]string{"TASKD_MODE": "cloud", "TASKD_ADDR": "0.0.0.0:8080", "TASKD_LOG_FORMAT": "json"}
			if production {
				want["TASKD_CREATE_RESOURCES"] = "false"
			}
			for k, v := range want {
				if config[k] != v {
					bad("%s: %s=%q, want %q", where, k, config[k], v)
				}
			}
			if _, err := names.For(config["TASKD_ENV"]); err != nil || config["TASKD_ENV"] == "" {
				bad("%s: TASKD_ENV=%q: %v", where, config["TASKD_ENV"], err)
			}
			for _, k := range []string{"AWS_REGION", "TASKD_PUBLIC_URL", "TASKD_EMAIL_FROM"} {
				if config[k] == "" {
					bad("%s: %s unset", where, k)
				}
			}
		}
	}

	// IRSA.
	for name, sa := range r.accounts {
		if arn := sa.Annotations["eks.amazonaws.com/role-arn"]; !roleARN.MatchString(arn) {
			bad("ServiceAccount %s: eks.amazonaws.com/role-arn %q is not an IAM role ARN", name, arn)
		}
	}

	// Service → api pods; Ingress → Service port.
	api := r.deployments["taskd-api"]
	svc := r.services["taskd-api"]
	switch {
	case svc == nil:
		bad("Service taskd-api missing")
	case api != nil:
		if len(svc.Spec.Selector) == 0 || !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(api.Spec.Template.Labels)) {
			bad("Service taskd-api does not select the api pods")
		}
		if w := r.deployments["taskd-worker"]; w != nil && labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(w.Spec.Template.Labels)) {
			bad("Service taskd-api also selects the worker pods")
		}
	}
	if len(r.ingresses) == 0 {
		bad("no Ingress")
	}
	for _, ing := range r.ingresses {
		if ing.Spec.IngressClassName == nil || *ing.Spec.IngressClassName != "alb" {
			bad("Ingress %s: ingressClassName must be alb (AWS Load Balancer Controller)", ing.Name)
		}
		for _, k := range []string{"alb.ingress.kubernetes.io/scheme", "alb.ingress.kubernetes.io/target-type", "alb.ingress.kubernetes.io/healthcheck-path"} {
			if ing.Annotations[k] == "" {
				bad("Ingress %s: annotation %s missing", ing.Name, k)
			}
		}
		if p := ing.Annotations["alb.ingress.kubernetes.io/healthcheck-path"]; p != "" && p != "/readyz" {
			bad("Ingress %s: ALB health check path %q, want /readyz", ing.Name, p)
		}
		if production && ing.Annotations["alb.ingress.kubernetes.io/certificate-arn"] == "" {
			bad("Ingress %s: production needs alb.ingress.kubernetes.io/certificate-arn", ing.Name)
		}
		for _, rule := range ing.Spec.Rules {
			if rule.HTTP == nil {
				continue
			}
			for _, p := range rule.HTTP.Paths {
				b := p.Backend.Service
				if b == nil {
					bad("Ingress %s: a path without a service backend", ing.Name)
					continue
				}
				s := r.services[b.Name]
				if s == nil {
					bad("Ingress %s: backend Service %q is not rendered", ing.Name, b.Name)
					continue
				}
				if !slices.ContainsFunc(s.Spec.Ports, func(sp corev1.ServicePort) bool {
					return (b.Port.Name != "" && sp.Name == b.Port.Name) || (b.Port.Number != 0 && sp.Port == b.Port.Number)
				}) {
					bad("Ingress %s: Service %s has no port %v", ing.Name, b.Name, b.Port)
				}
			}
		}
	}

	// HPA and PDB per role.
	for _, role := range []string{"api", "worker"} {
		d := r.deployments["taskd-"+role]
		if d == nil {
			continue
		}
		if !slices.ContainsFunc(r.hpas, func(h *autoscalingv2.HorizontalPodAutoscaler) bool {
			return h.Spec.ScaleTargetRef.Kind == "Deployment" && h.Spec.ScaleTargetRef.Name == d.Name
		}) {
			bad("no HorizontalPodAutoscaler targets Deployment %s", d.Name)
		}
		if !slices.ContainsFunc(r.pdbs, func(p *policyv1.PodDisruptionBudget) bool {
			sel, err := metaSelector(p.Spec.Selector)
			return err == nil && !sel.Empty() && sel.Matches(labels.Set(d.Spec.Template.Labels))
		}) {
			bad("no PodDisruptionBudget selects the pods of %s", d.Name)
		}
	}
	for _, h := range r.hpas {
		if r.deployments[h.Spec.ScaleTargetRef.Name] == nil {
			bad("HPA %s targets %s %s, which is not rendered", h.Name, h.Spec.ScaleTargetRef.Kind, h.Spec.ScaleTargetRef.Name)
		}
		if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas < 1 || h.Spec.MaxReplicas < *h.Spec.MinReplicas {
			bad("HPA %s: replicas bounds are wrong", h.Name)
		}
		if production && (h.Spec.MinReplicas == nil || *h.Spec.MinReplicas < 2) {
			bad("HPA %s: production keeps at least 2 replicas (one per zone)", h.Name)
		}
	}
	return out
}

func metaSelector(s *metav1.LabelSelector) (labels.Selector, error) {
	if s == nil {
		return labels.Nothing(), nil
	}
	return metav1.LabelSelectorAsSelector(s)
}

// readTree copies deploy/k8s into an in-memory file system, so tests can
// render mutated copies.
func readTree(t *testing.T) filesys.FileSystem {
	t.Helper()
	mem := filesys.MakeFsInMemory()
	root := repo.Path(t, "deploy", "k8s")
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return mem.WriteFile(p, b)
	})
	if err != nil {
		t.Fatal(err)
	}
	return mem
}
