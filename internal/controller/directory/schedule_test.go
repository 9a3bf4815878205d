package directory

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
)

func TestNextListing(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	listedAt := func(at time.Time) *identityv1alpha1.OrgDirectoryStatus {
		t := metav1.NewTime(at)
		return &identityv1alpha1.OrgDirectoryStatus{ObservedGeneration: 3, LastListedAt: &t, Conditions: []metav1.Condition{{
			Type: identityv1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: identityv1alpha1.ReasonListed,
		}}}
	}
	failedStatus := listedAt(now.Add(-10 * time.Minute))
	failedStatus.Conditions[0].Status, failedStatus.Conditions[0].Reason = metav1.ConditionFalse, identityv1alpha1.ReasonListFailed
	tests := []struct {
		name     string
		in       scheduleInput
		wantDue  bool
		wantWait time.Duration
	}{
		{"never listed", scheduleInput{generation: 1, status: &identityv1alpha1.OrgDirectoryStatus{}}, true, 0},
		{"listed, interval not over",
			scheduleInput{generation: 3, status: listedAt(now.Add(-20 * time.Minute)), listInterval: time.Hour}, false, 40 * time.Minute},
		{"listed, interval over", scheduleInput{generation: 3, status: listedAt(now.Add(-time.Hour)), listInterval: time.Hour}, true, 0},
		{"spec changed since the listing",
			scheduleInput{generation: 4, status: listedAt(now.Add(-time.Minute)), listInterval: time.Hour}, true, 0},
		{"first failure: retried in 5s",
			scheduleInput{generation: 3, status: failedStatus, listInterval: time.Hour, failures: 1, failedAt: now}, false, 5 * time.Second},
		{"third failure: retried in 20s",
			scheduleInput{generation: 3, status: failedStatus, listInterval: time.Hour, failures: 3, failedAt: now}, false, 20 * time.Second},
		{"many failures: at most 5m",
			scheduleInput{generation: 3, status: failedStatus, listInterval: time.Hour, failures: 30, failedAt: now}, false, 5 * time.Minute},
		{"many failures: never later than listInterval",
			scheduleInput{generation: 3, status: failedStatus, listInterval: 2 * time.Minute, failures: 30, failedAt: now}, false, 2 * time.Minute},
		{"failed before this process started: at once",
			scheduleInput{generation: 3, status: failedStatus, listInterval: time.Hour}, true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.now = now
			due, wait := nextListing(tc.in)
			if due != tc.wantDue || wait != tc.wantWait {
				t.Errorf("nextListing = %v, %s; want %v, %s", due, wait, tc.wantDue, tc.wantWait)
			}
		})
	}
}
