package install

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The placeholder API server address of config/network-policy/allow-egress-traffic.yaml, and the
// addresses the chart tests pass as networkPolicy.apiServer.cidrs.
const (
	kustomizeAPIServer = "192.0.2.1"
	chartAPIServerA    = "10.96.0.1"
	chartAPIServerB    = "172.18.0.2"
)

// networkPolicyNamespace receives the kustomize NetworkPolicies for real.
const networkPolicyNamespace = "orgsync-netpol"

// TestNetworkPolicyKustomize enables the commented [NETWORK POLICY] line of config/default in a
// copy of config/, builds it, checks what the policies admit and applies them server-side.
func TestNetworkPolicyKustomize(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, filepath.Join(repoRoot, "config"), dir)
	kustomization := filepath.Join(dir, "default", "kustomization.yaml")
	text, err := os.ReadFile(kustomization)
	if err != nil {
		t.Fatal(err)
	}
	const commented = "#- ../network-policy\n"
	if !bytes.Contains(text, []byte(commented)) {
		t.Fatalf("config/default/kustomization.yaml lacks the line %q that enables the NetworkPolicies", strings.TrimSpace(commented))
	}
	if err := os.WriteFile(kustomization, bytes.Replace(text, []byte(commented), []byte("- ../network-policy\n"), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	docs := parseDocs(t, runTool(t, nil, kustomizeBin, "build", filepath.Join(dir, "default")))

	policies := ofKind(docs, "NetworkPolicy")
	for _, d := range policies {
		if d.obj.GetNamespace() != installNamespace || !strings.HasPrefix(d.obj.GetName(), installPrefix) {
			t.Errorf("%v: want namespace %s and name prefix %s like the other objects", d, installNamespace, installPrefix)
		}
	}
	checkNetworkPolicies(t, policies, onlyDeployment(t, docs), true, []string{kustomizeAPIServer})

	createRestrictedNamespace(t, networkPolicyNamespace)
	moved := make([]doc, 0, len(policies))
	for _, d := range policies {
		obj := d.obj.DeepCopy()
		obj.SetNamespace(networkPolicyNamespace)
		raw, err := json.Marshal(obj.Object)
		if err != nil {
			t.Fatal(err)
		}
		moved = append(moved, doc{raw: raw, obj: obj})
	}
	kubectl(t, joinDocs(moved), "apply", "--server-side", "--field-manager=netpol-test", "-f", "-")
	// What the API server stored (after validation and defaulting) must still admit the same traffic.
	stored := make([]doc, 0, len(moved))
	for _, d := range moved {
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(d.obj.GroupVersionKind())
		must(t, k8s.Get(ctxFor(t), client.ObjectKeyFromObject(d.obj), got))
		stored = append(stored, doc{obj: got})
	}
	checkNetworkPolicies(t, stored, onlyDeployment(t, docs), true, []string{kustomizeAPIServer})
}

// TestChartNetworkPolicy renders the chart with networkPolicy.enabled, checks what the policies
// admit and applies the whole rendering with a server-side dry run.
func TestChartNetworkPolicy(t *testing.T) {
	createRestrictedNamespace(t, chartNamespace)
	cidrs := "--set=networkPolicy.apiServer.cidrs={" + chartAPIServerA + "/32," + chartAPIServerB + "/32}"
	for _, tc := range []struct {
		name    string
		metrics bool
		flags   []string
	}{
		{"metrics on", true, []string{"--set", "networkPolicy.enabled=true", cidrs}},
		{"metrics off", false, []string{"--set", "networkPolicy.enabled=true", "--set", "metrics.enabled=false", cidrs}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			docs := helmTemplate(t, chartRelease, chartNamespace, tc.flags...)
			checkNetworkPolicies(t, ofKind(docs, "NetworkPolicy"), onlyDeployment(t, docs), tc.metrics,
				[]string{chartAPIServerA, chartAPIServerB})
			kubectl(t, joinDocs(without(docs, "ServiceMonitor")), "apply", "--server-side", "--dry-run=server",
				"--field-manager=chart-test", "-f", "-")
		})
	}
}

// TestChartNetworkPolicyOptIn: no NetworkPolicy unless asked for, and none that would cut the
// manager off from the API server because its addresses were not given.
func TestChartNetworkPolicyOptIn(t *testing.T) {
	if n := len(ofKind(helmTemplate(t, chartRelease, chartNamespace), "NetworkPolicy")); n != 0 {
		t.Errorf("default values render %d NetworkPolicies, want none (networkPolicy.enabled defaults to false)", n)
	}
	_, err := tryHelmTemplate(t, chartRelease, chartNamespace, "--set", "networkPolicy.enabled=true")
	if err == nil || !strings.Contains(err.Error(), "networkPolicy.apiServer.cidrs") {
		t.Fatalf("want helm template to fail naming networkPolicy.apiServer.cidrs, got %v", err)
	}
}

// checkNetworkPolicies checks the two policies by the traffic they admit to and from the manager's
// Pods: metrics scrapes from the monitoring namespaces only; DNS, the API server and public HTTPS
// out, and nothing to private, loopback or link-local (cloud metadata) addresses.
func checkNetworkPolicies(t *testing.T, docs []doc, dep *appsv1.Deployment, metrics bool, apiServers []string) {
	t.Helper()
	if len(docs) != 2 {
		t.Fatalf("want 2 NetworkPolicies (ingress, egress), got %v", docs)
	}
	var ingress, egress *networkingv1.NetworkPolicy
	for _, d := range docs {
		np := &networkingv1.NetworkPolicy{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(d.obj.Object, np); err != nil {
			t.Fatalf("convert %v: %v", d, err)
		}
		if len(np.Spec.PodSelector.MatchLabels) == 0 {
			t.Errorf("%v selects every Pod of the namespace; it should select the manager's only", d)
		}
		for k, v := range np.Spec.PodSelector.MatchLabels {
			if dep.Spec.Template.Labels[k] != v {
				t.Errorf("%v selects %s=%s, which the manager's Pods (%v) do not carry", d, k, v, dep.Spec.Template.Labels)
			}
		}
		switch types := np.Spec.PolicyTypes; {
		case len(types) == 1 && types[0] == networkingv1.PolicyTypeIngress:
			ingress = np
		case len(types) == 1 && types[0] == networkingv1.PolicyTypeEgress:
			egress = np
		default:
			t.Errorf("%v has policyTypes %v, want one policy for Ingress and one for Egress", d, types)
		}
	}
	if ingress == nil || egress == nil {
		t.Fatalf("want one Ingress and one Egress policy")
	}
	checkIngress(t, ingress, dep, metrics)
	checkEgress(t, egress, apiServers)
}

func checkIngress(t *testing.T, np *networkingv1.NetworkPolicy, dep *appsv1.Deployment, metrics bool) {
	t.Helper()
	if !metrics {
		if len(np.Spec.Ingress) != 0 {
			t.Errorf("metrics are off, yet ingress %v is admitted", np.Spec.Ingress)
		}
		return
	}
	var metricsPort int32
	for _, p := range dep.Spec.Template.Spec.Containers[0].Ports {
		if p.Name == "https" {
			metricsPort = p.ContainerPort
		}
	}
	if len(np.Spec.Ingress) != 1 {
		t.Fatalf("want one ingress rule (metrics), got %v", np.Spec.Ingress)
	}
	rule := np.Spec.Ingress[0]
	if len(rule.Ports) != 1 || rule.Ports[0].Port == nil || rule.Ports[0].Port.IntValue() != int(metricsPort) {
		t.Errorf("ingress ports %v, want only the metrics port %d", rule.Ports, metricsPort)
	}
	var sources []string
	for _, peer := range rule.From {
		if peer.NamespaceSelector == nil || len(peer.NamespaceSelector.MatchLabels) == 0 || peer.IPBlock != nil {
			t.Errorf("ingress peer %+v is not limited to labelled namespaces", peer)
			continue
		}
		for k, v := range peer.NamespaceSelector.MatchLabels {
			sources = append(sources, k+"="+v)
		}
	}
	for _, want := range []string{"metrics=enabled", "kubernetes.io/metadata.name=monitoring"} {
		if !contains(sources, want) {
			t.Errorf("metrics may be scraped from namespaces %v, want %s among them", sources, want)
		}
	}
}

func checkEgress(t *testing.T, np *networkingv1.NetworkPolicy, apiServers []string) {
	t.Helper()
	type endpoint struct {
		addr string
		port int
	}
	admitted := make([]endpoint, 0, 2+2*len(apiServers))
	admitted = append(admitted,
		endpoint{"203.0.113.7", 443},          // a provider on a public address
		endpoint{"2001:4860:4860::8888", 443}, // the same over IPv6
	)
	for _, a := range apiServers {
		admitted = append(admitted, endpoint{a, 443}, endpoint{a, 6443})
	}
	for _, a := range admitted {
		if !egressAdmits(np, a.addr, a.port) {
			t.Errorf("egress to %s:%d is refused, want it admitted", a.addr, a.port)
		}
	}
	for _, r := range []struct {
		addr string
		port int
		why  string
	}{
		{"169.254.169.254", 80, "cloud metadata"},
		{"169.254.169.254", 443, "cloud metadata"},
		{"fd00:ec2::254", 443, "cloud metadata (IPv6)"},
		{"10.0.0.10", 443, "a cluster-internal service"},
		{"192.168.1.1", 443, "a private network"},
		{"172.20.0.5", 443, "a private network"},
		{"100.64.0.1", 443, "shared address space"},
		{"127.0.0.1", 443, "loopback"},
		{"203.0.113.7", 80, "plain HTTP"},
		{"203.0.113.7", 22, "another port"},
	} {
		if egressAdmits(np, r.addr, r.port) {
			t.Errorf("egress to %s:%d (%s) is admitted, want it refused", r.addr, r.port, r.why)
		}
	}

	var dns bool
	for _, rule := range np.Spec.Egress {
		for _, peer := range rule.To {
			if peer.PodSelector == nil || peer.NamespaceSelector == nil {
				continue
			}
			if peer.PodSelector.MatchLabels["k8s-app"] == "kube-dns" &&
				peer.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] == "kube-system" &&
				rulePorts(rule)["UDP/53"] && rulePorts(rule)["TCP/53"] {
				dns = true
			}
		}
	}
	if !dns {
		t.Errorf("no egress rule admits DNS (UDP and TCP 53) to kube-dns in kube-system: %+v", np.Spec.Egress)
	}
}

// egressAdmits says whether a rule of np admits TCP to addr:port, read as NetworkPolicy defines
// it: a rule without ports admits every port, a rule without peers every destination. Peers that
// select Pods are not addresses and admit none here.
func egressAdmits(np *networkingv1.NetworkPolicy, addr string, port int) bool {
	ip := netip.MustParseAddr(addr)
	for _, rule := range np.Spec.Egress {
		if len(rule.Ports) > 0 && !rulePorts(rule)["TCP/"+strconv.Itoa(port)] {
			continue
		}
		if len(rule.To) == 0 {
			return true
		}
		for _, peer := range rule.To {
			if peer.IPBlock != nil && blockAdmits(peer.IPBlock, ip) {
				return true
			}
		}
	}
	return false
}

func blockAdmits(block *networkingv1.IPBlock, ip netip.Addr) bool {
	if !netip.MustParsePrefix(block.CIDR).Contains(ip) {
		return false
	}
	for _, except := range block.Except {
		if netip.MustParsePrefix(except).Contains(ip) {
			return false
		}
	}
	return true
}

// rulePorts lists a rule's ports as "TCP/443".
func rulePorts(rule networkingv1.NetworkPolicyEgressRule) map[string]bool {
	out := map[string]bool{}
	for _, p := range rule.Ports {
		protocol := "TCP"
		if p.Protocol != nil {
			protocol = string(*p.Protocol)
		}
		if p.Port != nil {
			out[protocol+"/"+p.Port.String()] = true
		}
	}
	return out
}

// copyTree copies the regular files under src to dst, keeping the layout.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path) //nolint:gosec // a file of the repository's config/
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o600)
	})
	if err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
