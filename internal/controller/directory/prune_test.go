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
		// seen is what this process saw of the user; its uid is filled in.
		seen missingUser
	}{
		{"pruneAfter unset never deletes", notFoundSince(now.Add(-365 * 24 * time.Hour)), nil, pruneDecision{}, missingUser{}},
		{"NotFound for longer than pruneAfter", notFoundSince(now.Add(-8 * 24 * time.Hour)), week, pruneDecision{delete: true}, missingUser{}},
		{"NotFound for exactly pruneAfter", notFoundSince(now.Add(-7 * 24 * time.Hour)), week, pruneDecision{delete: true}, missingUser{}},
		{"NotFound for a day: wait the rest", notFoundSince(now.Add(-24 * time.Hour)), week, pruneDecision{wait: 6 * 24 * time.Hour}, missingUser{}},
		{"pruneAfter 0 deletes once NotFound is read", notFoundSince(now), &metav1.Duration{}, pruneDecision{delete: true}, missingUser{}},
		{"found (Active) is never deleted", notFoundSince(now.Add(-30*24*time.Hour), func(u *identityv1alpha1.OrgUser) {
			u.Status.State = "Active"
			u.Status.Conditions[0].Status, u.Status.Conditions[0].Reason = metav1.ConditionTrue, identityv1alpha1.ReasonSynced
		}), week, pruneDecision{}, missingUser{}},
		{"suspended upstream (Suspended) is never deleted", notFoundSince(now.Add(-30*24*time.Hour), func(u *identityv1alpha1.OrgUser) {
			u.Status.State = "Suspended"
		}), week, pruneDecision{}, missingUser{}},
		{"not read yet", &identityv1alpha1.OrgUser{}, week, pruneDecision{}, missingUser{}},
		{"NotFound, but the last read failed otherwise", notFoundSince(now.Add(-30*24*time.Hour), func(u *identityv1alpha1.OrgUser) {
			u.Status.Conditions[0].Reason = identityv1alpha1.ReasonProviderUnavailable
		}), week, pruneDecision{}, missingUser{}},
		{"status of an older generation", notFoundSince(now.Add(-30*24*time.Hour), func(u *identityv1alpha1.OrgUser) {
			u.Generation = 3
		}), week, pruneDecision{}, missingUser{}},
		{"suspended OrgUser reads nothing", notFoundSince(now.Add(-30*24*time.Hour), func(u *identityv1alpha1.OrgUser) {
			u.Spec.Suspend = true
		}), week, pruneDecision{}, missingUser{}},
		{"Ready False for a month for another reason, NotFound seen a day ago: the day counts",
			notFoundSince(now.Add(-30 * 24 * time.Hour)), week, pruneDecision{wait: 6 * 24 * time.Hour},
			missingUser{sawOther: true, notFoundSeen: now.Add(-24 * time.Hour)}},
		{"NotFound seen by this process after the transition it shows: still the later time",
			notFoundSince(now.Add(-8 * 24 * time.Hour)), week, pruneDecision{wait: 24 * time.Hour},
			missingUser{sawOther: true, notFoundSeen: now.Add(-6 * 24 * time.Hour)}},
		{"NotFound at first sight: its transition is all there is", notFoundSince(now.Add(-8 * 24 * time.Hour)), week,
			pruneDecision{delete: true}, missingUser{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.seen.uid = tc.user.UID
			if got := pruneDue(tc.user, tc.pruneAfter, tc.seen, now); got != tc.want {
				t.Errorf("pruneDue = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// What the directory sees of a missing OrgUser over time: the NotFound it sees after anything else
// is dated when it is seen, never earlier.
func TestMissingUserObserve(t *testing.T) {
	start := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	status := func(state, reason string, ready metav1.ConditionStatus) *identityv1alpha1.OrgUser {
		return &identityv1alpha1.OrgUser{
			ObjectMeta: metav1.ObjectMeta{UID: "u1", Generation: 1},
			Status: identityv1alpha1.OrgUserStatus{ObservedGeneration: 1, State: state, Conditions: []metav1.Condition{{
				Type: identityv1alpha1.ConditionReady, Status: ready, Reason: reason, ObservedGeneration: 1,
				LastTransitionTime: metav1.NewTime(start.Add(-30 * 24 * time.Hour)),
			}}},
		}
	}
	unauthorized := status("Active", identityv1alpha1.ReasonUnauthorized, metav1.ConditionFalse)
	notFound := status("NotFound", identityv1alpha1.ReasonUserNotFound, metav1.ConditionFalse)
	synced := status("Active", identityv1alpha1.ReasonSynced, metav1.ConditionTrue)

	var m missingUser
	m = m.observe(notFound, start)
	if !m.notFoundSeen.IsZero() {
		t.Errorf("NotFound at first sight dated %s, want undated (the condition's transition counts)", m.notFoundSeen)
	}
	m = missingUser{}.observe(unauthorized, start)
	m = m.observe(notFound, start.Add(time.Hour))
	m = m.observe(notFound, start.Add(2*time.Hour))
	if !m.notFoundSeen.Equal(start.Add(time.Hour)) {
		t.Errorf("NotFound after Unauthorized dated %s, want when it was first seen (%s)", m.notFoundSeen, start.Add(time.Hour))
	}
	m = m.observe(synced, start.Add(3*time.Hour)).observe(notFound, start.Add(4*time.Hour))
	if !m.notFoundSeen.Equal(start.Add(4 * time.Hour)) {
		t.Errorf("NotFound again after a successful read dated %s, want %s", m.notFoundSeen, start.Add(4*time.Hour))
	}
	replaced := notFound.DeepCopy()
	replaced.UID = "u2"
	if m = m.observe(replaced, start.Add(5*time.Hour)); m.sawOther || !m.notFoundSeen.IsZero() {
		t.Errorf("an OrgUser created again under the name inherited %+v", m)
	}
}
