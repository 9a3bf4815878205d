//go:build e2e

package e2e

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
)

// TestHelmChart installs the chart as the README says (into a namespace labelled restricted, with
// private addresses allowed for the on-premises simulator), sees it sync, upgrades it to another
// image tag, and uninstalls it. The upgrade hands the lease to a pod of the new image without
// rewriting any OrgUser; the uninstall leaves the CRDs and the OrgUsers, as the chart's README says.
func TestHelmChart(t *testing.T) {
	uninstallAll()
	chart := filepath.Join(repoRoot, "dist", "chart")
	repo, tag, _ := strings.Cut(image, ":")
	_, tag2, _ := strings.Cut(image2, ":")

	kubectl(t, "create", "namespace", systemNamespace)
	kubectl(t, "label", "namespace", systemNamespace, "pod-security.kubernetes.io/enforce=restricted")
	installed = "chart"
	start := time.Now()
	helm(t, "install", releaseName, chart, "--namespace", systemNamespace,
		"--set", "image.repository="+repo, "--set", "image.tag="+tag, "--set", "allowPrivateAddresses=true",
		"--wait", "--timeout=3m")
	t.Logf("helm install: Deployment ready %.1fs after install began", time.Since(start).Seconds())
	waitRollout(t, 1, time.Minute)

	const namespace = "e2e-helm"
	tenant(t, namespace)
	carol := demoUser(t, "carol@example.com")
	createOrgUser(t, namespace, "carol", carol.Key)
	synced := waitSynced(t, namespace, "carol", carol, 2*time.Minute)
	oldPods := map[string]bool{}
	for _, p := range managerPods(t, ctxFor(t, time.Minute)) {
		oldPods[p.Name] = true
	}

	helm(t, "upgrade", releaseName, chart, "--namespace", systemNamespace, "--reuse-values",
		"--set", "image.tag="+tag2, "--wait", "--timeout=3m")
	waitRollout(t, 1, 2*time.Minute)
	ctx := ctxFor(t, time.Minute)
	dep := &appsv1.Deployment{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: systemNamespace, Name: deploymentName}, dep); err != nil {
		t.Fatalf("get the Deployment: %v", err)
	}
	if got := dep.Spec.Template.Spec.Containers[0].Image; got != image2 {
		t.Fatalf("after helm upgrade the manager's image is %q, want %q", got, image2)
	}
	waitLeader(t, 2*time.Minute, "the upgraded manager", func(pod string) bool { return !oldPods[pod] })

	// An OrgUser created after the upgrade is synced by the new leader only once its workers run, by
	// which time it has reconciled the OrgUser it found: carol must be as the old manager left her.
	dave := demoUser(t, "dave@example.com")
	createOrgUser(t, namespace, "dave", dave.Key)
	waitSynced(t, namespace, "dave", dave, 2*time.Minute)
	after := &identityv1alpha1.OrgUser{}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(synced), after); err != nil {
		t.Fatalf("get OrgUser carol: %v", err)
	}
	if after.ResourceVersion != synced.ResourceVersion {
		t.Errorf("helm upgrade rewrote OrgUser carol (resourceVersion %s -> %s); status before %s, after %s",
			synced.ResourceVersion, after.ResourceVersion, statusJSON(t, synced), statusJSON(t, after))
	}

	helm(t, "uninstall", releaseName, "--namespace", systemNamespace, "--wait", "--timeout=3m")
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: systemNamespace, Name: deploymentName}, &appsv1.Deployment{}); err == nil {
		t.Errorf("helm uninstall left the Deployment")
	}
	for _, name := range []string{"orgusers.identity.orgsync.io", "orgproviders.identity.orgsync.io",
		"clusterorgproviders.identity.orgsync.io", "orgdirectories.identity.orgsync.io"} {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := k8s.Get(ctx, client.ObjectKey{Name: name}, crd); err != nil {
			t.Errorf("helm uninstall should keep CRD %s (crd.keep, the default): %v", name, err)
		} else if crd.DeletionTimestamp != nil {
			t.Errorf("helm uninstall is deleting CRD %s; crd.keep should keep it", name)
		}
	}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(synced), &identityv1alpha1.OrgUser{}); err != nil {
		t.Errorf("OrgUser carol should survive helm uninstall: %v", err)
	}
	uninstallAll()
}
