package gitops

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/upstreamsim"
	"github.com/orgsync/orgsync/test/envsuite"
)

func kubectlPath() string { return filepath.Join(os.Getenv("KUBEBUILDER_ASSETS"), "kubectl") }

// kubeconfigFor writes a kubeconfig with the user's own client certificate.
func kubeconfigFor(t *testing.T, user envtest.User) string {
	t.Helper()
	authenticated, err := suite.Env.AddUser(user, nil)
	envsuite.Must(t, err)
	data, err := authenticated.KubeConfig()
	envsuite.Must(t, err)
	file := filepath.Join(t.TempDir(), "kubeconfig")
	envsuite.Must(t, os.WriteFile(file, data, 0o600))
	return file
}

func adminKubeconfig(t *testing.T) string {
	t.Helper()
	return kubeconfigFor(t, envtest.User{Name: "gitops-admin-" + envsuite.UniqueSuffix(), Groups: []string{"system:masters"}})
}

// readerKubeconfig is a person who may only read the orgsync kinds, everywhere.
func readerKubeconfig(t *testing.T) string {
	t.Helper()
	name := "orgsync-reader-" + envsuite.UniqueSuffix()
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: []rbacv1.PolicyRule{{
		APIGroups: []string{identityv1alpha1.GroupVersion.Group}, Resources: []string{"orgusers", "orgproviders", "clusterorgproviders", "orgdirectories"},
		Verbs: []string{"get", "list", "watch"},
	}}}
	envsuite.Must(t, suite.Client.Create(envsuite.Ctx(t), role))
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: name}}}
	envsuite.Must(t, suite.Client.Create(envsuite.Ctx(t), binding))
	return kubeconfigFor(t, envtest.User{Name: name})
}

func kubectl(t *testing.T, kubeconfig string, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command(kubectlPath(), append([]string{"--kubeconfig", kubeconfig}, args...)...).CombinedOutput()
	return string(out), err
}

func TestKubectlWaitGetAndSelect(t *testing.T) {
	t.Parallel()
	ns := providerSetup(t, envsuite.GoodToken, nil)
	suite.NewOrgUser(t, ns, "alice", "mixpeek", "alice@example.com")
	suite.NewOrgUser(t, ns, "bob", "mixpeek", "bob@example.com")
	suite.NewOrgUser(t, ns, "erin", "mixpeek", "erin+ops@example.com")
	suite.NewOrgUser(t, ns, "nobody", "mixpeek", "nobody-"+envsuite.UniqueSuffix()+"@example.com")
	kubeconfig := readerKubeconfig(t)

	out, err := kubectl(t, kubeconfig, "wait", "--for=condition=Ready", "orguser/alice", "-n", ns, "--timeout=60s")
	if err != nil {
		t.Fatalf("kubectl wait for a synced user: %v\n%s", err, out)
	}
	requireContains(t, "kubectl wait output", out, "orguser.identity.orgsync.io/alice condition met")

	suite.WaitForReady(t, ns, "nobody", metav1.ConditionFalse, identityv1alpha1.ReasonUserNotFound)
	if out, err := kubectl(t, kubeconfig, "wait", "--for=condition=Ready", "orguser/nobody", "-n", ns, "--timeout=2s"); err == nil {
		t.Errorf("kubectl wait succeeded for a user that is not Ready:\n%s", out)
	}

	out, err = kubectl(t, kubeconfig, "get", "orgsync", "-A")
	if err != nil {
		t.Fatalf("kubectl get orgsync -A: %v\n%s", err, out)
	}
	for _, want := range []string{"orguser.identity.orgsync.io/alice", "orguser.identity.orgsync.io/nobody", "orgprovider.identity.orgsync.io/mixpeek", ns} {
		requireContains(t, "kubectl get orgsync -A", out, want)
	}

	for _, name := range []string{"alice", "bob", "erin"} {
		suite.WaitForReady(t, ns, name, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
		requireMirroredLabels(t, ns, name, map[string]string{"alice": "Admin", "bob": "Member", "erin": "Member"}[name], map[string]string{"alice": "Active", "bob": "Suspended", "erin": "Active"}[name])
	}
	requireMirroredLabels(t, ns, "nobody", "", "NotFound")
	requireSelected(t, kubeconfig, ns, "identity.orgsync.io/role=Admin", "orguser.identity.orgsync.io/alice")
	requireSelected(t, kubeconfig, ns, "identity.orgsync.io/role=Member,identity.orgsync.io/state=Active", "orguser.identity.orgsync.io/erin")
	requireSelected(t, kubeconfig, ns, "identity.orgsync.io/state=NotFound,!identity.orgsync.io/role", "orguser.identity.orgsync.io/nobody")
}

func requireSelected(t *testing.T, kubeconfig, ns, selector string, want ...string) {
	t.Helper()
	out, err := kubectl(t, kubeconfig, "get", "ou", "-n", ns, "-l", selector, "-o", "name")
	if err != nil {
		t.Fatalf("kubectl get ou -l %s: %v\n%s", selector, err, out)
	}
	got := strings.Fields(out)
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("kubectl get ou -l %s = %v, want %v", selector, got, want)
	}
}

// TestKubectlFieldSelectors: the OrgUser CRD's selectableFields let kubectl (and any list or watch)
// select on spec.key, spec.providerRef.name, status.role, status.state and status.provider, server-side,
// for OrgUsers the controller synced.
func TestKubectlFieldSelectors(t *testing.T) {
	t.Parallel()
	ns := providerSetup(t, envsuite.GoodToken, nil)
	// A Flashback provider with a name no other test uses, so spec.providerRef.name is unique cluster-wide.
	flashback := "flashback-" + envsuite.UniqueSuffix()
	suite.NewProvider(t, ns, flashback, upstreamsim.ProviderFlashback, envsuite.GoodToken, nil)
	suite.NewOrgUser(t, ns, "alice", "mixpeek", "alice@example.com")
	suite.NewOrgUser(t, ns, "bob", "mixpeek", "bob@example.com")
	suite.NewOrgUser(t, ns, "carol", "mixpeek", "carol@example.com")
	suite.NewOrgUser(t, ns, "nobody", "mixpeek", "nobody-"+envsuite.UniqueSuffix()+"@example.com")
	keys := map[string]string{}
	for _, demo := range upstreamsim.DemoUsers() {
		keys[demo.Name] = demo.Key
	}
	suite.NewOrgUser(t, ns, "frank", flashback, keys["flashback-frank"])
	suite.NewOrgUser(t, ns, "grace", flashback, keys["flashback-grace"])
	suite.NewOrgUser(t, ns, "oscar", flashback, keys["flashback-oscar"])
	for _, name := range []string{"alice", "bob", "carol", "frank", "grace", "oscar"} {
		suite.WaitForReady(t, ns, name, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	}
	suite.WaitForReady(t, ns, "nobody", metav1.ConditionFalse, identityv1alpha1.ReasonUserNotFound)
	kubeconfig := readerKubeconfig(t)

	for _, tc := range []struct {
		selector string
		want     []string // the matching OrgUsers of ns
	}{
		{"spec.key=alice@example.com", []string{"alice"}},
		{"spec.key=" + keys["flashback-grace"], []string{"grace"}},
		{"spec.providerRef.name=" + flashback, []string{"frank", "grace", "oscar"}},
		{"spec.providerRef.name=mixpeek", []string{"alice", "bob", "carol", "nobody"}},
		{"status.role=Admin", []string{"alice", "grace"}},
		{"status.role=Owner", []string{"frank"}},
		{"status.role=Member", []string{"bob", "oscar"}},
		{"status.state=Active", []string{"alice", "frank", "grace"}},
		{"status.state=Suspended", []string{"bob"}},
		{"status.state=Pending", []string{"carol"}},
		{"status.state=Deleted", []string{"oscar"}},
		{"status.state=NotFound", []string{"nobody"}},
		{"status.provider=mixpeek", []string{"alice", "bob", "carol", "nobody"}},
		{"status.provider=flashback", []string{"frank", "grace", "oscar"}},
		{"status.provider=flashback,status.role=Admin", []string{"grace"}},
		{"status.provider=mixpeek,status.state!=Active", []string{"bob", "carol", "nobody"}},
		{"status.role=Viewer,status.state=Pending", []string{"carol"}},
		{"status.role=Billing", nil},
	} {
		t.Run(tc.selector, func(t *testing.T) {
			requireFieldSelected(t, kubeconfig, ns, tc.selector, tc.want)
		})
	}

	// Fields that are not selectable are refused by the API server, not silently ignored.
	out, err := kubectl(t, kubeconfig, "get", "ou", "-A", "--field-selector", "status.email=alice@example.com")
	if err == nil {
		t.Errorf("kubectl get ou --field-selector status.email succeeded; want the API server to refuse it:\n%s", out)
	}
	requireContains(t, "kubectl get ou --field-selector status.email", out, "field label not supported")
}

// requireFieldSelected runs kubectl get ou -A --field-selector selector and checks that it lists
// exactly want in ns, and in every namespace only OrgUsers whose fields match the selector: other
// tests' OrgUsers share keys, provider names and statuses, so the namespaces of others are checked
// for matching, not counted.
func requireFieldSelected(t *testing.T, kubeconfig, ns, selector string, want []string) {
	t.Helper()
	out, err := kubectl(t, kubeconfig, "get", "ou", "-A", "--field-selector", selector, "-o", "json")
	if err != nil {
		t.Fatalf("kubectl get ou -A --field-selector %s: %v\n%s", selector, err, out)
	}
	var list identityv1alpha1.OrgUserList
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("kubectl get ou -o json: %v\n%s", err, out)
	}
	var got []string
	for _, u := range list.Items {
		have := map[string]string{"spec.key": u.Spec.Key, "spec.providerRef.name": u.Spec.ProviderRef.Name,
			"status.role": u.Status.Role, "status.state": u.Status.State, "status.provider": u.Status.Provider}
		for term := range strings.SplitSeq(selector, ",") {
			field, value, negated := strings.Cut(term, "!=")
			if !negated {
				field, value, _ = strings.Cut(term, "=")
			}
			if (have[field] == value) == negated {
				t.Errorf("--field-selector %s listed %s/%s, whose %s is %q", selector, u.Namespace, u.Name, field, have[field])
			}
		}
		if u.Namespace == ns {
			got = append(got, u.Name)
		}
	}
	sort.Strings(got)
	want = append([]string(nil), want...)
	sort.Strings(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("kubectl get ou -A --field-selector %s in %s = %v, want %v", selector, ns, got, want)
	}
}
