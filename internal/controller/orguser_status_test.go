package controller

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/provider"
)

// Fixtures shared by the status tests. Upstream timestamps carry nanoseconds and a non-UTC zone, so
// the tests see that status keeps whole seconds in UTC, as the API server does.
var (
	statusNow     = time.Date(2025, 6, 1, 12, 0, 0, 500_000_000, time.UTC)
	statusRefresh = time.Hour
	earlier       = metav1.NewTime(time.Date(2025, 5, 1, 8, 0, 0, 0, time.UTC))
	cest          = time.FixedZone("CEST", 2*3600)
	upCreated     = time.Date(2024, 1, 2, 5, 4, 5, 987_654_321, cest)
	upUpdated     = time.Date(2024, 2, 3, 6, 5, 6, 1, cest)
	upLastLogin   = time.Date(2025, 5, 30, 23, 59, 59, 999_999_999, time.UTC)
	upDeleted     = time.Date(2025, 5, 31, 1, 2, 3, 400, time.UTC)
)

func utcSeconds(t time.Time) *metav1.Time {
	mt := metav1.NewTime(t.UTC().Truncate(time.Second))
	return &mt
}

// upstreamUser is a user with every field set, as a provider client returns it.
func upstreamUser() provider.User {
	created, updated, login, deleted := upCreated, upUpdated, upLastLogin, upDeleted
	return provider.User{
		ID:           "usr_a1b2c3",
		Email:        "alice@example.com",
		DisplayName:  "Alice Smith",
		Role:         provider.RoleAdmin,
		ProviderRole: "admin",
		State:        provider.StateActive,
		CreatedAt:    &created,
		UpdatedAt:    &updated,
		LastLoginAt:  &login,
		DeletedAt:    &deleted,
	}
}

func cond(condType string, status metav1.ConditionStatus, reason, message string) metav1.Condition {
	return metav1.Condition{Type: condType, Status: status, Reason: reason, Message: message,
		ObservedGeneration: 1, LastTransitionTime: earlier}
}

// goodStatus is the status of a user mirrored successfully at generation 1.
func goodStatus() identityv1alpha1.OrgUserStatus {
	return identityv1alpha1.OrgUserStatus{
		ObservedGeneration: 1,
		Provider:           "mixpeek",
		UserID:             "usr_a1b2c3",
		Email:              "alice@example.com",
		DisplayName:        "Alice Smith",
		Role:               "Member",
		ProviderRole:       "member",
		State:              "Active",
		CreatedAt:          utcSeconds(upCreated),
		UpdatedAt:          utcSeconds(upUpdated),
		LastLoginAt:        utcSeconds(upLastLogin),
		DeletedAt:          utcSeconds(upDeleted),
		Conditions: []metav1.Condition{
			cond(identityv1alpha1.ConditionReady, metav1.ConditionTrue, identityv1alpha1.ReasonSynced, "User is mirrored from mixpeek"),
			cond(identityv1alpha1.ConditionSynced, metav1.ConditionTrue, identityv1alpha1.ReasonSynced, "User is mirrored from mixpeek"),
		},
	}
}

// stalledStatus is a previously mirrored user that then failed terminally with reason.
func stalledStatus(reason string) identityv1alpha1.OrgUserStatus {
	s := goodStatus()
	s.Conditions = []metav1.Condition{
		cond(identityv1alpha1.ConditionReady, metav1.ConditionFalse, reason, "terminal"),
		cond(identityv1alpha1.ConditionSynced, metav1.ConditionFalse, reason, "terminal"),
		cond(identityv1alpha1.ConditionStalled, metav1.ConditionTrue, reason, "terminal"),
	}
	return s
}

// staleStatus is a previously mirrored user whose data already went stale.
func staleStatus() identityv1alpha1.OrgUserStatus {
	s := goodStatus()
	s.Conditions = []metav1.Condition{
		cond(identityv1alpha1.ConditionReady, metav1.ConditionFalse, identityv1alpha1.ReasonStale, "No successful read since ..."),
		cond(identityv1alpha1.ConditionSynced, metav1.ConditionFalse, identityv1alpha1.ReasonProviderUnavailable, "503"),
	}
	return s
}

func successOutcome(u provider.User) syncOutcome {
	o, _ := classify("mixpeek", u, nil)
	return o
}

func upstreamFailure(kind provider.ErrorKind, code int) syncOutcome {
	o, _ := classify("mixpeek", provider.User{}, &provider.Error{Provider: "mixpeek", Kind: kind, StatusCode: code, Message: "upstream said no"})
	return o
}

func transientOutcome() syncOutcome { return upstreamFailure(provider.KindTransient, 503) }

func input(o syncOutcome) statusInput {
	return statusInput{generation: 2, now: statusNow, outcome: o, refreshInterval: statusRefresh}
}

func withLastSuccess(in statusInput, ago time.Duration) statusInput {
	in.lastSuccess = in.now.Add(-ago)
	return in
}

func withRequest(in statusInput, req string) statusInput {
	in.handledRequest = req
	return in
}

type condWant struct {
	status metav1.ConditionStatus
	reason string
}

func want(status metav1.ConditionStatus, reason string) *condWant {
	return &condWant{status: status, reason: reason}
}

func checkCondition(t *testing.T, s *identityv1alpha1.OrgUserStatus, condType string, w *condWant) {
	t.Helper()
	c := meta.FindStatusCondition(s.Conditions, condType)
	if w == nil {
		if c != nil && c.Status != metav1.ConditionFalse {
			t.Errorf("%s = %s/%s, want absent (or False)", condType, c.Status, c.Reason)
		}
		return
	}
	if c == nil {
		t.Errorf("%s missing, want %s/%s", condType, w.status, w.reason)
		return
	}
	if c.Status != w.status || c.Reason != w.reason {
		t.Errorf("%s = %s/%s, want %s/%s", condType, c.Status, c.Reason, w.status, w.reason)
	}
	if c.Message == "" {
		t.Errorf("%s has an empty message", condType)
	}
}

func checkMirrorCleared(t *testing.T, s *identityv1alpha1.OrgUserStatus) {
	t.Helper()
	if s.UserID != "" || s.Email != "" || s.DisplayName != "" || s.Role != "" || s.ProviderRole != "" {
		t.Errorf("user fields not cleared: userID=%q email=%q displayName=%q role=%q providerRole=%q",
			s.UserID, s.Email, s.DisplayName, s.Role, s.ProviderRole)
	}
	if s.CreatedAt != nil || s.UpdatedAt != nil || s.LastLoginAt != nil || s.DeletedAt != nil {
		t.Errorf("timestamps not cleared: created=%v updated=%v lastLogin=%v deleted=%v",
			s.CreatedAt, s.UpdatedAt, s.LastLoginAt, s.DeletedAt)
	}
}

// checkMirrorKept asserts the mirrored user fields of prev survive into next.
func checkMirrorKept(t *testing.T, prev, next *identityv1alpha1.OrgUserStatus) {
	t.Helper()
	p, n := prev.DeepCopy(), next.DeepCopy()
	p.ObservedGeneration, n.ObservedGeneration = 0, 0
	p.Conditions, n.Conditions = nil, nil
	p.LastHandledReconcileAt, n.LastHandledReconcileAt = "", ""
	if !equality.Semantic.DeepEqual(p, n) {
		t.Errorf("mirrored fields changed:\n prev %+v\n next %+v", p, n)
	}
}

func TestDesiredStatusConditionTable(t *testing.T) {
	tests := []struct {
		name                   string
		prev                   identityv1alpha1.OrgUserStatus
		in                     statusInput
		ready, synced, stalled *condWant // nil stalled: Stalled absent or False
		check                  func(t *testing.T, prev, next *identityv1alpha1.OrgUserStatus)
	}{
		{
			name:   "user read and mirrored",
			in:     input(successOutcome(upstreamUser())),
			ready:  want(metav1.ConditionTrue, identityv1alpha1.ReasonSynced),
			synced: want(metav1.ConditionTrue, identityv1alpha1.ReasonSynced),
			check: func(t *testing.T, _, next *identityv1alpha1.OrgUserStatus) {
				wantStatus := identityv1alpha1.OrgUserStatus{
					Provider: "mixpeek", UserID: "usr_a1b2c3", Email: "alice@example.com", DisplayName: "Alice Smith",
					Role: "Admin", ProviderRole: "admin", State: "Active",
					CreatedAt:   &metav1.Time{Time: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)},
					UpdatedAt:   &metav1.Time{Time: time.Date(2024, 2, 3, 4, 5, 6, 0, time.UTC)},
					LastLoginAt: &metav1.Time{Time: time.Date(2025, 5, 30, 23, 59, 59, 0, time.UTC)},
					DeletedAt:   &metav1.Time{Time: time.Date(2025, 5, 31, 1, 2, 3, 0, time.UTC)},
				}
				got := next.DeepCopy()
				got.ObservedGeneration, got.Conditions = 0, nil
				if !equality.Semantic.DeepEqual(got, &wantStatus) {
					t.Errorf("mirror:\n got %+v\nwant %+v", got, &wantStatus)
				}
				for name, ts := range map[string]*metav1.Time{"createdAt": next.CreatedAt, "updatedAt": next.UpdatedAt,
					"lastLoginAt": next.LastLoginAt, "deletedAt": next.DeletedAt} {
					if ts == nil || ts.Location() != time.UTC || ts.Nanosecond() != 0 {
						t.Errorf("%s = %v, want whole seconds in UTC", name, ts)
					}
				}
			},
		},
		{
			name:   "user without upstream timestamps has none in status",
			prev:   goodStatus(),
			in:     input(successOutcome(provider.User{ID: "u1", Email: "a@b.c", Role: provider.RoleMember, ProviderRole: "member", State: provider.StatePending})),
			ready:  want(metav1.ConditionTrue, identityv1alpha1.ReasonSynced),
			synced: want(metav1.ConditionTrue, identityv1alpha1.ReasonSynced),
			check: func(t *testing.T, _, next *identityv1alpha1.OrgUserStatus) {
				if next.CreatedAt != nil || next.UpdatedAt != nil || next.LastLoginAt != nil || next.DeletedAt != nil {
					t.Errorf("timestamps kept although the upstream has none: %+v", next)
				}
				if next.State != "Pending" || next.DisplayName != "" {
					t.Errorf("state=%q displayName=%q, want Pending and empty", next.State, next.DisplayName)
				}
			},
		},
		{
			name:   "success after a terminal failure removes Stalled",
			prev:   stalledStatus(identityv1alpha1.ReasonUnauthorized),
			in:     input(successOutcome(upstreamUser())),
			ready:  want(metav1.ConditionTrue, identityv1alpha1.ReasonSynced),
			synced: want(metav1.ConditionTrue, identityv1alpha1.ReasonSynced),
			check: func(t *testing.T, _, next *identityv1alpha1.OrgUserStatus) {
				if c := meta.FindStatusCondition(next.Conditions, identityv1alpha1.ConditionStalled); c != nil {
					t.Errorf("Stalled still present: %+v", c)
				}
			},
		},
		{
			name:    "upstream 404",
			prev:    goodStatus(),
			in:      input(upstreamFailure(provider.KindNotFound, 404)),
			ready:   want(metav1.ConditionFalse, identityv1alpha1.ReasonUserNotFound),
			synced:  want(metav1.ConditionFalse, identityv1alpha1.ReasonUserNotFound),
			stalled: want(metav1.ConditionTrue, identityv1alpha1.ReasonUserNotFound),
			check: func(t *testing.T, _, next *identityv1alpha1.OrgUserStatus) {
				if next.State != "NotFound" {
					t.Errorf("state = %q, want NotFound", next.State)
				}
				if next.Provider != "mixpeek" {
					t.Errorf("provider = %q, want it kept as mixpeek", next.Provider)
				}
				checkMirrorCleared(t, next)
			},
		},
		{
			name:    "upstream 404 on first sync names the provider",
			in:      input(upstreamFailure(provider.KindNotFound, 404)),
			ready:   want(metav1.ConditionFalse, identityv1alpha1.ReasonUserNotFound),
			synced:  want(metav1.ConditionFalse, identityv1alpha1.ReasonUserNotFound),
			stalled: want(metav1.ConditionTrue, identityv1alpha1.ReasonUserNotFound),
			check: func(t *testing.T, _, next *identityv1alpha1.OrgUserStatus) {
				if next.State != "NotFound" || next.Provider != "mixpeek" {
					t.Errorf("state=%q provider=%q, want NotFound and mixpeek", next.State, next.Provider)
				}
				checkMirrorCleared(t, next)
			},
		},
		{
			name:    "upstream 401",
			prev:    goodStatus(),
			in:      input(upstreamFailure(provider.KindUnauthorized, 401)),
			ready:   want(metav1.ConditionFalse, identityv1alpha1.ReasonUnauthorized),
			synced:  want(metav1.ConditionFalse, identityv1alpha1.ReasonUnauthorized),
			stalled: want(metav1.ConditionTrue, identityv1alpha1.ReasonUnauthorized),
		},
		{
			name:    "upstream 403",
			prev:    goodStatus(),
			in:      input(upstreamFailure(provider.KindForbidden, 403)),
			ready:   want(metav1.ConditionFalse, identityv1alpha1.ReasonForbidden),
			synced:  want(metav1.ConditionFalse, identityv1alpha1.ReasonForbidden),
			stalled: want(metav1.ConditionTrue, identityv1alpha1.ReasonForbidden),
		},
		{
			name:    "key not valid for the provider",
			in:      input(terminal(identityv1alpha1.ReasonInvalidKey, "Key %q is not valid for mixpeek", "alice")),
			ready:   want(metav1.ConditionFalse, identityv1alpha1.ReasonInvalidKey),
			synced:  want(metav1.ConditionFalse, identityv1alpha1.ReasonInvalidKey),
			stalled: want(metav1.ConditionTrue, identityv1alpha1.ReasonInvalidKey),
		},
		{
			name:    "provider object missing",
			prev:    goodStatus(),
			in:      input(terminal(identityv1alpha1.ReasonProviderNotFound, "OrgProvider team-a/p not found")),
			ready:   want(metav1.ConditionFalse, identityv1alpha1.ReasonProviderNotFound),
			synced:  want(metav1.ConditionFalse, identityv1alpha1.ReasonProviderNotFound),
			stalled: want(metav1.ConditionTrue, identityv1alpha1.ReasonProviderNotFound),
		},
		{
			name:    "namespace not allowed",
			in:      input(terminal(identityv1alpha1.ReasonProviderNotAllowed, "ClusterOrgProvider p does not admit namespace team-a")),
			ready:   want(metav1.ConditionFalse, identityv1alpha1.ReasonProviderNotAllowed),
			synced:  want(metav1.ConditionFalse, identityv1alpha1.ReasonProviderNotAllowed),
			stalled: want(metav1.ConditionTrue, identityv1alpha1.ReasonProviderNotAllowed),
		},
		{
			name:    "secret missing",
			prev:    goodStatus(),
			in:      input(terminal(identityv1alpha1.ReasonSecretNotFound, "Secret team-a/token not found")),
			ready:   want(metav1.ConditionFalse, identityv1alpha1.ReasonSecretNotFound),
			synced:  want(metav1.ConditionFalse, identityv1alpha1.ReasonSecretNotFound),
			stalled: want(metav1.ConditionTrue, identityv1alpha1.ReasonSecretNotFound),
		},
		{
			name:   "5xx on first sync",
			in:     input(transientOutcome()),
			ready:  want(metav1.ConditionFalse, identityv1alpha1.ReasonProviderUnavailable),
			synced: want(metav1.ConditionFalse, identityv1alpha1.ReasonProviderUnavailable),
			check: func(t *testing.T, _, next *identityv1alpha1.OrgUserStatus) {
				if c := meta.FindStatusCondition(next.Conditions, identityv1alpha1.ConditionSynced); c != nil && !strings.Contains(c.Message, "503") {
					t.Errorf("Synced message %q does not tell the failure", c.Message)
				}
				if next.State != "" || next.Role != "" {
					t.Errorf("state=%q role=%q invented on a failed first sync", next.State, next.Role)
				}
			},
		},
		{
			name:   "429 on first sync",
			in:     input(upstreamFailure(provider.KindRateLimited, 429)),
			ready:  want(metav1.ConditionFalse, identityv1alpha1.ReasonProviderUnavailable),
			synced: want(metav1.ConditionFalse, identityv1alpha1.ReasonProviderUnavailable),
		},
		{
			name: "timeout (not a provider error) on first sync",
			in: input(func() syncOutcome {
				o, _ := classify("mixpeek", provider.User{}, context.DeadlineExceeded)
				return o
			}()),
			ready:  want(metav1.ConditionFalse, identityv1alpha1.ReasonProviderUnavailable),
			synced: want(metav1.ConditionFalse, identityv1alpha1.ReasonProviderUnavailable),
		},
		{
			name:   "transient after a good sync, within 3x refresh: Ready stays as it was",
			prev:   goodStatus(),
			in:     withLastSuccess(input(transientOutcome()), 2*statusRefresh),
			ready:  want(metav1.ConditionTrue, identityv1alpha1.ReasonSynced),
			synced: want(metav1.ConditionFalse, identityv1alpha1.ReasonProviderUnavailable),
			check: func(t *testing.T, prev, next *identityv1alpha1.OrgUserStatus) {
				before := meta.FindStatusCondition(prev.Conditions, identityv1alpha1.ConditionReady)
				after := meta.FindStatusCondition(next.Conditions, identityv1alpha1.ConditionReady)
				if after == nil || after.Message != before.Message || !after.LastTransitionTime.Equal(&before.LastTransitionTime) {
					t.Errorf("Ready changed: before %+v, after %+v", before, after)
				}
				checkMirrorKept(t, prev, next)
			},
		},
		{
			name:   "transient after a good sync, exactly 3x refresh old: not yet stale",
			prev:   goodStatus(),
			in:     withLastSuccess(input(transientOutcome()), 3*statusRefresh),
			ready:  want(metav1.ConditionTrue, identityv1alpha1.ReasonSynced),
			synced: want(metav1.ConditionFalse, identityv1alpha1.ReasonProviderUnavailable),
		},
		{
			name:   "transient after a good sync, older than 3x refresh: Stale",
			prev:   goodStatus(),
			in:     withLastSuccess(input(transientOutcome()), 3*statusRefresh+time.Second),
			ready:  want(metav1.ConditionFalse, identityv1alpha1.ReasonStale),
			synced: want(metav1.ConditionFalse, identityv1alpha1.ReasonProviderUnavailable),
			check: func(t *testing.T, prev, next *identityv1alpha1.OrgUserStatus) {
				checkMirrorKept(t, prev, next)
				ready := meta.FindStatusCondition(next.Conditions, identityv1alpha1.ConditionReady)
				if ready != nil && !ready.LastTransitionTime.Time.Equal(statusNow) {
					t.Errorf("Ready turned Stale but lastTransitionTime = %v, want %v", ready.LastTransitionTime, statusNow)
				}
			},
		},
		{
			name:   "transient while already Stale stays Stale",
			prev:   staleStatus(),
			in:     withLastSuccess(input(transientOutcome()), 10*statusRefresh),
			ready:  want(metav1.ConditionFalse, identityv1alpha1.ReasonStale),
			synced: want(metav1.ConditionFalse, identityv1alpha1.ReasonProviderUnavailable),
		},
		{
			name:   "transient while Stale and last success unknown (restart) stays Stale",
			prev:   staleStatus(),
			in:     input(transientOutcome()),
			ready:  want(metav1.ConditionFalse, identityv1alpha1.ReasonStale),
			synced: want(metav1.ConditionFalse, identityv1alpha1.ReasonProviderUnavailable),
		},
		{
			name:   "terminal then transient removes Stalled",
			prev:   stalledStatus(identityv1alpha1.ReasonUnauthorized),
			in:     withLastSuccess(input(transientOutcome()), time.Minute),
			ready:  want(metav1.ConditionFalse, identityv1alpha1.ReasonProviderUnavailable),
			synced: want(metav1.ConditionFalse, identityv1alpha1.ReasonProviderUnavailable),
			check: func(t *testing.T, _, next *identityv1alpha1.OrgUserStatus) {
				if c := meta.FindStatusCondition(next.Conditions, identityv1alpha1.ConditionStalled); c != nil {
					t.Errorf("Stalled still present: %+v", c)
				}
			},
		},
		{
			name:   "forced refresh acknowledged on success",
			prev:   goodStatus(),
			in:     withRequest(input(successOutcome(upstreamUser())), "2025-06-01T12:00:00Z"),
			ready:  want(metav1.ConditionTrue, identityv1alpha1.ReasonSynced),
			synced: want(metav1.ConditionTrue, identityv1alpha1.ReasonSynced),
			check: func(t *testing.T, _, next *identityv1alpha1.OrgUserStatus) {
				if next.LastHandledReconcileAt != "2025-06-01T12:00:00Z" {
					t.Errorf("lastHandledReconcileAt = %q", next.LastHandledReconcileAt)
				}
			},
		},
		{
			name:   "forced refresh acknowledged on transient failure",
			in:     withRequest(input(transientOutcome()), "now please"),
			ready:  want(metav1.ConditionFalse, identityv1alpha1.ReasonProviderUnavailable),
			synced: want(metav1.ConditionFalse, identityv1alpha1.ReasonProviderUnavailable),
			check: func(t *testing.T, _, next *identityv1alpha1.OrgUserStatus) {
				if next.LastHandledReconcileAt != "now please" {
					t.Errorf("lastHandledReconcileAt = %q, want %q", next.LastHandledReconcileAt, "now please")
				}
			},
		},
		{
			name:    "forced refresh acknowledged on terminal failure",
			prev:    goodStatus(),
			in:      withRequest(input(upstreamFailure(provider.KindUnauthorized, 401)), "x"),
			ready:   want(metav1.ConditionFalse, identityv1alpha1.ReasonUnauthorized),
			synced:  want(metav1.ConditionFalse, identityv1alpha1.ReasonUnauthorized),
			stalled: want(metav1.ConditionTrue, identityv1alpha1.ReasonUnauthorized),
			check: func(t *testing.T, _, next *identityv1alpha1.OrgUserStatus) {
				if next.LastHandledReconcileAt != "x" {
					t.Errorf("lastHandledReconcileAt = %q, want x", next.LastHandledReconcileAt)
				}
			},
		},
		{
			name: "no pending request keeps the last acknowledgement",
			prev: func() identityv1alpha1.OrgUserStatus {
				s := goodStatus()
				s.LastHandledReconcileAt = "old"
				return s
			}(),
			in:     input(successOutcome(upstreamUser())),
			ready:  want(metav1.ConditionTrue, identityv1alpha1.ReasonSynced),
			synced: want(metav1.ConditionTrue, identityv1alpha1.ReasonSynced),
			check: func(t *testing.T, _, next *identityv1alpha1.OrgUserStatus) {
				if next.LastHandledReconcileAt != "old" {
					t.Errorf("lastHandledReconcileAt = %q, want old", next.LastHandledReconcileAt)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prev := tc.prev.DeepCopy()
			pristine := tc.prev.DeepCopy()
			next := desiredStatus(prev, tc.in)

			// desiredStatus must not touch prev: the reconciler compares the two to decide whether to write.
			if !equality.Semantic.DeepEqual(prev, pristine) {
				t.Fatalf("desiredStatus modified prev:\n before %+v\n after  %+v", pristine, prev)
			}
			checkCondition(t, next, identityv1alpha1.ConditionReady, tc.ready)
			checkCondition(t, next, identityv1alpha1.ConditionSynced, tc.synced)
			checkCondition(t, next, identityv1alpha1.ConditionStalled, tc.stalled)

			// kstatus: observedGeneration on status and on every condition, written together.
			if next.ObservedGeneration != tc.in.generation {
				t.Errorf("status.observedGeneration = %d, want %d", next.ObservedGeneration, tc.in.generation)
			}
			for _, c := range next.Conditions {
				if c.ObservedGeneration != tc.in.generation {
					t.Errorf("condition %s observedGeneration = %d, want %d", c.Type, c.ObservedGeneration, tc.in.generation)
				}
			}
			if tc.check != nil {
				tc.check(t, pristine, next)
			}
		})
	}
}

func TestSuspendedStatusKeepsEverythingButGeneration(t *testing.T) {
	tests := []struct {
		name string
		prev identityv1alpha1.OrgUserStatus
	}{
		{"mirrored user", goodStatus()},
		{"stalled user", stalledStatus(identityv1alpha1.ReasonForbidden)},
		{"stale user", staleStatus()},
		{"never synced", identityv1alpha1.OrgUserStatus{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prev := tc.prev.DeepCopy()
			next := suspendedStatus(prev, 7)

			if !equality.Semantic.DeepEqual(prev, tc.prev.DeepCopy()) {
				t.Fatalf("suspendedStatus modified prev")
			}
			if next.ObservedGeneration != 7 {
				t.Errorf("status.observedGeneration = %d, want 7", next.ObservedGeneration)
			}
			wantStatus := tc.prev.DeepCopy()
			wantStatus.ObservedGeneration = 7
			for i := range wantStatus.Conditions {
				wantStatus.Conditions[i].ObservedGeneration = 7
			}
			if !equality.Semantic.DeepEqual(next, wantStatus) {
				t.Errorf("suspended status:\n got %+v\nwant %+v", next, wantStatus)
			}
			// Suspending again at the same generation changes nothing, so nothing is written.
			if again := suspendedStatus(next, 7); !equality.Semantic.DeepEqual(again, next) {
				t.Errorf("second suspended reconcile differs:\n got %+v\nwant %+v", again, next)
			}
		})
	}
}

// roundTrip stores and reads back a status the way the API server does (JSON, RFC 3339 seconds).
func roundTrip(t *testing.T, s *identityv1alpha1.OrgUserStatus) *identityv1alpha1.OrgUserStatus {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	out := &identityv1alpha1.OrgUserStatus{}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDesiredStatusUnchangedRefreshIsEqual is what makes "no heartbeat writes" true: a refresh with the
// same answer, later, yields a status semantically equal to the stored one, so the reconciler writes
// nothing.
func TestDesiredStatusUnchangedRefreshIsEqual(t *testing.T) {
	lastSuccess := statusNow.Add(-statusRefresh)
	tests := []struct {
		name string
		prev identityv1alpha1.OrgUserStatus
		in   func(now time.Time) statusInput
	}{
		{"success from scratch", identityv1alpha1.OrgUserStatus{}, func(now time.Time) statusInput {
			return statusInput{generation: 3, now: now, outcome: successOutcome(upstreamUser()), refreshInterval: statusRefresh, lastSuccess: now}
		}},
		{"success over an older mirror", goodStatus(), func(now time.Time) statusInput {
			return statusInput{generation: 3, now: now, outcome: successOutcome(upstreamUser()), refreshInterval: statusRefresh, lastSuccess: now}
		}},
		{"404", goodStatus(), func(now time.Time) statusInput {
			return statusInput{generation: 3, now: now, outcome: upstreamFailure(provider.KindNotFound, 404), refreshInterval: statusRefresh}
		}},
		{"401", goodStatus(), func(now time.Time) statusInput {
			return statusInput{generation: 3, now: now, outcome: upstreamFailure(provider.KindUnauthorized, 401), refreshInterval: statusRefresh}
		}},
		{"provider missing", goodStatus(), func(now time.Time) statusInput {
			return statusInput{generation: 3, now: now, outcome: terminal(identityv1alpha1.ReasonProviderNotFound, "OrgProvider a/b not found"), refreshInterval: statusRefresh}
		}},
		{"transient on first sync", identityv1alpha1.OrgUserStatus{}, func(now time.Time) statusInput {
			return statusInput{generation: 3, now: now, outcome: transientOutcome(), refreshInterval: statusRefresh}
		}},
		{"transient within the stale window", goodStatus(), func(now time.Time) statusInput {
			return statusInput{generation: 3, now: now, outcome: transientOutcome(), refreshInterval: statusRefresh, lastSuccess: lastSuccess}
		}},
		{"transient past the stale window", goodStatus(), func(now time.Time) statusInput {
			return statusInput{generation: 3, now: now, outcome: transientOutcome(), refreshInterval: statusRefresh, lastSuccess: now.Add(-4 * statusRefresh)}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stored := roundTrip(t, desiredStatus(tc.prev.DeepCopy(), tc.in(statusNow)))
			for i, later := range []time.Duration{17 * time.Second, 31 * time.Minute, 90 * time.Minute} {
				in := tc.in(statusNow.Add(later))
				if tc.name == "transient past the stale window" {
					// The data keeps ageing; lastSuccess stays where it was.
					in.lastSuccess = statusNow.Add(-4 * statusRefresh)
				}
				next := desiredStatus(stored, in)
				if !equality.Semantic.DeepEqual(stored, next) {
					t.Fatalf("refresh %d with the same answer changed status (would write a heartbeat):\n stored %+v\n next   %+v", i+1, stored, next)
				}
			}
		})
	}

	// Control: a real change must compare unequal, or the reconciler would never write it.
	stored := roundTrip(t, desiredStatus(&identityv1alpha1.OrgUserStatus{}, input(successOutcome(upstreamUser()))))
	changed := upstreamUser()
	changed.Role, changed.ProviderRole = provider.RoleMember, "member"
	if next := desiredStatus(stored, input(successOutcome(changed))); equality.Semantic.DeepEqual(stored, next) {
		t.Errorf("a role change compared equal; it would never be written")
	}

	// And a pending forced refresh is acknowledged once, then the status settles again.
	acked := roundTrip(t, desiredStatus(stored, withRequest(input(successOutcome(upstreamUser())), "r1")))
	if acked.LastHandledReconcileAt != "r1" || equality.Semantic.DeepEqual(stored, acked) {
		t.Errorf("forced refresh not acknowledged: %q", acked.LastHandledReconcileAt)
	}
	if next := desiredStatus(acked, input(successOutcome(upstreamUser()))); !equality.Semantic.DeepEqual(acked, next) {
		t.Errorf("status changed after the acknowledgement:\n stored %+v\n next   %+v", acked, next)
	}
}

func TestChangeEvents(t *testing.T) {
	status := func(role, state string) *identityv1alpha1.OrgUserStatus {
		return &identityv1alpha1.OrgUserStatus{Role: role, State: state}
	}
	good := goodStatus()
	notFound := desiredStatus(&good, input(upstreamFailure(provider.KindNotFound, 404)))
	tests := []struct {
		name       string
		prev, next *identityv1alpha1.OrgUserStatus
		want       []changeEvent
	}{
		{"first sync is silent", status("", ""), status("Admin", "Active"), nil},
		{"unchanged is silent", status("Admin", "Active"), status("Admin", "Active"), nil},
		{"role changed", status("Member", "Active"), status("Admin", "Active"),
			[]changeEvent{{EventRoleChanged, "role changed from Member to Admin"}}},
		{"state changed", status("Admin", "Active"), status("Admin", "Suspended"),
			[]changeEvent{{EventStateChanged, "state changed from Active to Suspended"}}},
		{"both changed", status("Viewer", "Pending"), status("Member", "Active"), []changeEvent{
			{EventRoleChanged, "role changed from Viewer to Member"},
			{EventStateChanged, "state changed from Pending to Active"},
		}},
		{"user disappears upstream", status("Member", "Active"), notFound,
			[]changeEvent{{EventStateChanged, "state changed from Active to NotFound"}}},
		{"user comes back after a 404", notFound, status("Admin", "Active"),
			[]changeEvent{{EventStateChanged, "state changed from NotFound to Active"}}},
		{"failure on first sync is silent", status("", ""), desiredStatus(&identityv1alpha1.OrgUserStatus{}, input(transientOutcome())), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := changeEvents(tc.prev, tc.next)
			if len(got) != len(tc.want) {
				t.Fatalf("events = %+v, want %+v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("event %d = %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}
