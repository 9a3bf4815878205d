package gitops

import (
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
		APIGroups: []string{identityv1alpha1.GroupVersion.Group}, Resources: []string{"orgusers", "orgproviders", "clusterorgproviders"},
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
