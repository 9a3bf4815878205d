package integration

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/upstreamsim"
)

func TestOrgProviderReadyCondition(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t, nil)
	p := newOrgProvider(t, ns, "mp", simConfig(upstreamsim.ProviderMixpeek, "creds"))
	conds := func() []metav1.Condition { return p.Status.Conditions }

	waitForProviderReason(t, p, conds, metav1.ConditionFalse, identityv1alpha1.ReasonSecretNotFound)

	secret := newSecret(t, ns, "creds", "")
	secret.Data = map[string][]byte{"other": []byte("x")}
	must(t, k8s.Update(ctxFor(t), secret))
	waitForProviderReason(t, p, conds, metav1.ConditionFalse, identityv1alpha1.ReasonSecretKeyMissing)

	rotateSecret(t, ns, "creds", goodToken)
	waitForProviderReason(t, p, conds, metav1.ConditionTrue, identityv1alpha1.ReasonValid)
	if p.Status.ObservedGeneration != p.Generation || p.Status.Conditions[0].ObservedGeneration != p.Generation {
		t.Errorf("observedGeneration status %d condition %d, want %d", p.Status.ObservedGeneration, p.Status.Conditions[0].ObservedGeneration, p.Generation)
	}

	patch := client.MergeFrom(p.DeepCopy())
	p.Spec.CABundle = []byte("not a certificate")
	must(t, k8s.Patch(ctxFor(t), p, patch))
	waitForProviderReason(t, p, conds, metav1.ConditionFalse, identityv1alpha1.ReasonInvalidConfig)
	if c := meta.FindStatusCondition(p.Status.Conditions, identityv1alpha1.ConditionStalled); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("an invalid configuration should be Stalled so kstatus stops waiting, conditions: %s", describeConditions(p.Status.Conditions))
	}
	if p.Status.Conditions[0].ObservedGeneration != p.Generation {
		t.Errorf("condition observedGeneration %d, want %d", p.Status.Conditions[0].ObservedGeneration, p.Generation)
	}
}

func TestClusterOrgProviderReadyCondition(t *testing.T) {
	t.Parallel()
	secretNS := newNamespace(t, nil)
	cfg := simConfig(upstreamsim.ProviderFlashback, "cluster-creds")
	cfg.Auth.SecretRef.Namespace = secretNS
	cop := &identityv1alpha1.ClusterOrgProvider{ObjectMeta: metav1.ObjectMeta{Name: "cop-" + uniqueSuffix()},
		Spec: identityv1alpha1.ClusterOrgProviderSpec{ProviderConfig: cfg}}
	must(t, k8s.Create(ctxFor(t), cop))
	t.Cleanup(func() { _ = k8s.Delete(ctxFor(t), cop) })
	conds := func() []metav1.Condition { return cop.Status.Conditions }

	waitForProviderReason(t, cop, conds, metav1.ConditionFalse, identityv1alpha1.ReasonSecretNotFound)
	newSecret(t, secretNS, "cluster-creds", goodToken)
	waitForProviderReason(t, cop, conds, metav1.ConditionTrue, identityv1alpha1.ReasonValid)
}
