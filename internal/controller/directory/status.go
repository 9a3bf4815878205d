package directory

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
)

// maxMessage bounds condition messages, as for OrgUsers.
const maxMessage = 1024

// listingResult is what a complete listing did, for status.
type listingResult struct {
	listed, users, conflicts int
	unusableKeys, duplicates int
}

// listedStatus is the status after a complete listing: its counts, its end, Ready True Listed. The
// message says only what stays the same from one identical listing to the next, so that only
// lastListedAt changes then.
func listedStatus(prev *identityv1alpha1.OrgDirectoryStatus, generation int64, now time.Time,
	res listingResult) *identityv1alpha1.OrgDirectoryStatus {
	next := prev.DeepCopy()
	next.ObservedGeneration = generation
	next.ListedUsers = int32(min(res.listed, maxInt32))
	next.Users = int32(min(res.users, maxInt32))
	next.Conflicts = int32(min(res.conflicts, maxInt32))
	at := metav1.NewTime(now.UTC().Truncate(time.Second))
	next.LastListedAt = &at
	message := fmt.Sprintf("Listed %d users", res.listed)
	var notes []string
	if res.conflicts > 0 {
		notes = append(notes, fmt.Sprintf("%d whose OrgUser name is taken by an object this directory does not own", res.conflicts))
	}
	if res.unusableKeys > 0 {
		notes = append(notes, fmt.Sprintf("%d whose key no OrgUser can hold", res.unusableKeys))
	}
	if res.duplicates > 0 {
		notes = append(notes, fmt.Sprintf("%d listed under a key another user has", res.duplicates))
	}
	if len(notes) > 0 {
		message += "; not kept: " + strings.Join(notes, ", ")
	}
	setReady(next, generation, now, metav1.ConditionTrue, identityv1alpha1.ReasonListed, message)
	return next
}

const maxInt32 = 1<<31 - 1

// failedStatus is the status after a listing that changed nothing, or a provider that cannot be
// listed: the last complete listing's counts stay, Ready turns False with the reason.
func failedStatus(prev *identityv1alpha1.OrgDirectoryStatus, generation int64, now time.Time, users int,
	f failure) *identityv1alpha1.OrgDirectoryStatus {
	next := prev.DeepCopy()
	next.ObservedGeneration = generation
	next.Users = int32(min(users, maxInt32))
	setReady(next, generation, now, metav1.ConditionFalse, f.reason, f.message)
	return next
}

// countedStatus only updates how many OrgUsers the directory owns, between listings.
func countedStatus(prev *identityv1alpha1.OrgDirectoryStatus, users int) *identityv1alpha1.OrgDirectoryStatus {
	next := prev.DeepCopy()
	next.Users = int32(min(users, maxInt32))
	return next
}

func setReady(s *identityv1alpha1.OrgDirectoryStatus, generation int64, now time.Time, status metav1.ConditionStatus,
	reason, message string) {
	meta.SetStatusCondition(&s.Conditions, metav1.Condition{
		Type: identityv1alpha1.ConditionReady, Status: status, Reason: reason, Message: bounded(message),
		ObservedGeneration: generation, LastTransitionTime: metav1.NewTime(now),
	})
	for i := range s.Conditions {
		s.Conditions[i].ObservedGeneration = generation
	}
}

// bounded cuts a message to maxMessage bytes on a UTF-8 boundary.
func bounded(message string) string {
	if len(message) <= maxMessage {
		return message
	}
	cut := maxMessage - len("…")
	for cut > 0 && !utf8.RuneStart(message[cut]) {
		cut--
	}
	return message[:cut] + "…"
}
