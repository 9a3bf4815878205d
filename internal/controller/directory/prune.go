package directory

import (
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/provider"
)

// pruneDecision says whether an owned OrgUser that the last complete listing lacked may be deleted
// now, or else how long until it may (0: not while its status says what it says now).
type pruneDecision struct {
	delete bool
	wait   time.Duration
}

// pruneDue decides on positive confirmation only: pruneAfter is set, and the OrgUser itself has read
// NotFound (state NotFound, Ready False UserNotFound at its current generation) for at least
// pruneAfter. That time counts from the Ready condition's transition, or from when this process saw
// the NotFound (seen) if that is later: Ready False for another reason (a failing upstream, a
// refused token) and then UserNotFound is no transition, and the condition's time would count the
// failures as NotFound. A suspended OrgUser reads nothing, so its NotFound confirms nothing any more.
// The listing's word alone never deletes.
func pruneDue(user *identityv1alpha1.OrgUser, pruneAfter *metav1.Duration, seen missingUser, now time.Time) pruneDecision {
	if pruneAfter == nil || user.Spec.Suspend || !user.DeletionTimestamp.IsZero() || !readsNotFound(user) {
		return pruneDecision{}
	}
	since := meta.FindStatusCondition(user.Status.Conditions, identityv1alpha1.ConditionReady).LastTransitionTime.Time
	if seen.uid == user.UID && seen.notFoundSeen.After(since) {
		since = seen.notFoundSeen
	}
	notFoundFor := now.Sub(since)
	if notFoundFor >= pruneAfter.Duration {
		return pruneDecision{delete: true}
	}
	return pruneDecision{wait: pruneAfter.Duration - notFoundFor}
}

// readsNotFound reports whether the OrgUser's status at its current generation says its last read
// was NotFound.
func readsNotFound(user *identityv1alpha1.OrgUser) bool {
	if user.Status.State != string(provider.StateNotFound) {
		return false
	}
	ready := meta.FindStatusCondition(user.Status.Conditions, identityv1alpha1.ConditionReady)
	return ready != nil && ready.Status == metav1.ConditionFalse && ready.Reason == identityv1alpha1.ReasonUserNotFound &&
		ready.ObservedGeneration == user.Generation && user.Status.ObservedGeneration == user.Generation
}

// missingUser is what this process saw of an owned OrgUser that the last complete listing lacked.
type missingUser struct {
	uid types.UID
	// sawOther: its status said something other than NotFound since it went missing.
	sawOther bool
	// notFoundSeen is when it was first seen reading NotFound after that; zero when it read NotFound
	// at first sight (its Ready transition is then all there is to go by) or does not now.
	notFoundSeen time.Time
}

// observe is m after seeing user at now.
func (m missingUser) observe(user *identityv1alpha1.OrgUser, now time.Time) missingUser {
	if m.uid != user.UID {
		m = missingUser{uid: user.UID}
	}
	switch {
	case !readsNotFound(user):
		m.sawOther, m.notFoundSeen = true, time.Time{}
	case m.sawOther && m.notFoundSeen.IsZero():
		m.notFoundSeen = now
	}
	return m
}
