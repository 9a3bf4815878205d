package controller

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
)

// After a restart or a leader change memory is empty; a user synced for weeks must not turn Stale on
// the first transient failure just because its Synced condition became True long ago.
func TestFirstTransientFailureAfterRestartKeepsALongSyncedUserReady(t *testing.T) {
	r := &OrgUserReconciler{}
	r.leaderSince.Store(statusNow.Add(-statusRefresh).UnixNano())
	user := &identityv1alpha1.OrgUser{}
	user.UID = "uid"
	user.Status = goodStatus() // Synced=True since long before the restart

	in := input(transientOutcome())
	in.lastSuccess = r.lastSuccess(user, userRecord{})
	next := desiredStatus(&user.Status, in)

	if ready := meta.FindStatusCondition(next.Conditions, identityv1alpha1.ConditionReady); ready.Status != metav1.ConditionTrue {
		t.Fatalf("Ready = %s/%s after one failure following a restart, want True", ready.Status, ready.Reason)
	}

	// Three refresh intervals after the restart without success, the data is stale after all.
	leader, _ := r.becameLeader()
	in.now = leader.Add(staleAfterRefreshes*statusRefresh + 1)
	next = desiredStatus(&user.Status, in)
	if ready := meta.FindStatusCondition(next.Conditions, identityv1alpha1.ConditionReady); ready.Reason != identityv1alpha1.ReasonStale {
		t.Fatalf("Ready reason = %s, want Stale", ready.Reason)
	}
}

// A warm standby may have started days before it becomes leader: the staleness clock starts at the
// hand-over, not at the process start.
func TestStalenessClockStartsWhenThisProcessBecameLeader(t *testing.T) {
	processStart := statusNow.Add(-72 * time.Hour)
	r := &OrgUserReconciler{Now: func() time.Time { return processStart }}
	user := &identityv1alpha1.OrgUser{}
	user.UID = "uid"
	user.Status = goodStatus()
	synced := meta.FindStatusCondition(user.Status.Conditions, identityv1alpha1.ConditionSynced)
	synced.LastTransitionTime = metav1.NewTime(statusNow.Add(-48 * time.Hour))

	r.leaderSince.Store(statusNow.UnixNano()) // took over just now, three days after starting
	if got := r.lastSuccess(user, userRecord{}); !got.Equal(statusNow) {
		t.Fatalf("lastSuccess = %v, want the hand-over time %v", got, statusNow)
	}
	in := input(transientOutcome())
	in.lastSuccess = r.lastSuccess(user, userRecord{})
	if ready := meta.FindStatusCondition(desiredStatus(&user.Status, in).Conditions, identityv1alpha1.ConditionReady); ready.Status != metav1.ConditionTrue {
		t.Errorf("Ready = %s/%s on the first failure after a hand-over, want True", ready.Status, ready.Reason)
	}
}
