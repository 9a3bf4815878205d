package controller

import (
	"math/rand/v2"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/provider"
)

// Every rule of what one reconcile writes and when the user comes back, one row each.
func TestDecide(t *testing.T) {
	now := statusNow
	refresh := time.Hour
	fresh := syncedAt(now.Add(-10 * time.Minute))
	nearlyStale := syncedAt(now.Add(-3*refresh + 5*time.Minute))
	pastStale := syncedAt(now.Add(-3*refresh - time.Minute))
	success := syncOutcome{reason: identityv1alpha1.ReasonSynced, message: "User is mirrored from mixpeek",
		user: &provider.User{ID: "usr_a1b2c3", Email: "alice@example.com", DisplayName: "Alice Smith", Role: "Member",
			ProviderRole: "member", State: "Active"}, providerName: "mixpeek"}
	limited := syncOutcome{reason: identityv1alpha1.ReasonProviderUnavailable, message: "429", rateLimited: true}
	seen := userRecord{seen: true, refreshInterval: refresh}

	tests := []struct {
		name        string
		prev        identityv1alpha1.OrgUserStatus
		labels      map[string]string
		record      userRecord
		lastSuccess time.Time
		handled     string
		suspended   bool
		att         attempt
		// wantWrite: a status is written; wantReady: its Ready reason when written ("" = not checked)
		wantWrite   bool
		wantReady   string
		wantLabels  bool
		minRequeue  time.Duration
		maxRequeue  time.Duration
		wantHandled string
	}{
		{name: "deferral writes nothing and comes back when told", prev: fresh, labels: mirroredLabels(&fresh), record: seen,
			lastSuccess: now.Add(-10 * time.Minute), att: attempt{deferred: 3 * time.Second, deferredCause: "client"},
			minRequeue: 3 * time.Second, maxRequeue: 3 * time.Second},
		{name: "deferral past the stale deadline comes back at the deadline", prev: nearlyStale, labels: mirroredLabels(&nearlyStale),
			record: seen, lastSuccess: now.Add(-3*refresh + 5*time.Minute), att: attempt{deferred: 24 * time.Hour, deferredCause: "paused"},
			minRequeue: 5 * time.Minute, maxRequeue: 5*time.Minute + time.Second},
		{name: "deferral after the stale deadline writes Stale", prev: pastStale, labels: mirroredLabels(&pastStale), record: seen,
			lastSuccess: now.Add(-3*refresh - time.Minute), att: attempt{deferred: time.Hour, deferredCause: "paused"},
			wantWrite: true, wantReady: identityv1alpha1.ReasonStale, minRequeue: time.Hour, maxRequeue: time.Hour},
		{name: "restart spread is capped at the stale deadline", prev: nearlyStale, labels: mirroredLabels(&nearlyStale),
			lastSuccess: now.Add(-3*refresh + 5*time.Minute),
			att:         attempt{refreshInterval: refresh, deferred: 50 * time.Minute, deferredCause: "spread"},
			minRequeue:  5 * time.Minute, maxRequeue: 5*time.Minute + time.Second},
		{name: "no read due: labels mended, nothing else", prev: fresh, labels: nil,
			record:      userRecord{seen: true, refreshInterval: refresh, readAt: now.Add(20 * time.Minute)},
			lastSuccess: now.Add(-10 * time.Minute), att: attempt{notDue: true},
			wantLabels: true, minRequeue: 20 * time.Minute, maxRequeue: 20 * time.Minute},
		{name: "no read due and none scheduled (ambiguous key): labels mended, no timer started",
			prev: stalledStatus(identityv1alpha1.ReasonAmbiguousKey), labels: nil,
			record: userRecord{seen: true, refreshInterval: refresh}, att: attempt{notDue: true}, wantLabels: true},
		{name: "429 for a fresh user writes nothing and waits for the pause", prev: fresh, labels: mirroredLabels(&fresh), record: seen,
			lastSuccess: now.Add(-10 * time.Minute),
			att:         attempt{refreshInterval: refresh, outcome: limited, pausedUntil: now.Add(30 * time.Second)},
			minRequeue:  30 * time.Second, maxRequeue: 30 * time.Second},
		{name: "429 for a forced refresh is acknowledged", prev: fresh, labels: mirroredLabels(&fresh), record: seen,
			lastSuccess: now.Add(-10 * time.Minute), handled: "now",
			att:       attempt{refreshInterval: refresh, outcome: limited, retryAfter: time.Minute},
			wantWrite: true, wantReady: identityv1alpha1.ReasonSynced, wantHandled: "now", minRequeue: time.Minute, maxRequeue: time.Minute},
		{name: "429 for a long pause is capped at the stale deadline", prev: nearlyStale, labels: mirroredLabels(&nearlyStale),
			record: seen, lastSuccess: now.Add(-3*refresh + 5*time.Minute),
			att:        attempt{refreshInterval: refresh, outcome: limited, retryAfter: 24 * time.Hour},
			minRequeue: 5 * time.Minute, maxRequeue: 5*time.Minute + time.Second},
		{name: "first read: back at its phase within the first interval", prev: identityv1alpha1.OrgUserStatus{},
			att:       attempt{refreshInterval: refresh, outcome: success, phaseKey: "p/alice"},
			wantWrite: true, wantReady: identityv1alpha1.ReasonSynced, wantLabels: true,
			minRequeue: time.Second, maxRequeue: refresh + refresh/10},
		{name: "later read: one interval ±10%", prev: fresh, labels: mirroredLabels(&fresh),
			record:      userRecord{seen: true, refreshInterval: refresh, lastSuccess: now.Add(-refresh)},
			lastSuccess: now.Add(-refresh), att: attempt{refreshInterval: refresh, outcome: success, phaseKey: "p/alice"},
			wantWrite:  true, // the fixture's timestamps differ from the answer's
			minRequeue: refresh - refresh/10, maxRequeue: refresh + refresh/10},
		{name: "suspended: only the generation is observed; no timer", prev: fresh, labels: mirroredLabels(&fresh), suspended: true,
			wantWrite: true, wantReady: identityv1alpha1.ReasonSynced},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := decide(decisionInput{prev: &tc.prev, labels: tc.labels, generation: 1, now: now, suspended: tc.suspended,
				record: tc.record, lastSuccess: tc.lastSuccess, handledRequest: tc.handled, att: tc.att})
			if tc.suspended {
				// generation 1 equals the status's: an unchanged suspended user writes nothing.
				tc.wantWrite = false
			}
			if (d.status != nil) != tc.wantWrite {
				t.Fatalf("status written = %v, want %v", d.status != nil, tc.wantWrite)
			}
			if d.status != nil && tc.wantReady != "" {
				if ready := meta.FindStatusCondition(d.status.Conditions, identityv1alpha1.ConditionReady); ready.Reason != tc.wantReady {
					t.Errorf("Ready reason = %s, want %s", ready.Reason, tc.wantReady)
				}
			}
			if d.status != nil && d.status.LastHandledReconcileAt != tc.wantHandled {
				t.Errorf("lastHandledReconcileAt = %q, want %q", d.status.LastHandledReconcileAt, tc.wantHandled)
			}
			if (d.labels != nil) != tc.wantLabels {
				t.Errorf("labels applied = %v (%v), want %v", d.labels != nil, d.labels, tc.wantLabels)
			}
			if d.requeue < tc.minRequeue || d.requeue > tc.maxRequeue {
				t.Errorf("requeue = %s, want within [%s, %s]", d.requeue, tc.minRequeue, tc.maxRequeue)
			}
			if tc.maxRequeue > 0 && !d.record.readAt.Equal(now.Add(d.requeue)) {
				t.Errorf("record.readAt = %v, want now + requeue", d.record.readAt)
			}
		})
	}
}

// Whatever the attempt (random deferrals, Retry-After, pauses, failures, spreads, successes), a Ready
// user with a known last success never comes back after its stale deadline plus a second: nothing
// postpones staleness.
func TestDecideNeverSchedulesPastTheStaleDeadline(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	outcomes := []syncOutcome{
		{reason: identityv1alpha1.ReasonProviderUnavailable, rateLimited: true},
		{reason: identityv1alpha1.ReasonProviderUnavailable, message: "500"},
		{reason: identityv1alpha1.ReasonSynced, user: &provider.User{ID: "u", Role: "Member", State: "Active"}, providerName: "mixpeek"},
	}
	for range 5000 {
		refresh := time.Duration(10+rng.IntN(3600)) * time.Second
		age := time.Duration(rng.Int64N(int64(3 * refresh)))
		var att attempt
		switch rng.IntN(3) {
		case 0:
			att = attempt{deferred: time.Duration(rng.Int64N(int64(48 * time.Hour))), deferredCause: "paused"}
		case 1:
			att = attempt{notDue: true}
		default:
			att = attempt{refreshInterval: refresh, outcome: outcomes[rng.IntN(len(outcomes))],
				retryAfter:  time.Duration(rng.Int64N(int64(24 * time.Hour))),
				pausedUntil: statusNow.Add(time.Duration(rng.Int64N(int64(24 * time.Hour)))), answerAge: time.Duration(rng.Int64N(int64(refresh / 4)))}
		}
		prev := syncedAt(statusNow.Add(-age))
		rec := userRecord{seen: true, refreshInterval: refresh, failures: rng.IntN(12),
			readAt: statusNow.Add(time.Duration(rng.Int64N(int64(48 * time.Hour))))}
		d := decide(decisionInput{prev: &prev, labels: mirroredLabels(&prev), generation: 1, now: statusNow,
			lastSuccess: statusNow.Add(-age), record: rec, att: att})
		if d.status != nil && !readyNow(d.status) {
			continue // written Stale or failed: no longer a Ready mirror to keep
		}
		if att.outcome.succeeded() {
			continue // a success restarts the clock
		}
		deadline := statusNow.Add(-age).Add(3 * refresh).Add(time.Second)
		if at := statusNow.Add(d.requeue); d.requeue <= 0 || at.After(deadline) {
			t.Fatalf("refresh %s, age %s, attempt %+v: comes back in %s, %s past the stale deadline",
				refresh, age, att, d.requeue, at.Sub(deadline))
		}
	}
}
