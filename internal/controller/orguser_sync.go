package controller

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

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

	c := r.connector()
	prov, failure, err := c.resolveProvider(ctx, user.Namespace, user.Spec.ProviderRef)
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

	api, failure := c.apiOf(prov)
	if failure != nil {
		att.outcome = *failure
		return att, nil
	}
	if err := api.api.ValidateKey(user.Spec.Key); err != nil {
		att.outcome = terminal(identityv1alpha1.ReasonInvalidKey, "Invalid key for %s: %s", api.name, invalidKeyReason(err))
		return att, nil
	}

	token, failure, err := c.readToken(ctx, prov)
	if err != nil || failure != nil {
		att.outcome = deref(failure)
		return att, err
	}

	att.phaseKey = string(prov.obj.GetUID()) + "/" + user.Spec.Key
	conn, failure, deferred := c.connection(prov, api, token)
	switch {
	case deferred != nil:
		att.deferred, att.deferredCause = deferred.Delay, deferred.Cause
		return att, nil
	case failure != nil:
		att.outcome = *failure
		return att, nil
	}

	answer, err := conn.Lookup(ctx, connection.Request{
		Key:    user.Spec.Key,
		Holder: string(user.UID),
		MaxAge: sharedAnswerMaxAge(att.refreshInterval, pendingReconcileRequest(user) != "", r.directoryListInterval(ctx, user)),
	})
	if errors.As(err, &deferred) {
		att.deferred, att.deferredCause = deferred.Delay, deferred.Cause
		return att, nil
	}
	if answer.Shared {
		att.answerAge = max(0, r.now().Sub(answer.FetchedAt))
	}
	att.outcome, att.retryAfter = classify(api.name, answer.User, err)
	att.pausedUntil = conn.PausedUntil()
	c.reflectRateLimit(ctx, prov, conn, err == nil)
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
//
// An OrgUser of a directory (listInterval > 0) takes the directory's listing as its answer, so that N
// users cost N / pageSize requests per listInterval. When the directory lists at least as often as
// the user refreshes, any answer of the last listing cycle serves (ListedAnswerLifetime): a listing
// that takes long, or the thousands of OrgUsers a first listing creates, must not send them upstream
// one by one while the next listing is on its way; once the directory stops listing, its answers
// expire and the users read on their own. When it lists less often, the user's own refresh bounds
// the age: the end of its refresh window (refresh + 10%), with as much again for reads that run late
// behind a queue. After every complete listing the directory asks the users whose answer is new to
// read at once, so a change shows at the listing that saw it whatever the user's place in the
// interval; the others read the listing at their own refresh.
func sharedAnswerMaxAge(refresh time.Duration, forced bool, listInterval time.Duration) time.Duration {
	if forced {
		return 0
	}
	maxAge := refresh / 4
	if listInterval > 0 {
		lifetime := ListedAnswerLifetime(listInterval)
		if listInterval > refresh {
			lateReads := 2 * time.Duration(jitterFraction*float64(refresh))
			lifetime = min(lifetime, refresh+lateReads)
		}
		maxAge = max(maxAge, lifetime)
	}
	return maxAge
}

// ListedAnswerLifetime is how long a complete listing's answers may serve the OrgUsers of its
// directory: one listInterval, plus a margin for the next listing to be read (its pages wait for
// their turns) before its answers replace these.
func ListedAnswerLifetime(listInterval time.Duration) time.Duration {
	return listInterval + max(listInterval/5, time.Minute)
}
