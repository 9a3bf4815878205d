package install

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// The chart's dry-run renderings go into chartNamespace as release chartRelease; TestChartInstalls
// installs it for real as release helmRelease in helmNamespace. Both namespaces enforce "restricted".
const (
	chartNamespace = "orgsync-chart"
	chartRelease   = "orgsync-chart" // contains the chart name, so it is also the name prefix
	helmNamespace  = "orgsync-helm"
	helmRelease    = "orgsync-helm"
)

type chartCase struct {
	name           string
	flags          []string
	metrics        bool
	serviceMonitor bool
	helpers        bool
	crdKeep        bool
	replicas       int32
	// wantArgs are manager flags that must be present, beyond the ones every case checks.
	wantArgs []string
	check    func(t *testing.T, dep *appsv1.Deployment)
}

var chartCases = []chartCase{
	{
		name: "default values", metrics: true, helpers: true, crdKeep: true, replicas: 1,
		wantArgs: []string{"--zap-log-level=info"},
		check: func(t *testing.T, dep *appsv1.Deployment) {
			for _, arg := range dep.Spec.Template.Spec.Containers[0].Args {
				if strings.HasPrefix(arg, "--secret-poll-interval") {
					t.Errorf("%s is passed; by default the manager's own default applies", arg)
				}
				if strings.HasPrefix(arg, "--allow-private-addresses") {
					t.Errorf("%s is passed; private addresses must be refused by default", arg)
				}
			}
			if got := dep.Spec.Template.Spec.Containers[0].Image; got != "orgsync/controller:latest" {
				t.Errorf("image %q, want orgsync/controller:latest (the chart's appVersion)", got)
			}
		},
	},
	{
		name:    "metrics and ServiceMonitor off",
		flags:   []string{"--set", "metrics.enabled=false", "--set", "serviceMonitor.enabled=false"},
		metrics: false, helpers: true, crdKeep: true, replicas: 1,
		wantArgs: []string{"--metrics-bind-address=0"},
	},
	{
		name:    "metrics and ServiceMonitor on",
		flags:   []string{"--set", "metrics.enabled=true", "--set", "serviceMonitor.enabled=true", "--set", "serviceMonitor.interval=30s"},
		metrics: true, serviceMonitor: true, helpers: true, crdKeep: true, replicas: 1,
	},
	{
		name: "two replicas and the other values",
		flags: []string{
			"--set", "replicaCount=2",
			"--set", "logLevel=debug",
			"--set", "secretPollInterval=30s",
			"--set", "allowPrivateAddresses=true",
			"--set-json", `extraArgs=["--max-concurrent-reconciles=8","--zap-encoder=console"]`,
			"--set", "image.repository=registry.example.com/orgsync/controller",
			"--set", "image.tag=v1.2.3",
			"--set", "image.pullPolicy=Always",
			"--set", "resources.limits.memory=256Mi",
			"--set-json", `nodeSelector={"kubernetes.io/os":"linux"}`,
			"--set-json", `tolerations=[{"key":"dedicated","operator":"Equal","value":"ops","effect":"NoSchedule"}]`,
			"--set-json", `affinity={"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":` +
				`[{"matchExpressions":[{"key":"kubernetes.io/arch","operator":"In","values":["amd64","arm64"]}]}]}}}`,
			"--set", "rbacHelpers.enabled=false",
			"--set", "crd.keep=false",
		},
		metrics: true, helpers: false, crdKeep: false, replicas: 2,
		wantArgs: []string{"--zap-log-level=debug", "--secret-poll-interval=30s", "--allow-private-addresses",
			"--max-concurrent-reconciles=8", "--zap-encoder=console"},
		check: func(t *testing.T, dep *appsv1.Deployment) {
			spec := dep.Spec.Template.Spec
			c := spec.Containers[0]
			if c.Image != "registry.example.com/orgsync/controller:v1.2.3" || c.ImagePullPolicy != corev1.PullAlways {
				t.Errorf("image %q pull policy %q", c.Image, c.ImagePullPolicy)
			}
			if got := c.Resources.Limits.Memory().String(); got != "256Mi" {
				t.Errorf("memory limit %s, want 256Mi", got)
			}
			if spec.NodeSelector["kubernetes.io/os"] != "linux" || len(spec.Tolerations) != 1 || spec.Affinity == nil {
				t.Errorf("nodeSelector %v, tolerations %v, affinity %v", spec.NodeSelector, spec.Tolerations, spec.Affinity)
			}
		},
	},
}

// TestChartRenders renders the chart with each set of values, checks the objects and applies them
// with a server-side dry run. The ServiceMonitor is checked but not applied: envtest has no
// prometheus-operator CRDs.
func TestChartRenders(t *testing.T) {
	createRestrictedNamespace(t, chartNamespace)
	for i, tc := range chartCases {
		t.Run(tc.name, func(t *testing.T) {
			docs := helmTemplate(t, chartRelease, chartNamespace, tc.flags...)
			prefix := chartRelease + "-"
			for _, d := range docs {
				if ns := d.obj.GetNamespace(); ns != "" && ns != chartNamespace {
					t.Errorf("%v: namespace %q, want the release namespace %q", d, ns, chartNamespace)
				}
			}
			if n := len(ofKind(docs, "Namespace")); n != 0 {
				t.Errorf("the chart renders %d Namespaces; it should leave the namespace to helm --create-namespace", n)
			}

			dep := onlyDeployment(t, docs)
			if dep.Spec.Replicas == nil || *dep.Spec.Replicas != tc.replicas {
				t.Errorf("replicas %v, want %d", dep.Spec.Replicas, tc.replicas)
			}
			args := dep.Spec.Template.Spec.Containers[0].Args
			metricsArg := "--metrics-bind-address=0"
			if tc.metrics {
				metricsArg = "--metrics-bind-address=:8443"
			}
			for _, want := range append([]string{"--leader-elect", "--health-probe-bind-address=:8081", metricsArg}, tc.wantArgs...) {
				if !contains(args, want) {
					t.Errorf("manager args %q lack %s", args, want)
				}
			}
			if tc.check != nil {
				tc.check(t, dep)
			}
			checkRestrictedSettings(t, dep)
			checkGoMemLimit(t, dep)
			checkWiring(t, docs, chartNamespace, prefix)
			checkRBAC(t, docs, prefix, chartNamespace, rbacExpectations{metrics: tc.metrics, helpers: tc.helpers})
			checkChartCRDs(t, docs, tc.crdKeep)

			services := ofKind(docs, "Service")
			if tc.metrics != (len(services) == 1) || len(services) > 1 {
				t.Errorf("metrics.enabled=%v, but the chart renders %d Services", tc.metrics, len(services))
			}
			monitors := ofKind(docs, "ServiceMonitor")
			if tc.serviceMonitor != (len(monitors) == 1) || len(monitors) > 1 {
				t.Fatalf("serviceMonitor.enabled=%v, but the chart renders %d ServiceMonitors", tc.serviceMonitor, len(monitors))
			}
			if tc.serviceMonitor {
				checkServiceMonitor(t, monitors[0].obj, services[0].obj)
			}

			kubectl(t, joinDocs(without(docs, "ServiceMonitor")), "apply", "--server-side", "--dry-run=server",
				"--field-manager=chart-test", "-f", "-")
			mustAdmit(t, podFromTemplate(dep, chartNamespace, fmt.Sprintf("chart-case-%d", i)))
		})
	}
}

// TestChartInstalls applies the chart's default rendering for real, into a namespace enforcing
// "restricted", and checks what its ServiceAccount may do.
func TestChartInstalls(t *testing.T) {
	createRestrictedNamespace(t, helmNamespace)
	docs := helmTemplate(t, helmRelease, helmNamespace)
	kubectl(t, joinDocs(docs), "apply", "--server-side", "--field-manager=chart-test", "-f", "-")
	assertAllExist(t, docs)
	checkManagerPermissions(t, helmNamespace, helmRelease+"-controller-manager")
	mustAdmit(t, podFromTemplate(onlyDeployment(t, docs), helmNamespace, "chart-manager"))
}

// TestChartRejectsServiceMonitorWithoutMetrics: the ServiceMonitor would scrape a Service that
// is not there.
func TestChartRejectsServiceMonitorWithoutMetrics(t *testing.T) {
	_, err := tryHelmTemplate(t, chartRelease, chartNamespace, "--set", "metrics.enabled=false", "--set", "serviceMonitor.enabled=true")
	if err == nil || !strings.Contains(err.Error(), "serviceMonitor.enabled needs metrics.enabled") {
		t.Fatalf("want helm template to fail with a message about metrics.enabled, got %v", err)
	}
}

// TestChartRejectsUnknownValues: values.schema.json catches a misspelt value instead of ignoring it.
func TestChartRejectsUnknownValues(t *testing.T) {
	_, err := tryHelmTemplate(t, chartRelease, chartNamespace, "--set", "replicas=2")
	if err == nil || !strings.Contains(err.Error(), "replicas") {
		t.Fatalf("want helm template to reject the unknown value 'replicas', got %v", err)
	}
}

// TestChartFilesMatchConfig: the chart renders its CRDs and roles from copies of config/ in
// dist/chart/files; `make helm-chart-files` (part of `make build-installer`) refreshes them.
func TestChartFilesMatchConfig(t *testing.T) {
	compareDirs(t, "config/crd/bases", "*.yaml", "dist/chart/files/crds")
	compareDirs(t, "config/rbac", "*role.yaml", "dist/chart/files/rbac")
}

func compareDirs(t *testing.T, srcDir, pattern, copyDir string) {
	t.Helper()
	names := func(dir, pattern string) []string {
		paths, err := filepath.Glob(filepath.Join(repoRoot, dir, pattern))
		if err != nil {
			t.Fatal(err)
		}
		out := make([]string, 0, len(paths))
		for _, p := range paths {
			out = append(out, filepath.Base(p))
		}
		sort.Strings(out)
		return out
	}
	src, cp := names(srcDir, pattern), names(copyDir, "*")
	if len(src) == 0 {
		t.Fatalf("no %s in %s", pattern, srcDir)
	}
	if !reflect.DeepEqual(src, cp) {
		t.Fatalf("%s holds %v, but %s/%s is %v: run `make build-installer` and commit", copyDir, cp, srcDir, pattern, src)
	}
	for _, name := range src {
		a, err := os.ReadFile(filepath.Join(repoRoot, srcDir, name))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(repoRoot, copyDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s/%s differs from %s/%s: run `make build-installer` and commit", copyDir, name, srcDir, name)
		}
	}
}

// TestChartMatchesInstallYAML: with default values the chart's manager runs like install.yaml's:
// same command, flags, probes, resources and security contexts.
func TestChartMatchesInstallYAML(t *testing.T) {
	install := onlyDeployment(t, parseDocs(t, readRepoFile(t, "dist/install.yaml"))).Spec.Template.Spec
	chart := onlyDeployment(t, helmTemplate(t, "orgsync", installNamespace)).Spec.Template.Spec
	ic, cc := install.Containers[0], chart.Containers[0]
	for _, arg := range ic.Args {
		if !contains(cc.Args, arg) {
			t.Errorf("install.yaml passes %s, the chart does not (%q)", arg, cc.Args)
		}
	}
	same := func(what string, a, b any) {
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s differs:\ninstall.yaml %+v\nchart        %+v", what, a, b)
		}
	}
	same("image", ic.Image, cc.Image)
	same("command", ic.Command, cc.Command)
	same("resources", ic.Resources, cc.Resources)
	same("env", ic.Env, cc.Env)
	same("container securityContext", ic.SecurityContext, cc.SecurityContext)
	same("pod securityContext", install.SecurityContext, chart.SecurityContext)
	same("serviceAccountName", install.ServiceAccountName, chart.ServiceAccountName)
	same("terminationGracePeriodSeconds", install.TerminationGracePeriodSeconds, chart.TerminationGracePeriodSeconds)
	same("liveness probe path", ic.LivenessProbe.HTTPGet.Path, cc.LivenessProbe.HTTPGet.Path)
	same("readiness probe path", ic.ReadinessProbe.HTTPGet.Path, cc.ReadinessProbe.HTTPGet.Path)
	ports := func(c corev1.Container) map[string]int32 {
		m := map[string]int32{}
		for _, p := range c.Ports {
			m[p.Name] = p.ContainerPort
		}
		return m
	}
	same("container ports", ports(ic), ports(cc))
}

// checkChartCRDs: the rendered CRDs are config/crd/bases with labels and, with crd.keep, the
// keep annotation added; nothing else changed.
func checkChartCRDs(t *testing.T, docs []doc, keep bool) {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(repoRoot, "config", "crd", "bases", "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no CRDs in config/crd/bases: %v", err)
	}
	rendered := ofKind(docs, "CustomResourceDefinition")
	if len(rendered) != len(paths) {
		t.Errorf("the chart renders %d CRDs, config/crd/bases holds %d", len(rendered), len(paths))
	}
	for _, p := range paths {
		rel, _ := filepath.Rel(repoRoot, p)
		want := parseDocs(t, readRepoFile(t, rel))[0].obj
		got := mustFind(t, docs, "CustomResourceDefinition", want.GetName())
		if !reflect.DeepEqual(got.Object["spec"], want.Object["spec"]) {
			t.Errorf("CRD %s: the chart's spec differs from %s", want.GetName(), rel)
		}
		for k, v := range want.GetAnnotations() {
			if got.GetAnnotations()[k] != v {
				t.Errorf("CRD %s: annotation %s=%q, want %q", want.GetName(), k, got.GetAnnotations()[k], v)
			}
		}
		if policy := got.GetAnnotations()["helm.sh/resource-policy"]; (policy == "keep") != keep {
			t.Errorf("CRD %s: helm.sh/resource-policy=%q with crd.keep=%v", want.GetName(), policy, keep)
		}
	}
}

// checkServiceMonitor: the ServiceMonitor selects the metrics Service and scrapes its https port.
func checkServiceMonitor(t *testing.T, sm, svc *unstructured.Unstructured) {
	t.Helper()
	sel, _, _ := unstructured.NestedStringMap(sm.Object, "spec", "selector", "matchLabels")
	if len(sel) == 0 {
		t.Errorf("ServiceMonitor has no selector")
	}
	for k, v := range sel {
		if svc.GetLabels()[k] != v {
			t.Errorf("ServiceMonitor selects %s=%s, the metrics Service has labels %v", k, v, svc.GetLabels())
		}
	}
	if sm.GetNamespace() != svc.GetNamespace() {
		t.Errorf("ServiceMonitor in %q, Service in %q", sm.GetNamespace(), svc.GetNamespace())
	}
	endpoints, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
	svcPorts, _, _ := unstructured.NestedSlice(svc.Object, "spec", "ports")
	if len(endpoints) != 1 {
		t.Fatalf("ServiceMonitor endpoints %v, want one", endpoints)
	}
	ep, _ := endpoints[0].(map[string]any)
	found := false
	for _, p := range svcPorts {
		if m, _ := p.(map[string]any); m["name"] == ep["port"] {
			found = true
		}
	}
	if !found || ep["scheme"] != "https" || ep["path"] != "/metrics" {
		t.Errorf("ServiceMonitor endpoint %v does not scrape https /metrics on a port of the Service %v", ep, svcPorts)
	}
}
