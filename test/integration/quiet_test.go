package integration

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/upstreamsim"
	"github.com/orgsync/orgsync/test/envsuite"
)

// quietPeriod is long enough for several Secret polls (500ms) and for any enqueued reconcile to run.
const quietPeriod = 2 * time.Second

// Edits that do not concern the user must not call upstream: a 401 user is retried at refreshInterval,
// never faster, and a synced user is not re-read because someone labelled something.
func TestUnrelatedEditsMakeNoUpstreamCalls(t *testing.T) {
	t.Parallel()
	ns := mixpeekSetup(t, envsuite.UnknownToken)
	email := envsuite.PutMixpeekUser(suite.Sim, "member", "active")
	suite.NewOrgUser(t, ns, "noisy", "mixpeek", email)
	suite.WaitForCondition(t, ns, "noisy", identityv1alpha1.ConditionReady, metav1.ConditionFalse, identityv1alpha1.ReasonUnauthorized)
	time.Sleep(quietPeriod)
	calls := suite.Sim.Requests(upstreamsim.ProviderMixpeek, email)

	u := suite.GetUser(t, ns, "noisy")
	patch := client.MergeFrom(u.DeepCopy())
	u.Labels = map[string]string{"team": "a"}
	u.Annotations = map[string]string{"example.com/owner": "someone"}
	envsuite.Must(t, suite.Client.Patch(envsuite.Ctx(t), u, patch))

	secret := &corev1.Secret{}
	envsuite.Must(t, suite.Client.Get(envsuite.Ctx(t), client.ObjectKey{Namespace: ns, Name: "mixpeek-token"}, secret))
	secret.Labels = map[string]string{"rotated-by": "nobody"}
	envsuite.Must(t, suite.Client.Update(envsuite.Ctx(t), secret))

	labelNamespace(t, ns, map[string]string{"unrelated": "label"})

	time.Sleep(quietPeriod)
	if n := suite.Sim.Requests(upstreamsim.ProviderMixpeek, email); n != calls {
		t.Errorf("unrelated label/annotation edits caused %d upstream calls for a 401 user, want 0", n-calls)
	}
}

func TestClusterOrgProviderUsersIgnoreUnrelatedNamespaceLabels(t *testing.T) {
	t.Parallel()
	secretNS := suite.NewNamespace(t, "t", nil, nil)
	suite.NewSecret(t, secretNS, "shared-token", envsuite.GoodToken)
	cfg := envsuite.SimConfig(suite.Sim, upstreamsim.ProviderMixpeek, "shared-token")
	cfg.Auth.SecretRef.Namespace = secretNS
	team := "team-" + envsuite.UniqueSuffix()
	cop := &identityv1alpha1.ClusterOrgProvider{ObjectMeta: metav1.ObjectMeta{Name: "quiet-" + envsuite.UniqueSuffix()},
		Spec: identityv1alpha1.ClusterOrgProviderSpec{ProviderConfig: cfg,
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"orgsync-team": team}}}}
	envsuite.Must(t, suite.Client.Create(envsuite.Ctx(t), cop))
	t.Cleanup(func() { _ = suite.Client.Delete(envsuite.Ctx(t), cop) })

	ns := suite.NewNamespace(t, "t", map[string]string{"orgsync-team": team}, nil)
	email := envsuite.PutMixpeekUser(suite.Sim, "admin", "active")
	suite.NewOrgUser(t, ns, "kim", cop.Name, email, func(u *identityv1alpha1.OrgUser) {
		u.Spec.ProviderRef.Kind = identityv1alpha1.ClusterOrgProviderKind
	})
	suite.WaitForCondition(t, ns, "kim", identityv1alpha1.ConditionReady, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	time.Sleep(quietPeriod)
	calls := suite.Sim.Requests(upstreamsim.ProviderMixpeek, email)

	labelNamespace(t, ns, map[string]string{"orgsync-team": team, "cost-center": "42"})
	time.Sleep(quietPeriod)
	if n := suite.Sim.Requests(upstreamsim.ProviderMixpeek, email); n != calls {
		t.Errorf("a label edit that keeps the namespace admitted caused %d upstream calls, want 0", n-calls)
	}
}

func TestTokenWithTrailingNewlineWorks(t *testing.T) {
	t.Parallel()
	ns := mixpeekSetup(t, envsuite.GoodToken+"\n")
	suite.NewOrgUser(t, ns, "newline", "mixpeek", envsuite.PutMixpeekUser(suite.Sim, "viewer", "active"))
	suite.WaitForCondition(t, ns, "newline", identityv1alpha1.ConditionReady, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
}
