package controller

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/provider"
)

// staleAfterRefreshes is how many refresh intervals mirrored data may age, while the upstream fails,
// before Ready turns False with reason Stale.
const staleAfterRefreshes = 3

// syncOutcome is what one reconcile learned about the user, before it is folded into status.
type syncOutcome struct {
	// reason is ReasonSynced on success, otherwise the condition reason of the failure.
	reason  string
	message string
	// user is the mirrored user on success.
	user *provider.User
	// providerName is the API that answered; set on success and on UserNotFound.
	providerName string
	// terminal failures set Stalled: retrying without a change elsewhere will not help.
	terminal bool
	// rateLimited is a 429 (or 503 with Retry-After): the upstream asked to wait, nothing is wrong
	// with the user or its data.
	rateLimited bool
}

func (o syncOutcome) succeeded() bool { return o.reason == identityv1alpha1.ReasonSynced }

func (o syncOutcome) transient() bool { return o.reason == identityv1alpha1.ReasonProviderUnavailable }

// statusInput is everything desiredStatus needs besides the previous status.
type statusInput struct {
	generation      int64
	now             time.Time
	outcome         syncOutcome
	refreshInterval time.Duration
	// lastSuccess is when the user was last read successfully; zero when unknown.
	lastSuccess time.Time
	// handledRequest is the force-refresh annotation value this reconcile acknowledges, or "".
	handledRequest string
}

// desiredStatus folds one outcome into the previous status. It is pure: the same inputs give the same
// status, so an unchanged refresh compares equal and writes nothing.
func desiredStatus(prev *identityv1alpha1.OrgUserStatus, in statusInput) *identityv1alpha1.OrgUserStatus {
	next := prev.DeepCopy()
	next.ObservedGeneration = in.generation
	if in.handledRequest != "" {
		next.LastHandledReconcileAt = in.handledRequest
	}

	out := in.outcome
	switch {
	case out.succeeded():
		mirrorUser(next, out.providerName, out.user)
		setCondition(next, in, identityv1alpha1.ConditionReady, metav1.ConditionTrue, out.reason, out.message)
		setCondition(next, in, identityv1alpha1.ConditionSynced, metav1.ConditionTrue, out.reason, out.message)
		meta.RemoveStatusCondition(&next.Conditions, identityv1alpha1.ConditionStalled)

	case out.transient():
		setCondition(next, in, identityv1alpha1.ConditionSynced, metav1.ConditionFalse, out.reason, out.message)
		meta.RemoveStatusCondition(&next.Conditions, identityv1alpha1.ConditionStalled)
		setReadyAfterTransientFailure(prev, next, in)

	default:
		if out.reason == identityv1alpha1.ReasonUserNotFound {
			clearUser(next, out.providerName)
		}
		setCondition(next, in, identityv1alpha1.ConditionReady, metav1.ConditionFalse, out.reason, out.message)
		setCondition(next, in, identityv1alpha1.ConditionSynced, metav1.ConditionFalse, out.reason, out.message)
		if out.terminal {
			setCondition(next, in, identityv1alpha1.ConditionStalled, metav1.ConditionTrue, out.reason, out.message)
		} else {
			meta.RemoveStatusCondition(&next.Conditions, identityv1alpha1.ConditionStalled)
		}
	}
	observeGeneration(next, in.generation)
	return next
}

// setReadyAfterTransientFailure keeps a previously good mirror Ready until its data is older than
// staleAfterRefreshes refresh intervals; a user never synced is simply not Ready yet.
func setReadyAfterTransientFailure(prev, next *identityv1alpha1.OrgUserStatus, in statusInput) {
	if !hadGoodData(prev) {
		setCondition(next, in, identityv1alpha1.ConditionReady, metav1.ConditionFalse, in.outcome.reason, in.outcome.message)
		return
	}
	maxAge := staleAfterRefreshes * in.refreshInterval
	if in.lastSuccess.IsZero() || in.now.Sub(in.lastSuccess) <= maxAge {
		return
	}
	msg := fmt.Sprintf("No successful read since %s, more than %d refresh intervals (%s) ago: %s",
		in.lastSuccess.UTC().Format(time.RFC3339), staleAfterRefreshes, maxAge, in.outcome.message)
	setCondition(next, in, identityv1alpha1.ConditionReady, metav1.ConditionFalse, identityv1alpha1.ReasonStale, msg)
}

// hadGoodData reports whether status mirrors a user read successfully, now or before it went stale.
func hadGoodData(s *identityv1alpha1.OrgUserStatus) bool {
	ready := meta.FindStatusCondition(s.Conditions, identityv1alpha1.ConditionReady)
	if ready == nil {
		return false
	}
	return ready.Status == metav1.ConditionTrue || ready.Reason == identityv1alpha1.ReasonStale
}

// suspendedStatus only acknowledges the new generation: a suspended user keeps its mirror and
// conditions, but kstatus must see the edit as observed.
func suspendedStatus(prev *identityv1alpha1.OrgUserStatus, generation int64) *identityv1alpha1.OrgUserStatus {
	next := prev.DeepCopy()
	next.ObservedGeneration = generation
	observeGeneration(next, generation)
	return next
}

func setCondition(s *identityv1alpha1.OrgUserStatus, in statusInput, condType string,
	status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(&s.Conditions, metav1.Condition{
		Type:               condType,
		Status:             status,
		Reason:             reason,
		Message:            boundedMessage(message),
		ObservedGeneration: in.generation,
		LastTransitionTime: metav1.NewTime(in.now),
	})
}

func observeGeneration(s *identityv1alpha1.OrgUserStatus, generation int64) {
	for i := range s.Conditions {
		s.Conditions[i].ObservedGeneration = generation
	}
}

func mirrorUser(s *identityv1alpha1.OrgUserStatus, providerName string, u *provider.User) {
	s.Provider = providerName
	s.UserID = u.ID
	s.Email = u.Email
	s.DisplayName = u.DisplayName
	s.Role = string(u.Role)
	s.ProviderRole = u.ProviderRole
	s.State = string(u.State)
	s.CreatedAt = apiTime(u.CreatedAt)
	s.UpdatedAt = apiTime(u.UpdatedAt)
	s.LastLoginAt = apiTime(u.LastLoginAt)
	s.DeletedAt = apiTime(u.DeletedAt)
}

// clearUser empties every mirrored field after a 404; status.provider stays, as the contract says.
func clearUser(s *identityv1alpha1.OrgUserStatus, providerName string) {
	mirrorUser(s, providerName, &provider.User{State: provider.StateNotFound})
}

// apiTime truncates to whole seconds in UTC, which is what the API server keeps, so the status read
// back compares equal to the status computed from the same upstream answer.
func apiTime(t *time.Time) *metav1.Time {
	if t == nil || t.IsZero() {
		return nil
	}
	mt := metav1.NewTime(t.UTC().Truncate(time.Second))
	return &mt
}
