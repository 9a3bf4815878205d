package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/test/envsuite"
)

// gatekeeperPolicy is the shipped ConstraintTemplate's Rego, ready to evaluate against the OrgUsers
// the API server holds now, replicated the way Gatekeeper's sync does.
type gatekeeperPolicy struct {
	query      rego.PreparedEvalQuery
	parameters map[string]any
}

func loadGatekeeperPolicy(t *testing.T) gatekeeperPolicy {
	t.Helper()
	template := readShipped(t, "gatekeeper/constrainttemplate.yaml")[0]
	targets, _, _ := unstructured.NestedSlice(template.Object, "spec", "targets")
	if len(targets) != 1 {
		t.Fatalf("the ConstraintTemplate has %d targets, want 1", len(targets))
	}
	source, _, _ := unstructured.NestedString(targets[0].(map[string]any), "rego")
	pkg := strings.TrimSpace(strings.TrimPrefix(strings.SplitN(source, "\n", 2)[0], "package "))
	if pkg != template.GetName() {
		t.Fatalf("Rego package %q does not match the template name %q", pkg, template.GetName())
	}

	constraint := readShipped(t, "gatekeeper/constraint.yaml")[0]
	parameters, _, _ := unstructured.NestedMap(constraint.Object, "spec", "parameters")
	kind, _, _ := unstructured.NestedString(template.Object, "spec", "crd", "spec", "names", "kind")
	if constraint.GetKind() != kind {
		t.Fatalf("the Constraint is a %s, the template defines %s", constraint.GetKind(), kind)
	}

	query, err := rego.New(
		// Gatekeeper parses a template's targets[].rego as Rego v0.
		rego.SetRegoVersion(ast.RegoV0),
		rego.Module("constrainttemplate.rego", source),
		rego.Query("data."+pkg+".violation"),
		rego.Store(inmem.NewFromObject(map[string]any{"inventory": inventory(t)})),
	).PrepareForEval(context.Background())
	envsuite.Must(t, err)
	return gatekeeperPolicy{query: query, parameters: parameters}
}

// inventory is data.inventory as Gatekeeper's sync fills it: every OrgUser of the cluster under
// namespace/<ns>/<apiVersion>/OrgUser/<name>, as the API server serves it.
func inventory(t *testing.T) map[string]any {
	t.Helper()
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(identityv1alpha1.GroupVersion.WithKind("OrgUserList"))
	envsuite.Must(t, suite.Client.List(envsuite.Ctx(t), list))
	namespaces := map[string]any{}
	for _, item := range list.Items {
		// Round-trip through JSON: Rego sees exactly what Gatekeeper would receive.
		raw, err := item.MarshalJSON()
		envsuite.Must(t, err)
		var obj map[string]any
		envsuite.Must(t, json.Unmarshal(raw, &obj))
		byGV, ok := namespaces[item.GetNamespace()].(map[string]any)
		if !ok {
			byGV = map[string]any{item.GetAPIVersion(): map[string]any{"OrgUser": map[string]any{}}}
			namespaces[item.GetNamespace()] = byGV
		}
		byGV[item.GetAPIVersion()].(map[string]any)["OrgUser"].(map[string]any)[item.GetName()] = obj
	}
	return map[string]any{"namespace": namespaces}
}

// violations evaluates a request to create a binding of clusterRole to subject.
func (p gatekeeperPolicy) violations(t *testing.T, kind, clusterRole, subject string, parameters map[string]any) []string {
	t.Helper()
	object := map[string]any{
		"apiVersion": "rbac.authorization.k8s.io/v1",
		"kind":       kind,
		"metadata":   map[string]any{"name": "grant", "namespace": "team-a"},
		"roleRef":    map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": clusterRole},
		"subjects":   []any{map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": subject}},
	}
	if kind == "ClusterRoleBinding" {
		delete(object["metadata"].(map[string]any), "namespace")
	}
	input := map[string]any{
		"review": map[string]any{
			"kind":      map[string]any{"group": "rbac.authorization.k8s.io", "version": "v1", "kind": kind},
			"operation": "CREATE",
			"name":      "grant",
			"namespace": object["metadata"].(map[string]any)["namespace"],
			"object":    object,
			"userInfo":  map[string]any{"username": "ops-lead@example.com"},
		},
		"parameters": parameters,
	}
	results, err := p.query.Eval(context.Background(), rego.EvalInput(input))
	envsuite.Must(t, err)
	var msgs []string
	for _, result := range results {
		for _, expr := range result.Expressions {
			set, ok := expr.Value.([]any)
			if !ok {
				t.Fatalf("violation evaluated to %T, want a set", expr.Value)
			}
			for _, v := range set {
				msgs = append(msgs, fmt.Sprint(v.(map[string]any)["msg"]))
			}
		}
	}
	return msgs
}

// Rule (a) in Rego, against OrgUsers the controller produced: the same decisions as the
// ValidatingAdmissionPolicy, and also a refusal when no trusted OrgUser mirrors the subject.
func TestGatekeeperPrivilegedGrant(t *testing.T) {
	t.Parallel()
	trustedIdentities(t)
	impostor := impostorNamespace(t)
	policy := loadGatekeeperPolicy(t)
	if !strings.Contains(fmt.Sprint(inventory(t)["namespace"].(map[string]any)[impostor]), bobKey) {
		t.Fatal("the inventory does not hold the impostor's OrgUser; the trust check below would prove nothing")
	}

	denied := []struct{ kind, role, subject, want string }{
		{"RoleBinding", "admin", bobKey, "granting ClusterRole admin to bob@example.com is refused: OrgUser orgsync-identities/mixpeek-bob says role Member, state Suspended, Ready True"},
		{"RoleBinding", "admin", erinKey, "OrgUser orgsync-identities/mixpeek-erin-ops says role Member, state Active, Ready True"},
		{"RoleBinding", "admin", nobodyKey, "OrgUser orgsync-identities/mixpeek-nobody says role <none>, state NotFound, Ready False"},
		{"RoleBinding", "admin", danaKey, "OrgUser orgsync-identities/mixpeek-dana says role Admin, state Active, Ready False"},
		{"RoleBinding", "admin", oscarKey, "OrgUser orgsync-identities/flashback-oscar says role Member, state Deleted"},
		{"ClusterRoleBinding", "cluster-admin", carolKey, "granting ClusterRole cluster-admin to carol@example.com is refused: OrgUser orgsync-identities/mixpeek-carol says role Viewer, state Pending"},
		{"RoleBinding", "admin", strangerKey, `granting ClusterRole admin to stranger@example.com is refused: no OrgUser in ["orgsync-identities"] has spec.key stranger@example.com`},
		{"RoleBinding", "admin", eveKey, `no OrgUser in ["orgsync-identities"] has spec.key eve@example.com`},
		{"RoleBinding", "admin", "Bob@Example.com", "OrgUser orgsync-identities/mixpeek-bob says role Member, state Suspended"},
		{"RoleBinding", "admin", samKey, "OrgUser orgsync-identities/scim-sam says role Member, state Suspended, Ready True"},
		{"RoleBinding", "admin", hubotKey, "OrgUser orgsync-identities/scim-hubot says role Billing, state Active"},
	}
	for _, tc := range denied {
		msgs := policy.violations(t, tc.kind, tc.role, tc.subject, policy.parameters)
		if len(msgs) != 1 || !strings.Contains(msgs[0], tc.want) {
			t.Errorf("%s of %s to %s: violations %q, want one containing %q", tc.kind, tc.role, tc.subject, msgs, tc.want)
			continue
		}
		t.Logf("GATEKEEPER DENIED  %s of ClusterRole %s to %s: %s", tc.kind, tc.role, tc.subject, msgs[0])
	}

	allowed := []struct{ kind, role, subject string }{
		{"RoleBinding", "admin", aliceKey},
		{"ClusterRoleBinding", "cluster-admin", frankKey},
		{"ClusterRoleBinding", "cluster-admin", monaKey},
		{"RoleBinding", "view", bobKey},
		{"RoleBinding", "edit", strangerKey},
	}
	for _, tc := range allowed {
		if msgs := policy.violations(t, tc.kind, tc.role, tc.subject, policy.parameters); len(msgs) != 0 {
			t.Errorf("%s of %s to %s: violations %q, want none", tc.kind, tc.role, tc.subject, msgs)
			continue
		}
		t.Logf("GATEKEEPER ALLOWED %s of ClusterRole %s to %s", tc.kind, tc.role, tc.subject)
	}

	lenient := map[string]any{}
	for k, v := range policy.parameters {
		lenient[k] = v
	}
	lenient["requireOrgUser"] = false
	if msgs := policy.violations(t, "RoleBinding", "admin", strangerKey, lenient); len(msgs) != 0 {
		t.Errorf("with requireOrgUser false, a subject without OrgUser should pass, violations %q", msgs)
	}
	delete(lenient, "privilegedClusterRoles")
	if msgs := policy.violations(t, "RoleBinding", "cluster-admin", bobKey, lenient); len(msgs) != 0 {
		t.Errorf("without privilegedClusterRoles only admin is privileged; cluster-admin to bob gave %q", msgs)
	}
	if msgs := policy.violations(t, "RoleBinding", "admin", bobKey, lenient); len(msgs) != 1 {
		t.Errorf("without privilegedClusterRoles admin stays privileged; admin to bob gave %q", msgs)
	}
}
