package directory

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
)

func TestPruneDue(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	week := &metav1.Duration{Duration: 7 * 24 * time.Hour}
	// notFoundSince is an OrgUser that read NotFound at since, at generation 2.
	notFoundSince := func(since time.Time, edit ...func(*identityv1alpha1.OrgUser)) *identityv1alpha1.OrgUser {
		u := &identityv1alpha1.OrgUser{
			ObjectMeta: metav1.ObjectMeta{Generation: 2},
			Status: identityv1alpha1.OrgUserStatus{ObservedGeneration: 2, State: "NotFound", Conditions: []metav1.Condition{{
				Type: identityv1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: identityv1alpha1.ReasonUserNotFound,
				ObservedGeneration: 2, LastTransitionTime: metav1.NewTime(since),
			}}},
		}
		for _, e := range edit {
			e(u)
		}
		return u
	}
	tests := []struct {
		name       string
		user       *identityv1alpha1.OrgUser
		pruneAfter *metav1.Duration
		want       pruneDecision
	}{
		{"pruneAfter unset never deletes", notFoundSince(now.Add(-365 * 24 * time.Hour)), nil, pruneDecision{}},
		{"NotFound for longer than pruneAfter", notFoundSince(now.Add(-8 * 24 * time.Hour)), week, pruneDecision{delete: true}},
		{"NotFound for exactly pruneAfter", notFoundSince(now.Add(-7 * 24 * time.Hour)), week, pruneDecision{delete: true}},
		{"NotFound for a day: wait the rest", notFoundSince(now.Add(-24 * time.Hour)), week, pruneDecision{wait: 6 * 24 * time.Hour}},
		{"pruneAfter 0 deletes once NotFound is read", notFoundSince(now), &metav1.Duration{}, pruneDecision{delete: true}},
		{"found (Active) is never deleted", notFoundSince(now.Add(-30*24*time.Hour), func(u *identityv1alpha1.OrgUser) {
			u.Status.State = "Active"
			u.Status.Conditions[0].Status, u.Status.Conditions[0].Reason = metav1.ConditionTrue, identityv1alpha1.ReasonSynced
		}), week, pruneDecision{}},
		{"suspended upstream (Suspended) is never deleted", notFoundSince(now.Add(-30*24*time.Hour), func(u *identityv1alpha1.OrgUser) {
			u.Status.State = "Suspended"
		}), week, pruneDecision{}},
		{"not read yet", &identityv1alpha1.OrgUser{}, week, pruneDecision{}},
		{"NotFound, but the last read failed otherwise", notFoundSince(now.Add(-30*24*time.Hour), func(u *identityv1alpha1.OrgUser) {
			u.Status.Conditions[0].Reason = identityv1alpha1.ReasonProviderUnavailable
		}), week, pruneDecision{}},
		{"status of an older generation", notFoundSince(now.Add(-30*24*time.Hour), func(u *identityv1alpha1.OrgUser) {
			u.Generation = 3
		}), week, pruneDecision{}},
		{"suspended OrgUser reads nothing", notFoundSince(now.Add(-30*24*time.Hour), func(u *identityv1alpha1.OrgUser) {
			u.Spec.Suspend = true
		}), week, pruneDecision{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := pruneDue(tc.user, tc.pruneAfter, now); got != tc.want {
				t.Errorf("pruneDue = %+v, want %+v", got, tc.want)
			}
		})
	}
}
