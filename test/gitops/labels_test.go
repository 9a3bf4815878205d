package gitops

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/controller"
	"github.com/orgsync/orgsync/internal/upstreamsim"
	"github.com/orgsync/orgsync/test/envsuite"
)

// quietPeriod is long enough for several Secret polls and for any reconcile a write enqueued to run.
const quietPeriod = 3 * time.Second

func requireMirroredLabels(t *testing.T, ns, name, role, state string) *identityv1alpha1.OrgUser {
	t.Helper()
	var user *identityv1alpha1.OrgUser
	envsuite.Eventually(t, envsuite.SettleTimeout, func() error {
		user = suite.GetUser(t, ns, name)
		gotRole, hasRole := user.Labels[identityv1alpha1.LabelRole]
		gotState, hasState := user.Labels[identityv1alpha1.LabelState]
		if gotRole != role || hasRole != (role != "") || gotState != state || hasState != (state != "") {
			return fmt.Errorf("labels %v, want role %q and state %q (absent when empty)", user.Labels, role, state)
		}
		return nil
	})
	return user
}

// requireQuiet checks that, left alone, the OrgUser is neither written nor read upstream again: the
// label writes do not feed back into reconciles.
func requireQuiet(t *testing.T, sim *upstreamsim.Server, ns, name, key string) {
	t.Helper()
	before := suite.GetUser(t, ns, name)
	calls := sim.Requests(upstreamsim.ProviderMixpeek, key)
	time.Sleep(quietPeriod)
	after := suite.GetUser(t, ns, name)
	if after.ResourceVersion != before.ResourceVersion {
		t.Errorf("OrgUser written while nothing changed: resourceVersion %s -> %s, labels %v", before.ResourceVersion, after.ResourceVersion, after.Labels)
	}
	if n := sim.Requests(upstreamsim.ProviderMixpeek, key); n != calls {
		t.Errorf("%d upstream calls while nothing changed, want 0", n-calls)
	}
}

func TestLabelsMirrorStatusUnderOwnFieldManager(t *testing.T) {
	t.Parallel()
	sim := envsuite.OwnSimulator(t)
	email := envsuite.PutMixpeekUser(sim, "member", "active")
	ns := providerSetup(t, envsuite.GoodToken, sim)
	suite.NewOrgUser(t, ns, "labelled", "mixpeek", email)
	user := requireMirroredLabels(t, ns, "labelled", "Member", "Active")
	requireLabelOwner(t, user)
	requireQuiet(t, sim, ns, "labelled", email)

	envsuite.SetMixpeekUser(sim, email, "admin", "suspended")
	suite.ForceRefresh(t, ns, "labelled")
	requireMirroredLabels(t, ns, "labelled", "Admin", "Suspended")

	// A 404 clears status.role: the role label goes, the state label says NotFound.
	sim.DeleteUser(upstreamsim.ProviderMixpeek, email)
	suite.ForceRefresh(t, ns, "labelled")
	requireMirroredLabels(t, ns, "labelled", "", "NotFound")
	requireQuiet(t, sim, ns, "labelled", email)
}

func requireLabelOwner(t *testing.T, user *identityv1alpha1.OrgUser) {
	t.Helper()
	for _, entry := range user.ManagedFields {
		if entry.Manager != controller.LabelFieldOwner || entry.Operation != metav1.ManagedFieldsOperationApply || entry.FieldsV1 == nil {
			continue
		}
		fields := entry.FieldsV1.GetRawString()
		for _, label := range []string{identityv1alpha1.LabelRole, identityv1alpha1.LabelState} {
			if !strings.Contains(fields, `"f:`+label+`"`) {
				t.Errorf("field manager %s does not own label %s: %s", controller.LabelFieldOwner, label, fields)
			}
		}
		return
	}
	t.Errorf("no server-side apply entry of field manager %s in managedFields", controller.LabelFieldOwner)
}

// orgUserManifest is an OrgUser as it would be stored in Git: spec and the labels its author chose.
func orgUserManifest(ns, name, key string, labels map[string]string, refresh string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": identityv1alpha1.GroupVersion.String(),
		"kind":       "OrgUser",
		"metadata":   map[string]any{"name": name, "namespace": ns},
		"spec":       map[string]any{"providerRef": map[string]any{"name": "mixpeek"}, "key": key, "refreshInterval": refresh},
	}}
	u.SetLabels(labels)
	return u
}

// Flux applies manifests server-side under its own field manager: without forcing, the apply must not
// conflict with orgsync's labels, and must not remove them.
func TestLabelsSurviveServerSideApplyByFlux(t *testing.T) {
	t.Parallel()
	sim := envsuite.OwnSimulator(t)
	email := envsuite.PutMixpeekUser(sim, "admin", "active")
	ns := providerSetup(t, envsuite.GoodToken, sim)
	fluxApply := func(refresh string) {
		t.Helper()
		manifest := orgUserManifest(ns, "from-flux", email, map[string]string{"app.kubernetes.io/part-of": "team-a"}, refresh)
		envsuite.Must(t, suite.Client.Apply(envsuite.Ctx(t), client.ApplyConfigurationFromUnstructured(manifest), client.FieldOwner("kustomize-controller")))
	}
	fluxApply("1h")
	requireMirroredLabels(t, ns, "from-flux", "Admin", "Active")

	fluxApply("2h") // a change in Git: a new generation
	suite.WaitForReady(t, ns, "from-flux", metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	user := requireMirroredLabels(t, ns, "from-flux", "Admin", "Active")
	if user.Labels["app.kubernetes.io/part-of"] != "team-a" || user.Spec.RefreshInterval.Duration != 2*time.Hour {
		t.Errorf("Flux's own fields were not applied: labels %v, refreshInterval %v", user.Labels, user.Spec.RefreshInterval)
	}
	requireLabelOwner(t, user)
	requireQuiet(t, sim, ns, "from-flux", email)
}

// Argo CD applies manifests with kubectl's client-side apply (a three-way merge against the
// last-applied annotation): labels it never applied are not its to remove.
func TestLabelsSurviveClientSideApplyByArgoCD(t *testing.T) {
	t.Parallel()
	sim := envsuite.OwnSimulator(t)
	email := envsuite.PutMixpeekUser(sim, "member", "active")
	ns := providerSetup(t, envsuite.GoodToken, sim)
	kubeconfig := adminKubeconfig(t)
	kubectlApply := func(labels map[string]string, refresh string) {
		t.Helper()
		manifest := orgUserManifest(ns, "from-argo", email, labels, refresh)
		data, err := manifest.MarshalJSON()
		envsuite.Must(t, err)
		file := filepath.Join(t.TempDir(), "orguser.json")
		envsuite.Must(t, os.WriteFile(file, data, 0o600))
		out, err := exec.Command(kubectlPath(), "--kubeconfig", kubeconfig, "apply", "-f", file).CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl apply: %v\n%s", err, out)
		}
	}
	kubectlApply(map[string]string{"app.kubernetes.io/instance": "team-a"}, "1h")
	requireMirroredLabels(t, ns, "from-argo", "Member", "Active")

	kubectlApply(map[string]string{"app.kubernetes.io/instance": "team-a", "tier": "people"}, "2h")
	suite.WaitForReady(t, ns, "from-argo", metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	user := requireMirroredLabels(t, ns, "from-argo", "Member", "Active")
	if user.Labels["tier"] != "people" || user.Spec.RefreshInterval.Duration != 2*time.Hour {
		t.Errorf("Argo CD's own fields were not applied: labels %v, refreshInterval %v", user.Labels, user.Spec.RefreshInterval)
	}
	requireQuiet(t, sim, ns, "from-argo", email)
}
