package integration

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/upstreamsim"
)

// quietPeriod is long enough for several Secret polls (500ms) and for any enqueued reconcile to run.
const quietPeriod = 2 * time.Second

// Edits that do not concern the user must not call upstream: a 401 user is retried at refreshInterval,
// never faster, and a synced user is not re-read because someone labelled something.
func TestUnrelatedEditsMakeNoUpstreamCalls(t *testing.T) {
	t.Parallel()
	ns := mixpeekSetup(t, unknownToken)
	email := putMixpeekUser(t, "member", "active")
	newOrgUser(t, ns, "noisy", "mixpeek", email)
	waitForReason(t, ns, "noisy", identityv1alpha1.ConditionReady, metav1.ConditionFalse, identityv1alpha1.ReasonUnauthorized)
	time.Sleep(quietPeriod)
	calls := sim.Requests(upstreamsim.ProviderMixpeek, email)

	u := getUser(t, ns, "noisy")
	patch := client.MergeFrom(u.DeepCopy())
	u.Labels = map[string]string{"team": "a"}
	u.Annotations = map[string]string{"example.com/owner": "someone"}
	must(t, k8s.Patch(ctxFor(t), u, patch))

	secret := &corev1.Secret{}
	must(t, k8s.Get(ctxFor(t), client.ObjectKey{Namespace: ns, Name: "mixpeek-token"}, secret))
	secret.Labels = map[string]string{"rotated-by": "nobody"}
	must(t, k8s.Update(ctxFor(t), secret))

	labelNamespace(t, ns, map[string]string{"unrelated": "label"})

	time.Sleep(quietPeriod)
	if n := sim.Requests(upstreamsim.ProviderMixpeek, email); n != calls {
		t.Errorf("unrelated label/annotation edits caused %d upstream calls for a 401 user, want 0", n-calls)
	}
}

func TestClusterOrgProviderUsersIgnoreUnrelatedNamespaceLabels(t *testing.T) {
	t.Parallel()
	secretNS := newNamespace(t, nil)
	newSecret(t, secretNS, "shared-token", goodToken)
	cfg := simConfig(upstreamsim.ProviderMixpeek, "shared-token")
	cfg.Auth.SecretRef.Namespace = secretNS
	team := "team-" + uniqueSuffix()
	cop := &identityv1alpha1.ClusterOrgProvider{ObjectMeta: metav1.ObjectMeta{Name: "quiet-" + uniqueSuffix()},
		Spec: identityv1alpha1.ClusterOrgProviderSpec{ProviderConfig: cfg,
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"orgsync-team": team}}}}
	must(t, k8s.Create(ctxFor(t), cop))
	t.Cleanup(func() { _ = k8s.Delete(ctxFor(t), cop) })

	ns := newNamespace(t, map[string]string{"orgsync-team": team})
	email := putMixpeekUser(t, "admin", "active")
	newOrgUser(t, ns, "kim", cop.Name, email, func(u *identityv1alpha1.OrgUser) {
		u.Spec.ProviderRef.Kind = identityv1alpha1.ClusterOrgProviderKind
	})
	waitForReason(t, ns, "kim", identityv1alpha1.ConditionReady, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	time.Sleep(quietPeriod)
	calls := sim.Requests(upstreamsim.ProviderMixpeek, email)

	labelNamespace(t, ns, map[string]string{"orgsync-team": team, "cost-center": "42"})
	time.Sleep(quietPeriod)
	if n := sim.Requests(upstreamsim.ProviderMixpeek, email); n != calls {
		t.Errorf("a label edit that keeps the namespace admitted caused %d upstream calls, want 0", n-calls)
	}
}

func TestTokenWithTrailingNewlineWorks(t *testing.T) {
	t.Parallel()
	ns := mixpeekSetup(t, goodToken+"\n")
	newOrgUser(t, ns, "newline", "mixpeek", putMixpeekUser(t, "viewer", "active"))
	waitForReason(t, ns, "newline", identityv1alpha1.ConditionReady, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
}
