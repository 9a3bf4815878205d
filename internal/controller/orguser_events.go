package controller

import (
	"fmt"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
)

// Event reasons on OrgUsers.
const (
	EventRoleChanged  = "RoleChanged"
	EventStateChanged = "StateChanged"
)

type changeEvent struct {
	reason  string
	message string
}

// changeEvents lists the events a status change deserves: only when a previous value existed and
// differs, so the first sync is silent.
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
