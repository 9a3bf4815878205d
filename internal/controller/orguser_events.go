package controller

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
)

// Event reasons on OrgUsers.
const (
	EventRoleChanged  = "RoleChanged"
	EventStateChanged = "StateChanged"
)

// warnedReasons are the Ready reasons a person watching events should hear about: each gets a Warning
// event of the same name when Ready turns to it.
var warnedReasons = map[string]bool{
	identityv1alpha1.ReasonUnauthorized: true,
	identityv1alpha1.ReasonForbidden:    true,
	identityv1alpha1.ReasonUserNotFound: true,
	identityv1alpha1.ReasonStale:        true,
}

type changeEvent struct {
	reason  string
	message string
}

// changeEvents lists the Normal events a status change deserves: only when a previous value existed
// and differs, so the first sync is silent.
func changeEvents(prev, next *identityv1alpha1.OrgUserStatus) []changeEvent {
	var events []changeEvent
	if prev.Role != "" && next.Role != "" && prev.Role != next.Role {
		events = append(events, changeEvent{EventRoleChanged, fmt.Sprintf("role changed from %s to %s", prev.Role, next.Role)})
	}
	if prev.State != "" && next.State != "" && prev.State != next.State {
		events = append(events, changeEvent{EventStateChanged, fmt.Sprintf("state changed from %s to %s", prev.State, next.State)})
	}
	return events
}

// warningEvents lists the Warning event a status change deserves: one when Ready turns False with a
// warned reason it did not have before, so a retry that fails the same way stays silent.
func warningEvents(prev, next *identityv1alpha1.OrgUserStatus) []changeEvent {
	after := meta.FindStatusCondition(next.Conditions, identityv1alpha1.ConditionReady)
	if after == nil || after.Status != metav1.ConditionFalse || !warnedReasons[after.Reason] {
		return nil
	}
	before := meta.FindStatusCondition(prev.Conditions, identityv1alpha1.ConditionReady)
	if before != nil && before.Status == after.Status && before.Reason == after.Reason {
		return nil
	}
	return []changeEvent{{after.Reason, after.Message}}
}
