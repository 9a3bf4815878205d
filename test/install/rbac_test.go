package install

import (
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestInstallYAMLRBAC checks the RBAC objects of install.yaml against config/rbac.
func TestInstallYAMLRBAC(t *testing.T) {
	docs := parseDocs(t, readRepoFile(t, "dist/install.yaml"))
	checkRBAC(t, docs, installPrefix, installNamespace, rbacExpectations{metrics: true, helpers: true})
}

// TestInstallYAMLManagerPermissions asks the API server's authorizer what the installed manager's
// ServiceAccount may do: the bindings must take effect, and grant no more than the markers say.
func TestInstallYAMLManagerPermissions(t *testing.T) {
	applyInstallYAML(t)
	checkManagerPermissions(t, installNamespace, installPrefix+"controller-manager")
}

type rbacExpectations struct {
	// metrics: the metrics-auth and metrics-reader ClusterRoles are there (and the former bound).
	metrics bool
	// helpers: the admin/editor/viewer ClusterRoles are there.
	helpers bool
}

// configRoles returns config/rbac/*role.yaml by object name.
func configRoles(t *testing.T) map[string]*unstructured.Unstructured {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(repoRoot, "config", "rbac", "*role.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no config/rbac/*role.yaml: %v", err)
	}
	roles := map[string]*unstructured.Unstructured{}
	for _, p := range paths {
		rel, _ := filepath.Rel(repoRoot, p)
		docs := parseDocs(t, readRepoFile(t, rel))
		if len(docs) != 1 {
			t.Fatalf("%s: want one object, got %d", rel, len(docs))
		}
		roles[docs[0].obj.GetName()] = docs[0].obj
	}
	return roles
}

// checkRBAC checks the RBAC objects of an install path (install.yaml or a rendering of the chart)
// whose object names start with prefix and whose manager runs in namespace ns:
//   - the manager's ClusterRole holds exactly the rules of config/rbac/role.yaml (what the markers generate);
//   - every role is a copy of its config/rbac file (same rules), and no role holds a wildcard;
//   - the manager's ServiceAccount is bound to exactly manager-role, leader-election-role and, with
//     metrics, metrics-auth-role; of Secrets, those grant `get` only.
func checkRBAC(t *testing.T, docs []doc, prefix, ns string, want rbacExpectations) {
	t.Helper()
	config := configRoles(t)

	generated, ok := config["manager-role"]
	if !ok {
		t.Fatalf("config/rbac/role.yaml does not define manager-role")
	}
	manager := mustFind(t, docs, "ClusterRole", prefix+"manager-role")
	if !reflect.DeepEqual(manager.Object["rules"], generated.Object["rules"]) {
		t.Errorf("ClusterRole %smanager-role rules differ from config/rbac/role.yaml:\n got %v\nwant %v",
			prefix, manager.Object["rules"], generated.Object["rules"])
	}

	present := map[string]bool{}
	for _, d := range append(ofKind(docs, "ClusterRole"), ofKind(docs, "Role")...) {
		name := strings.TrimPrefix(d.obj.GetName(), prefix)
		present[name] = true
		src, ok := config[name]
		if !ok {
			t.Errorf("%v has no counterpart %q in config/rbac", d, name)
			continue
		}
		if src.GetKind() != d.obj.GetKind() {
			t.Errorf("%v is a %s in config/rbac", d, src.GetKind())
		}
		if !reflect.DeepEqual(d.obj.Object["rules"], src.Object["rules"]) {
			t.Errorf("%v rules differ from config/rbac:\n got %v\nwant %v", d, d.obj.Object["rules"], src.Object["rules"])
		}
		for _, r := range rules(t, d.obj) {
			for field, values := range map[string][]string{
				"apiGroups": r.apiGroups, "resources": r.resources, "verbs": r.verbs,
				"nonResourceURLs": r.nonResourceURLs, "resourceNames": r.resourceNames,
			} {
				for _, v := range values {
					if strings.Contains(v, "*") {
						t.Errorf("%v: wildcard %q in %s", d, v, field)
					}
				}
			}
		}
	}
	for name := range config {
		isHelper := strings.HasSuffix(name, "-admin-role") || strings.HasSuffix(name, "-editor-role") || strings.HasSuffix(name, "-viewer-role")
		isMetrics := strings.HasPrefix(name, "metrics-")
		wantPresent := (!isHelper || want.helpers) && (!isMetrics || want.metrics)
		if present[name] != wantPresent {
			t.Errorf("role %s%s present: %v, want %v", prefix, name, present[name], wantPresent)
		}
	}

	bound := boundRoles(t, docs, ns, prefix+"controller-manager")
	wantBound := []string{prefix + "leader-election-role", prefix + "manager-role"}
	if want.metrics {
		wantBound = append(wantBound, prefix+"metrics-auth-role")
	}
	sort.Strings(wantBound)
	boundNames := make([]string, 0, len(bound))
	for _, r := range bound {
		boundNames = append(boundNames, r.GetName())
		for _, rule := range rules(t, r) {
			if contains(rule.apiGroups, "") && contains(rule.resources, "secrets") &&
				!reflect.DeepEqual(rule.verbs, []string{"get"}) {
				t.Errorf("%s %s grants %v on secrets; the manager may only get them", r.GetKind(), r.GetName(), rule.verbs)
			}
		}
	}
	sort.Strings(boundNames)
	if !reflect.DeepEqual(boundNames, wantBound) {
		t.Errorf("roles bound to the manager's ServiceAccount: %v, want %v", boundNames, wantBound)
	}
}

type rule struct {
	apiGroups, resources, verbs, nonResourceURLs, resourceNames []string
}

func rules(t *testing.T, role *unstructured.Unstructured) []rule {
	t.Helper()
	list, _, err := unstructured.NestedSlice(role.Object, "rules")
	if err != nil {
		t.Fatalf("%s %s: rules: %v", role.GetKind(), role.GetName(), err)
	}
	out := make([]rule, 0, len(list))
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			t.Fatalf("%s %s: rule is not an object: %v", role.GetKind(), role.GetName(), item)
		}
		str := func(key string) []string {
			v, _, err := unstructured.NestedStringSlice(m, key)
			if err != nil {
				t.Fatalf("%s %s: rule field %s: %v", role.GetKind(), role.GetName(), key, err)
			}
			return v
		}
		out = append(out, rule{
			apiGroups: str("apiGroups"), resources: str("resources"), verbs: str("verbs"),
			nonResourceURLs: str("nonResourceURLs"), resourceNames: str("resourceNames"),
		})
	}
	return out
}

// boundRoles returns the Roles and ClusterRoles that bindings in docs grant to the ServiceAccount
// ns/sa; a binding to a role that is not in docs fails the test.
func boundRoles(t *testing.T, docs []doc, ns, sa string) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	for _, d := range append(ofKind(docs, "ClusterRoleBinding"), ofKind(docs, "RoleBinding")...) {
		subjects, _, _ := unstructured.NestedSlice(d.obj.Object, "subjects")
		bindsManager := false
		for _, s := range subjects {
			m, _ := s.(map[string]any)
			if m["kind"] == "ServiceAccount" && m["name"] == sa && m["namespace"] == ns {
				bindsManager = true
			} else {
				t.Errorf("%v binds %v, not the manager's ServiceAccount %s/%s", d, m, ns, sa)
			}
		}
		if !bindsManager {
			continue
		}
		kind, _, _ := unstructured.NestedString(d.obj.Object, "roleRef", "kind")
		name, _, _ := unstructured.NestedString(d.obj.Object, "roleRef", "name")
		if d.obj.GetKind() == "RoleBinding" && kind == "Role" && d.obj.GetNamespace() != ns {
			t.Errorf("%v is not in the manager's namespace %s", d, ns)
		}
		out = append(out, mustFind(t, docs, kind, name))
	}
	return out
}

// checkManagerPermissions asks the authorizer about a sample of what the manager needs and of
// what it must not be able to do.
func checkManagerPermissions(t *testing.T, ns, sa string) {
	t.Helper()
	user, groups := serviceAccountUser(ns, sa)
	const group = "identity.orgsync.io"
	mustAllow := []access{
		{verb: "get", resource: "secrets", namespace: "team-a"},
		{verb: "get", resource: "namespaces"},
		{verb: "list", resource: "namespaces"},
		{verb: "watch", resource: "namespaces"},
		{verb: "list", group: group, resource: "orgusers"},
		{verb: "watch", group: group, resource: "orgproviders", namespace: "team-a"},
		{verb: "get", group: group, resource: "clusterorgproviders"},
		{verb: "patch", group: group, resource: "orgusers", subresource: "status", namespace: "team-a"},
		{verb: "patch", group: group, resource: "orgusers", namespace: "team-a"}, // the role and state labels
		{verb: "update", group: group, resource: "clusterorgproviders", subresource: "status"},
		{verb: "create", group: "events.k8s.io", resource: "events", namespace: "team-a"},
		{verb: "create", group: "coordination.k8s.io", resource: "leases", namespace: ns},
		{verb: "update", group: "coordination.k8s.io", resource: "leases", namespace: ns},
		// An OrgDirectory creates, mends and prunes the OrgUsers it owns.
		{verb: "create", group: group, resource: "orgusers", namespace: "team-a"},
		{verb: "delete", group: group, resource: "orgusers", namespace: "team-a"},
		{verb: "watch", group: group, resource: "orgdirectories", namespace: "team-a"},
		{verb: "patch", group: group, resource: "orgdirectories", subresource: "status", namespace: "team-a"},
		{verb: "update", group: group, resource: "orgdirectories", subresource: "finalizers", namespace: "team-a"},
	}
	mustDeny := []access{
		{verb: "list", resource: "secrets"},
		{verb: "list", resource: "secrets", namespace: "team-a"},
		{verb: "watch", resource: "secrets", namespace: "team-a"},
		{verb: "create", resource: "secrets", namespace: "team-a"},
		{verb: "update", resource: "secrets", namespace: "team-a"},
		{verb: "patch", resource: "secrets", namespace: "team-a"},
		{verb: "delete", resource: "secrets", namespace: "team-a"},
		{verb: "get", resource: "configmaps", namespace: "team-a"},
		{verb: "list", resource: "pods"},
		{verb: "update", resource: "namespaces"},
		{verb: "update", group: group, resource: "orgusers", namespace: "team-a"},
		{verb: "patch", group: group, resource: "orgproviders", namespace: "team-a"},
		{verb: "patch", group: group, resource: "orgdirectories", namespace: "team-a"},
		{verb: "delete", group: group, resource: "orgdirectories", namespace: "team-a"},
		{verb: "delete", group: group, resource: "clusterorgproviders"},
		{verb: "create", group: "coordination.k8s.io", resource: "leases", namespace: "team-a"},
		{verb: "create", group: "rbac.authorization.k8s.io", resource: "clusterrolebindings"},
	}
	for _, a := range mustAllow {
		if !allowed(t, user, groups, a) {
			t.Errorf("%s may not %v; the manager needs it", user, a)
		}
	}
	for _, a := range mustDeny {
		if allowed(t, user, groups, a) {
			t.Errorf("%s may %v; the manager must not", user, a)
		}
	}
}

// checkWiring checks that the objects of an install path refer to each other correctly: selectors
// match the pod labels, Services target container ports, the pod runs as the ServiceAccount
// that the bindings name.
func checkWiring(t *testing.T, docs []doc, ns, prefix string) {
	t.Helper()
	dep := onlyDeployment(t, docs)
	podLabels := dep.Spec.Template.Labels
	for k, v := range dep.Spec.Selector.MatchLabels {
		if podLabels[k] != v {
			t.Errorf("Deployment selector %s=%s does not match the pod labels %v", k, v, podLabels)
		}
	}
	if got, want := dep.Spec.Template.Spec.ServiceAccountName, prefix+"controller-manager"; got != want {
		t.Errorf("pod runs as ServiceAccount %q, want %q", got, want)
	}
	sa := mustFind(t, docs, "ServiceAccount", dep.Spec.Template.Spec.ServiceAccountName)
	if sa.GetNamespace() != ns || dep.Namespace != ns {
		t.Errorf("ServiceAccount in %q, Deployment in %q, want both in %q", sa.GetNamespace(), dep.Namespace, ns)
	}
	ports := map[string]bool{}
	for _, c := range dep.Spec.Template.Spec.Containers {
		for _, p := range c.Ports {
			ports[p.Name] = true
			ports[strconv.Itoa(int(p.ContainerPort))] = true
		}
	}
	for _, d := range ofKind(docs, "Service") {
		sel, _, _ := unstructured.NestedStringMap(d.obj.Object, "spec", "selector")
		if len(sel) == 0 {
			t.Errorf("%v has no selector", d)
		}
		for k, v := range sel {
			if podLabels[k] != v {
				t.Errorf("%v selector %s=%s does not match the pod labels %v", d, k, v, podLabels)
			}
		}
		svcPorts, _, _ := unstructured.NestedSlice(d.obj.Object, "spec", "ports")
		for _, p := range svcPorts {
			m, _ := p.(map[string]any)
			target := m["targetPort"]
			if target == nil {
				target = m["port"]
			}
			if !ports[portString(target)] {
				t.Errorf("%v targets port %v, which the manager container does not declare (%v)", d, target, ports)
			}
		}
	}
	boundRoles(t, docs, ns, prefix+"controller-manager")
}

// portString renders a port from JSON: a name, or a number (float64 after decoding).
func portString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}
