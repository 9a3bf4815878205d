package integration

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/upstreamsim"
	"github.com/orgsync/orgsync/test/envsuite"
)

func TestOrgProviderReadyCondition(t *testing.T) {
	t.Parallel()
	ns := suite.NewNamespace(t, "t", nil, nil)
	p := suite.NewOrgProvider(t, ns, "mp", envsuite.SimConfig(suite.Sim, upstreamsim.ProviderMixpeek, "creds"))
	conds := func() []metav1.Condition { return p.Status.Conditions }

	suite.WaitForProviderReady(t, p, conds, metav1.ConditionFalse, identityv1alpha1.ReasonSecretNotFound)

	secret := suite.NewSecret(t, ns, "creds", "")
	secret.Data = map[string][]byte{"other": []byte("x")}
	envsuite.Must(t, suite.Client.Update(envsuite.Ctx(t), secret))
	suite.WaitForProviderReady(t, p, conds, metav1.ConditionFalse, identityv1alpha1.ReasonSecretKeyMissing)

	rotateSecret(t, ns, "creds", envsuite.GoodToken)
	suite.WaitForProviderReady(t, p, conds, metav1.ConditionTrue, identityv1alpha1.ReasonValid)
	if p.Status.ObservedGeneration != p.Generation || p.Status.Conditions[0].ObservedGeneration != p.Generation {
		t.Errorf("observedGeneration status %d condition %d, want %d", p.Status.ObservedGeneration, p.Status.Conditions[0].ObservedGeneration, p.Generation)
	}

	patch := client.MergeFrom(p.DeepCopy())
	p.Spec.CABundle = []byte("not a certificate")
	envsuite.Must(t, suite.Client.Patch(envsuite.Ctx(t), p, patch))
	suite.WaitForProviderReady(t, p, conds, metav1.ConditionFalse, identityv1alpha1.ReasonInvalidConfig)
	if c := meta.FindStatusCondition(p.Status.Conditions, identityv1alpha1.ConditionStalled); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("an invalid configuration should be Stalled so kstatus stops waiting, conditions: %s", envsuite.DescribeConditions(p.Status.Conditions))
	}
	if p.Status.Conditions[0].ObservedGeneration != p.Generation {
		t.Errorf("condition observedGeneration %d, want %d", p.Status.Conditions[0].ObservedGeneration, p.Generation)
	}
}

func TestClusterOrgProviderReadyCondition(t *testing.T) {
	t.Parallel()
	secretNS := suite.NewNamespace(t, "t", nil, nil)
	cfg := envsuite.SimConfig(suite.Sim, upstreamsim.ProviderFlashback, "cluster-creds")
	cfg.Auth.SecretRef.Namespace = secretNS
	cop := &identityv1alpha1.ClusterOrgProvider{ObjectMeta: metav1.ObjectMeta{Name: "cop-" + envsuite.UniqueSuffix()},
		Spec: identityv1alpha1.ClusterOrgProviderSpec{ProviderConfig: cfg}}
	envsuite.Must(t, suite.Client.Create(envsuite.Ctx(t), cop))
	t.Cleanup(func() { _ = suite.Client.Delete(envsuite.Ctx(t), cop) })
	conds := func() []metav1.Condition { return cop.Status.Conditions }

	suite.WaitForProviderReady(t, cop, conds, metav1.ConditionFalse, identityv1alpha1.ReasonSecretNotFound)
	suite.NewSecret(t, secretNS, "cluster-creds", envsuite.GoodToken)
	suite.WaitForProviderReady(t, cop, conds, metav1.ConditionTrue, identityv1alpha1.ReasonValid)
}
