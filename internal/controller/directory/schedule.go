package directory

import (
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
)

// Retries of a failed listing: doubling from retryBaseDelay, at most retryMaxDelay and never later
// than the next listing would come anyway.
const (
	retryBaseDelay = 5 * time.Second
	retryMaxDelay  = 5 * time.Minute
)

// scheduleInput is what decides when a directory lists next.
type scheduleInput struct {
	generation   int64
	status       *identityv1alpha1.OrgDirectoryStatus
	listInterval time.Duration
	now          time.Time
	// failures counts the listings in a row that failed in this process, the last at failedAt.
	failures int
	failedAt time.Time
}

// nextListing says whether a listing is due now, or else how long until it is. A spec change lists
// at once; a failed listing is retried with backoff; a directory not Listed at its generation (never
// listed, or failed before this process started) lists at once; otherwise the next listing comes one
// listInterval after the end of the last complete one.
func nextListing(in scheduleInput) (due bool, wait time.Duration) {
	switch {
	case in.status.ObservedGeneration != in.generation:
		return true, 0
	case in.failures > 0:
		return dueAt(in.failedAt.Add(retryDelay(in.failures, in.listInterval)), in.now)
	case !listed(in.status) || in.status.LastListedAt == nil:
		return true, 0
	default:
		return dueAt(in.status.LastListedAt.Add(in.listInterval), in.now)
	}
}

func dueAt(at, now time.Time) (bool, time.Duration) {
	if !now.Before(at) {
		return true, 0
	}
	return false, at.Sub(now)
}

// retryDelay is the wait before retry number failures (1 after the first failure).
func retryDelay(failures int, listInterval time.Duration) time.Duration {
	limit := min(retryMaxDelay, listInterval)
	delay := retryBaseDelay
	for i := 1; i < failures && delay < limit; i++ {
		delay *= 2
	}
	return min(delay, limit)
}

// listed reports whether Ready says the last listing was complete.
func listed(status *identityv1alpha1.OrgDirectoryStatus) bool {
	ready := meta.FindStatusCondition(status.Conditions, identityv1alpha1.ConditionReady)
	return ready != nil && ready.Status == metav1.ConditionTrue && ready.Reason == identityv1alpha1.ReasonListed
}
