package directory

import (
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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
// pruneAfter, counted from the Ready condition's transition. A suspended OrgUser reads nothing, so
// its NotFound confirms nothing any more. The listing's word alone never deletes.
func pruneDue(user *identityv1alpha1.OrgUser, pruneAfter *metav1.Duration, now time.Time) pruneDecision {
	if pruneAfter == nil || user.Spec.Suspend || !user.DeletionTimestamp.IsZero() ||
		user.Status.State != string(provider.StateNotFound) {
		return pruneDecision{}
	}
	ready := meta.FindStatusCondition(user.Status.Conditions, identityv1alpha1.ConditionReady)
	if ready == nil || ready.Status != metav1.ConditionFalse || ready.Reason != identityv1alpha1.ReasonUserNotFound ||
		ready.ObservedGeneration != user.Generation || user.Status.ObservedGeneration != user.Generation {
		return pruneDecision{}
	}
	notFoundFor := now.Sub(ready.LastTransitionTime.Time)
	if notFoundFor >= pruneAfter.Duration {
		return pruneDecision{delete: true}
	}
	return pruneDecision{wait: pruneAfter.Duration - notFoundFor}
}
