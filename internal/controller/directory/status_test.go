package directory

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
)

func TestStatusAfterListings(t *testing.T) {
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	empty := &identityv1alpha1.OrgDirectoryStatus{}

	first := listedStatus(empty, 2, t0, listingResult{listed: 5, users: 4, conflicts: 1})
	ready := meta.FindStatusCondition(first.Conditions, identityv1alpha1.ConditionReady)
	if first.ObservedGeneration != 2 || first.ListedUsers != 5 || first.Users != 4 || first.Conflicts != 1 ||
		first.LastListedAt == nil || !first.LastListedAt.Time.Equal(t0) || ready == nil || ready.Status != metav1.ConditionTrue ||
		ready.Reason != identityv1alpha1.ReasonListed || ready.ObservedGeneration != 2 || !strings.Contains(ready.Message, "1 whose OrgUser name is taken") {
		t.Fatalf("status after a complete listing = %+v", first)
	}

	// The same listing an interval later changes lastListedAt only.
	t1 := t0.Add(time.Hour)
	again := listedStatus(first, 2, t1, listingResult{listed: 5, users: 4, conflicts: 1})
	want := first.DeepCopy()
	want.LastListedAt = &metav1.Time{Time: t1}
	if !equality.Semantic.DeepEqual(again, want) {
		t.Errorf("identical listing changed more than lastListedAt:\n%+v\nwant\n%+v", again, want)
	}

	// A failed listing keeps the last complete listing's counts and when it ended.
	failed := failedStatus(again, 3, t1.Add(time.Minute), 4, failure{identityv1alpha1.ReasonListFailed, "page 3 failed"})
	ready = meta.FindStatusCondition(failed.Conditions, identityv1alpha1.ConditionReady)
	if failed.ListedUsers != 5 || failed.Conflicts != 1 || !failed.LastListedAt.Time.Equal(t1) || failed.ObservedGeneration != 3 ||
		ready.Status != metav1.ConditionFalse || ready.Reason != identityv1alpha1.ReasonListFailed || ready.ObservedGeneration != 3 {
		t.Errorf("status after a failed listing = %+v", failed)
	}
	if repeated := failedStatus(failed, 3, t1.Add(2*time.Minute), 4, failure{identityv1alpha1.ReasonListFailed, "page 3 failed"}); !equality.Semantic.DeepEqual(repeated, failed) {
		t.Errorf("the same failure again changed the status: %+v", repeated)
	}
}

func TestBoundedMessage(t *testing.T) {
	long := strings.Repeat("é", 600) // 1200 bytes
	got := bounded(long)
	if len(got) > maxMessage || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") {
		t.Errorf("bounded: %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
	if bounded("short") != "short" {
		t.Error("a short message was changed")
	}
}
