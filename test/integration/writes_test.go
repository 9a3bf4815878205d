package integration

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/upstreamsim"
)

// The contract's "no heartbeat writes": a refresh whose answer is unchanged writes nothing.
func TestUnchangedRefreshWritesNothing(t *testing.T) {
	t.Parallel()
	ns := mixpeekSetup(t, goodToken)
	email := putMixpeekUser(t, "viewer", "pending")
	newOrgUser(t, ns, "quiet", "mixpeek", email, func(u *identityv1alpha1.OrgUser) {
		u.Spec.RefreshInterval = &metav1.Duration{Duration: 10 * time.Second}
	})
	waitForReason(t, ns, "quiet", identityv1alpha1.ConditionReady, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	// Let the first write settle, then watch two refreshes go by.
	time.Sleep(time.Second)
	synced := getUser(t, ns, "quiet")
	calls := sim.Requests(upstreamsim.ProviderMixpeek, email)
	events := len(eventsFor(t, ns, "quiet", "RoleChanged")) + len(eventsFor(t, ns, "quiet", "StateChanged"))

	eventually(t, 40*time.Second, func() error {
		if n := sim.Requests(upstreamsim.ProviderMixpeek, email); n < calls+2 {
			return errorfNotYet("%d refreshes so far", n-calls)
		}
		return nil
	})
	after := getUser(t, ns, "quiet")
	if after.ResourceVersion != synced.ResourceVersion {
		t.Errorf("resourceVersion changed from %s to %s across unchanged refreshes: status was rewritten",
			synced.ResourceVersion, after.ResourceVersion)
	}
	if n := len(eventsFor(t, ns, "quiet", "RoleChanged")) + len(eventsFor(t, ns, "quiet", "StateChanged")); n != events {
		t.Errorf("%d new events across unchanged refreshes, want 0", n-events)
	}
}
