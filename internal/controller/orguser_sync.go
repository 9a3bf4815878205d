package controller

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/connection"
	"github.com/orgsync/orgsync/internal/provider"
)

// attempt is the result of one try to read a user upstream.
type attempt struct {
	outcome         syncOutcome
	refreshInterval time.Duration
	// retryAfter is the upstream's requested wait, if any.
	retryAfter time.Duration
	// deferred is set when nothing was sent (token bucket, 429 pause, concurrency budget, or the
	// spread of first reads after a start): nothing was learned and nothing is written.
	deferred time.Duration
	// answerAge is how old a shared answer was when it was used; the next read is that much sooner,
	// so users sharing a key stay on one schedule.
	answerAge time.Duration
	// phaseKey places the user's reads in the refresh interval; see refreshDelay.
	phaseKey string
	// firstRead is set when this process had not read the user successfully before.
	firstRead bool
	// notDue is set when no read was due: the reconcile came from a label edit or a retry of a
	// write, and only the labels may need mending.
	notDue bool
	// deferredCause says why a deferred lookup sent nothing.
	deferredCause string
	// pausedUntil is the end of the provider-wide pause after a 429.
	pausedUntil time.Time
}

// sync walks the data path: provider object, key check, credential, connection, upstream call. Each
// step that fails ends the attempt with the condition reason the contract gives it. The returned error
// is for failures of the Kubernetes API itself, which controller-runtime retries with backoff.
func (r *OrgUserReconciler) sync(ctx context.Context, user *identityv1alpha1.OrgUser, spreadFirstRead bool) (attempt, error) {
	att := attempt{refreshInterval: durationOr(user.Spec.RefreshInterval, defaultRefreshInterval)}

	prov, failure, err := r.resolveProvider(ctx, user)
	if err != nil || failure != nil {
		att.outcome = deref(failure)
		return att, err
	}
	if user.Spec.RefreshInterval == nil {
		att.refreshInterval = refreshIntervalOf(prov.config)
	}
	if spreadFirstRead {
		// Mirrored data is still current: read it again somewhere in the coming interval, not now
		// together with every other user.
		att.deferred = time.Duration(1 + rand.Int64N(int64(att.refreshInterval))) //nolint:gosec // spreading needs no crypto
		att.deferredCause = "spread after a start or a leader change"
		return att, nil
	}

	name, baseURL, options, err := backend(prov.config)
	if err != nil {
		att.outcome = terminal(identityv1alpha1.ReasonProviderInvalid, "%s: %v", prov.displayName(), err)
		return att, nil
	}
	api, ok := r.Providers[name]
	if !ok {
		att.outcome = terminal(identityv1alpha1.ReasonProviderInvalid,
			"%s uses provider %q, which this build does not support", prov.displayName(), name)
		return att, nil
	}
	if err := api.ValidateKey(user.Spec.Key); err != nil {
		att.outcome = terminal(identityv1alpha1.ReasonInvalidKey, "Invalid key for %s: %s", name, invalidKeyReason(err))
		return att, nil
	}

	token, failure, err := r.readToken(ctx, prov)
	if err != nil || failure != nil {
		att.outcome = deref(failure)
		return att, err
	}

	att.phaseKey = string(prov.obj.GetUID()) + "/" + user.Spec.Key
	rps, burst := rateOf(prov.config)
	conn, err := r.Pool.Get(string(prov.obj.GetUID()), connection.Settings{
		Provider: name, BaseURL: baseURL, CABundle: prov.config.CABundle, Timeout: timeoutOf(prov.config),
		Token: token, RequestsPerSecond: rps, Burst: burst, Options: options,
	})
	if errors.Is(err, connection.ErrForgotten) {
		// The cache still shows a provider that was deleted; it catches up within a second.
		att.deferred, att.deferredCause = time.Second, "provider being deleted"
		return att, nil
	}
	if err != nil {
		att.outcome = terminal(identityv1alpha1.ReasonProviderInvalid, "%s: build client: %v", prov.displayName(), err)
		return att, nil
	}

	if until := prov.status.RateLimitedUntil; until != nil {
		conn.PauseUntil(until.Time)
	}
	answer, err := conn.Lookup(ctx, connection.Request{
		Key:    user.Spec.Key,
		Holder: string(user.UID),
		MaxAge: sharedAnswerMaxAge(att.refreshInterval, pendingReconcileRequest(user) != ""),
	})
	var deferred *connection.DeferredError
	if errors.As(err, &deferred) {
		att.deferred, att.deferredCause = deferred.Delay, deferred.Cause
		return att, nil
	}
	if answer.Shared {
		att.answerAge = max(0, r.now().Sub(answer.FetchedAt))
	}
	att.outcome, att.retryAfter = classify(name, answer.User, err)
	att.pausedUntil = conn.PausedUntil()
	r.reflectRateLimit(ctx, prov, conn, err == nil)
	return att, nil
}

// classify turns the upstream answer into an outcome, following the contract's condition table.
func classify(providerName string, u provider.User, err error) (syncOutcome, time.Duration) {
	if err == nil {
		return syncOutcome{reason: identityv1alpha1.ReasonSynced, message: "User is mirrored from " + providerName,
			user: &u, providerName: providerName}, 0
	}
	var perr *provider.Error
	if !errors.As(err, &perr) {
		return syncOutcome{reason: identityv1alpha1.ReasonProviderUnavailable, message: err.Error()}, 0
	}
	msg := perr.Error()
	switch perr.Kind {
	case provider.KindNotFound:
		return syncOutcome{reason: identityv1alpha1.ReasonUserNotFound, message: msg, providerName: providerName, terminal: true}, 0
	case provider.KindUnauthorized:
		return syncOutcome{reason: identityv1alpha1.ReasonUnauthorized, message: msg, terminal: true}, 0
	case provider.KindForbidden:
		return syncOutcome{reason: identityv1alpha1.ReasonForbidden, message: msg, terminal: true}, 0
	case provider.KindInvalidKey:
		return syncOutcome{reason: identityv1alpha1.ReasonInvalidKey, message: msg, terminal: true}, 0
	case provider.KindAmbiguousKey:
		return syncOutcome{reason: identityv1alpha1.ReasonAmbiguousKey, message: msg, terminal: true}, 0
	case provider.KindInvalidConfig:
		return syncOutcome{reason: identityv1alpha1.ReasonProviderInvalid, message: msg, terminal: true}, 0
	case provider.KindRateLimited:
		return syncOutcome{reason: identityv1alpha1.ReasonProviderUnavailable, message: msg, rateLimited: true}, perr.RetryAfter
	default:
		return syncOutcome{reason: identityv1alpha1.ReasonProviderUnavailable, message: msg}, 0
	}
}

// resolveProvider finds the provider object the user names and checks that the user may use it.
func (r *OrgUserReconciler) resolveProvider(ctx context.Context, user *identityv1alpha1.OrgUser) (*providerObject, *syncOutcome, error) {
	ref := user.Spec.ProviderRef
	if providerRefKind(ref) == identityv1alpha1.OrgProviderKind {
		p := &identityv1alpha1.OrgProvider{}
		if err := r.Get(ctx, types.NamespacedName{Namespace: user.Namespace, Name: ref.Name}, p); err != nil {
			if apierrors.IsNotFound(err) {
				return nil, ptr(terminal(identityv1alpha1.ReasonProviderNotFound, "OrgProvider %s/%s not found", user.Namespace, ref.Name)), nil
			}
			return nil, nil, fmt.Errorf("get OrgProvider %s/%s: %w", user.Namespace, ref.Name, err)
		}
		view := viewOrgProvider(p)
		return &view, nil, nil
	}

	p := &identityv1alpha1.ClusterOrgProvider{}
	if err := r.Get(ctx, types.NamespacedName{Name: ref.Name}, p); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, ptr(terminal(identityv1alpha1.ReasonProviderNotFound, "ClusterOrgProvider %s not found", ref.Name)), nil
		}
		return nil, nil, fmt.Errorf("get ClusterOrgProvider %s: %w", ref.Name, err)
	}
	view := viewClusterOrgProvider(p)
	allowed, failure, err := r.namespaceAllowed(ctx, view, user.Namespace)
	if err != nil || failure != nil {
		return nil, failure, err
	}
	if !allowed {
		return nil, ptr(terminal(identityv1alpha1.ReasonProviderNotAllowed,
			"ClusterOrgProvider %s does not admit namespace %s: its namespaceSelector does not match the namespace's labels",
			ref.Name, user.Namespace)), nil
	}
	return &view, nil, nil
}

func (r *OrgUserReconciler) namespaceAllowed(ctx context.Context, prov providerObject, namespace string) (bool, *syncOutcome, error) {
	if prov.namespaceSelector == nil {
		return true, nil, nil
	}
	selector, err := metav1.LabelSelectorAsSelector(prov.namespaceSelector)
	if err != nil {
		return false, ptr(terminal(identityv1alpha1.ReasonProviderInvalid, "%s: invalid namespaceSelector: %v", prov.displayName(), err)), nil
	}
	ns := &metav1.PartialObjectMetadata{}
	ns.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	if err := r.Get(ctx, types.NamespacedName{Name: namespace}, ns); err != nil {
		return false, nil, fmt.Errorf("get namespace %s: %w", namespace, err)
	}
	return selector.Matches(labels.Set(ns.GetLabels())), nil, nil
}

// readToken returns the provider's token as its reconciler last polled it; see credentialStore.
func (r *OrgUserReconciler) readToken(ctx context.Context, prov *providerObject) (string, *syncOutcome, error) {
	secret, err := r.Credentials.get(ctx, r.APIReader, prov)
	if err != nil {
		return "", nil, err
	}
	if secret.reason != "" {
		// An OrgUser reports any credential problem as SecretNotFound; the provider's own status tells
		// the finer reason (SecretKeyMissing).
		return "", ptr(terminal(identityv1alpha1.ReasonSecretNotFound, "%s", secret.message)), nil
	}
	return secret.token, nil, nil
}

// reflectRateLimit mirrors the provider-wide 429 pause into the provider's status.rateLimitedUntil, and
// removes it once the pause has passed and a call has succeeded.
func (r *OrgUserReconciler) reflectRateLimit(ctx context.Context, prov *providerObject, conn *connection.Conn, succeeded bool) {
	current := prov.status.RateLimitedUntil
	var want *metav1.Time
	if until := conn.PausedUntil(); !until.IsZero() {
		// Rounded up to whole seconds, as status keeps them; a pause read back from status is then
		// already whole and does not ratchet forward a second on every reconcile.
		t := metav1.NewTime(ceilSecond(until.UTC()))
		want = &t
	}
	switch {
	case want != nil && (current == nil || current.Before(want)):
	case want == nil && current != nil && succeeded:
	default:
		return
	}
	// The cached provider lags behind our own write: without this, every user reconciled in that lag
	// would write the same value again.
	if !r.rateLimitWrites.claim(prov.obj.GetUID(), want) {
		return
	}
	patch := client.MergeFrom(prov.obj.DeepCopyObject().(client.Object))
	prov.status.RateLimitedUntil = want
	if err := r.Status().Patch(ctx, prov.obj, patch); err != nil {
		// Not written after all: the next user of this provider tries again.
		r.rateLimitWrites.release(prov.obj.GetUID())
		ctrl.LoggerFrom(ctx).Error(err, "Update rateLimitedUntil", "provider", prov.displayName())
	}
}

func terminal(reason, format string, args ...any) syncOutcome {
	return syncOutcome{reason: reason, message: fmt.Sprintf(format, args...), terminal: true}
}

func ptr[T any](v T) *T { return &v }

func deref(o *syncOutcome) syncOutcome {
	if o == nil {
		return syncOutcome{}
	}
	return *o
}

// invalidKeyReason is the provider's explanation without the "get user from" prefix: no call was made.
func invalidKeyReason(err error) string {
	var perr *provider.Error
	if errors.As(err, &perr) && perr.Message != "" {
		return perr.Message
	}
	return err.Error()
}

func ceilSecond(t time.Time) time.Time {
	if whole := t.Truncate(time.Second); !whole.Equal(t) {
		return whole.Add(time.Second)
	}
	return t
}

// sharedAnswerMaxAge is how old another user's answer for the same key may be and still serve this
// user: a quarter of the refresh interval, wider than the refresh jitter, so users sharing a key and
// reading in the same round (or created together) share one request. The user's next read then comes
// that much sooner, so its data is never older than one interval. A forced refresh always asks the
// upstream.
func sharedAnswerMaxAge(refresh time.Duration, forced bool) time.Duration {
	if forced {
		return 0
	}
	return refresh / 4
}
