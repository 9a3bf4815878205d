package controller

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
)

// After a restart memory is empty; a user synced for weeks must not turn Stale on the first transient
// failure just because its Synced condition became True long ago.
func TestFirstTransientFailureAfterRestartKeepsALongSyncedUserReady(t *testing.T) {
	r := &OrgUserReconciler{started: statusNow.Add(-statusRefresh)}
	user := &identityv1alpha1.OrgUser{}
	user.UID = "uid"
	user.Status = goodStatus() // Synced=True since long before the restart

	in := input(transientOutcome())
	in.lastSuccess = r.lastSuccess(user)
	next := desiredStatus(&user.Status, in)

	if ready := meta.FindStatusCondition(next.Conditions, identityv1alpha1.ConditionReady); ready.Status != metav1.ConditionTrue {
		t.Fatalf("Ready = %s/%s after one failure following a restart, want True", ready.Status, ready.Reason)
	}

	// Three refresh intervals after the restart without success, the data is stale after all.
	in.now = r.started.Add(staleAfterRefreshes*statusRefresh + 1)
	next = desiredStatus(&user.Status, in)
	if ready := meta.FindStatusCondition(next.Conditions, identityv1alpha1.ConditionReady); ready.Reason != identityv1alpha1.ReasonStale {
		t.Fatalf("Ready reason = %s, want Stale", ready.Reason)
	}
}
