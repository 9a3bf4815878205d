package controller

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
)

// decisionInput is everything one reconcile knows when it decides: the object as read, what this
// process remembers of the user, what the attempt to read it upstream came to, and the clock.
type decisionInput struct {
	prev       *identityv1alpha1.OrgUserStatus
	labels     map[string]string
	generation int64
	now        time.Time
	suspended  bool
	record     userRecord
	// lastSuccess is when the user was last read successfully, as far as this process can tell
	// (see OrgUserReconciler.lastSuccess); zero when unknown.
	lastSuccess time.Time
	// handledRequest is the force-refresh annotation value not yet acknowledged, or "".
	handledRequest string
	att            attempt
}

// decision is what one reconcile does: every rule of when a user is read, what is written and when
// it comes back is a row of decide's table test.
type decision struct {
	// status is the status to write; nil writes nothing.
	status *identityv1alpha1.OrgUserStatus
	// labels are the mirrored labels to apply; nil when the object already carries them.
	labels map[string]string
	// requeue is when to come back; zero means only a change of the object brings the user back.
	requeue time.Duration
	record  userRecord
}

// decide is pure: the same input gives the same decision, apart from the jitter of retries.
func decide(in decisionInput) decision {
	d := decideRow(in)
	d.record.seen = true
	d.record.readAt = time.Time{}
	if d.requeue > 0 {
		d.record.readAt = in.now.Add(d.requeue)
	}
	after := in.prev
	if d.status != nil {
		if equality.Semantic.DeepEqual(in.prev, d.status) {
			d.status = nil
		} else {
			after = d.status
		}
	}
	if want := mirroredLabels(after); !labelsMirrored(in.labels, want) {
		d.labels = want
	}
	return d
}

// decideRow is the row of the rules that applies; decide adds what every row shares.
func decideRow(in decisionInput) decision {
	rec := in.record
	att := in.att
	if att.refreshInterval > 0 {
		rec.refreshInterval = att.refreshInterval
	}
	refresh := rec.refreshInterval
	switch {
	case in.suspended:
		// No upstream call and no timer; the edit is observed so kstatus sees it.
		return decision{status: suspendedStatus(in.prev, in.generation), record: rec}

	case att.notDue, att.deferred > 0:
		// Nothing was sent, so nothing was learned: nothing is written, unless the mirror has
		// aged past the staleness limit meanwhile. Nothing postpones that.
		wait := att.deferred
		if att.notDue {
			if in.record.readAt.IsZero() {
				// No read is scheduled (InvalidKey, AmbiguousKey): mending labels must not start one.
				return decision{record: rec}
			}
			wait = max(time.Second, in.record.readAt.Sub(in.now))
		}
		d := decision{requeue: capAtStaleDeadline(in, refresh, wait), record: rec}
		if staleDue(in, refresh) {
			d.status = staleAfterDeferral(in, refresh, deferredMessage(att))
		}
		return d

	case att.outcome.rateLimited && fresh(in, refresh):
		// The upstream asked every user of the provider to wait and this mirror is still good: the
		// pause is recorded once, on the provider; only the user who asked for a refresh gets the
		// answer written.
		d := decision{requeue: capAtStaleDeadline(in, refresh, pauseWait(in)), record: rec}
		if in.handledRequest != "" {
			d.status = desiredStatus(in.prev, statusInputOf(in, refresh, in.lastSuccess))
		}
		return d
	}

	lastSuccess := in.lastSuccess
	switch out := att.outcome; {
	case out.succeeded():
		att.firstRead = rec.lastSuccess.IsZero()
		rec.lastSuccess = in.now.Add(-att.answerAge)
		rec.failures = 0
		lastSuccess = rec.lastSuccess
	case out.transient():
		rec.failures++
		if out.rateLimited {
			att.retryAfter = pauseWait(in)
		}
	default:
		rec.failures = 0
	}
	sin := statusInputOf(in, refresh, lastSuccess)
	return decision{
		status:  desiredStatus(in.prev, sin),
		requeue: nextAttempt(att, rec.failures, sin),
		record:  rec,
	}
}

func statusInputOf(in decisionInput, refresh time.Duration, lastSuccess time.Time) statusInput {
	return statusInput{
		generation:      in.generation,
		now:             in.now,
		outcome:         in.att.outcome,
		refreshInterval: refresh,
		lastSuccess:     lastSuccess,
		handledRequest:  in.handledRequest,
	}
}

// pauseWait is how long the provider-wide pause still lasts: a 429 without Retry-After pauses the
// connection too, and its users come back when it ends, not in a second.
func pauseWait(in decisionInput) time.Duration {
	return max(time.Second, in.att.retryAfter, in.att.pausedUntil.Sub(in.now))
}

// readyNow reports whether the mirror is Ready at this generation with good data.
func readyNow(s *identityv1alpha1.OrgUserStatus) bool {
	ready := meta.FindStatusCondition(s.Conditions, identityv1alpha1.ConditionReady)
	return ready != nil && ready.Status == metav1.ConditionTrue
}

// fresh reports whether the mirror is Ready and younger than the staleness limit.
func fresh(in decisionInput, refresh time.Duration) bool {
	return readyNow(in.prev) && in.prev.ObservedGeneration == in.generation && !in.lastSuccess.IsZero() &&
		in.now.Sub(in.lastSuccess) < staleAfterRefreshes*refresh
}

// staleDue reports whether a Ready mirror has passed the staleness limit.
func staleDue(in decisionInput, refresh time.Duration) bool {
	return readyNow(in.prev) && !in.lastSuccess.IsZero() && refresh > 0 &&
		in.now.Sub(in.lastSuccess) > staleAfterRefreshes*refresh
}

// capAtStaleDeadline brings a Ready user back just after its staleness limit at the latest, so a long
// Retry-After, a deferral or a restart spread cannot keep a stale mirror Ready.
func capAtStaleDeadline(in decisionInput, refresh, wait time.Duration) time.Duration {
	if !readyNow(in.prev) || in.lastSuccess.IsZero() || refresh <= 0 {
		return wait
	}
	untilStale := in.lastSuccess.Add(staleAfterRefreshes * refresh).Sub(in.now)
	if untilStale <= 0 {
		return wait
	}
	return min(wait, untilStale+time.Second)
}

// staleAfterDeferral turns Ready False with reason Stale and leaves everything else: no call was made, so
// Synced still tells the last call's outcome.
func staleAfterDeferral(in decisionInput, refresh time.Duration, cause string) *identityv1alpha1.OrgUserStatus {
	next := in.prev.DeepCopy()
	next.ObservedGeneration = in.generation
	maxAge := staleAfterRefreshes * refresh
	msg := fmt.Sprintf("No successful read since %s, more than %d refresh intervals (%s) ago: %s",
		in.lastSuccess.UTC().Format(time.RFC3339), staleAfterRefreshes, maxAge, cause)
	setCondition(next, statusInput{generation: in.generation, now: in.now}, identityv1alpha1.ConditionReady,
		metav1.ConditionFalse, identityv1alpha1.ReasonStale, msg)
	observeGeneration(next, in.generation)
	return next
}

func deferredMessage(att attempt) string {
	if att.deferredCause != "" {
		return "Lookup deferred (" + att.deferredCause + "), nothing sent"
	}
	return "No read due yet"
}
