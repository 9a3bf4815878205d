package integration

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/upstreamsim"
	"github.com/orgsync/orgsync/test/envsuite"
)

func TestSuspendStopsUpstreamCallsButObservesTheGeneration(t *testing.T) {
	t.Parallel()
	ns := mixpeekSetup(t, envsuite.GoodToken)
	email := envsuite.PutMixpeekUser(suite.Sim, "member", "active")
	suite.NewOrgUser(t, ns, "sam", "mixpeek", email)
	before := suite.WaitForCondition(t, ns, "sam", identityv1alpha1.ConditionReady, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	calls := suite.Sim.Requests(upstreamsim.ProviderMixpeek, email)

	patch := client.MergeFrom(before.DeepCopy())
	before.Spec.Suspend = true
	before.Spec.RefreshInterval = &metav1.Duration{Duration: 20 * time.Second}
	envsuite.Must(t, suite.Client.Patch(envsuite.Ctx(t), before, patch))
	generation := before.Generation

	suite.Sim.SetMixpeekRole(email, "admin")
	var after *identityv1alpha1.OrgUser
	envsuite.Eventually(t, envsuite.SettleTimeout, func() error {
		after = suite.GetUser(t, ns, "sam")
		if after.Status.ObservedGeneration != generation {
			return errorfNotYet("observedGeneration %d, want %d", after.Status.ObservedGeneration, generation)
		}
		return nil
	})
	envsuite.RequireConditionsObserved(t, after)
	if after.Status.Role != "Member" {
		t.Errorf("suspended user's role changed to %s", after.Status.Role)
	}
	ready := findCondition(after, identityv1alpha1.ConditionReady)
	if ready.Status != metav1.ConditionTrue || ready.Reason != identityv1alpha1.ReasonSynced {
		t.Errorf("Ready changed under suspend: %s/%s", ready.Status, ready.Reason)
	}

	// A force-refresh request on a suspended user calls nothing either.
	suite.RequestRefresh(t, ns, "sam")
	time.Sleep(2 * time.Second)
	if n := suite.Sim.Requests(upstreamsim.ProviderMixpeek, email); n != calls {
		t.Errorf("suspended user made %d upstream calls, want none", n-calls)
	}
}
