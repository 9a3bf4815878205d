package integration

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/upstreamsim"
	"github.com/orgsync/orgsync/test/envsuite"
)

// The contract's "no heartbeat writes": a refresh whose answer is unchanged writes nothing.
func TestUnchangedRefreshWritesNothing(t *testing.T) {
	t.Parallel()
	ns := mixpeekSetup(t, envsuite.GoodToken)
	email := envsuite.PutMixpeekUser(suite.Sim, "viewer", "pending")
	suite.NewOrgUser(t, ns, "quiet", "mixpeek", email, func(u *identityv1alpha1.OrgUser) {
		u.Spec.RefreshInterval = &metav1.Duration{Duration: 10 * time.Second}
	})
	suite.WaitForCondition(t, ns, "quiet", identityv1alpha1.ConditionReady, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	// Let the first write settle, then watch two refreshes go by.
	time.Sleep(time.Second)
	synced := suite.GetUser(t, ns, "quiet")
	calls := suite.Sim.Requests(upstreamsim.ProviderMixpeek, email)
	events := len(suite.Events(t, ns, "quiet", "RoleChanged")) + len(suite.Events(t, ns, "quiet", "StateChanged"))

	envsuite.Eventually(t, 40*time.Second, func() error {
		if n := suite.Sim.Requests(upstreamsim.ProviderMixpeek, email); n < calls+2 {
			return errorfNotYet("%d refreshes so far", n-calls)
		}
		return nil
	})
	after := suite.GetUser(t, ns, "quiet")
	if after.ResourceVersion != synced.ResourceVersion {
		t.Errorf("resourceVersion changed from %s to %s across unchanged refreshes: status was rewritten",
			synced.ResourceVersion, after.ResourceVersion)
	}
	if n := len(suite.Events(t, ns, "quiet", "RoleChanged")) + len(suite.Events(t, ns, "quiet", "StateChanged")); n != events {
		t.Errorf("%d new events across unchanged refreshes, want 0", n-events)
	}
}
