package controller

import (
	"context"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/source"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/connection"
	"github.com/orgsync/orgsync/internal/provider"
)

// OrgUserReconciler mirrors one upstream user into each OrgUser's status.
type OrgUserReconciler struct {
	client.Client
	// APIReader reads Secrets straight from the API server: the manager keeps no Secret informer.
	APIReader client.Reader
	Recorder  events.EventRecorder
	Providers provider.Registry
	Pool      *connection.Pool
	// CredentialChanges carries provider objects whose Secret changed (sent by the provider
	// reconcilers, which poll the referenced Secrets), so their users retry at once.
	CredentialChanges <-chan event.GenericEvent
	// MaxConcurrentReconciles bounds parallel upstream lookups across all providers.
	MaxConcurrentReconciles int
	// Now is the clock; tests may replace it.
	Now func() time.Time

	// Credentials holds the providers' tokens as their reconcilers last polled them.
	Credentials *credentialStore

	memory          userMemory
	rateLimitWrites rateLimitWrites
	// leaderSince is when this process became leader (unix nanoseconds); see lastSuccess.
	leaderSince atomic.Int64
}

// +kubebuilder:rbac:groups=identity.orgsync.io,resources=orgusers,verbs=get;list;watch
// +kubebuilder:rbac:groups=identity.orgsync.io,resources=orgusers/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=identity.orgsync.io,resources=orgproviders;clusterorgproviders,verbs=get;list;watch
// +kubebuilder:rbac:groups=identity.orgsync.io,resources=orgproviders/status;clusterorgproviders/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile reads the user upstream and writes status only when the mirror changed.
func (r *OrgUserReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	user := &identityv1alpha1.OrgUser{}
	if err := r.Get(ctx, req.NamespacedName, user); err != nil {
		if apierrors.IsNotFound(err) {
			r.memory.forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !user.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	if user.Spec.Suspend {
		return ctrl.Result{}, r.writeStatus(ctx, user, suspendedStatus(&user.Status, user.Generation))
	}

	now := r.now()
	att, err := r.sync(ctx, user, r.firstReadCanWait(user))
	if err != nil {
		reconcileErrors.WithLabelValues("KubernetesAPI").Inc()
		return ctrl.Result{}, err
	}
	if att.deferred > 0 {
		log.V(2).Info("Lookup deferred; nothing sent", "delay", att.deferred)
		return ctrl.Result{RequeueAfter: att.deferred}, nil
	}
	if att.outcome.rateLimited && r.stillFresh(user, att.refreshInterval, now) {
		// The upstream asked to wait and the mirror is still good: the pause is recorded on the
		// provider, and writing it into every user would only load the API server.
		log.V(1).Info("Rate limited by the upstream; mirror kept as it is", "retryAfter", att.retryAfter)
		return ctrl.Result{RequeueAfter: wait.Jitter(max(att.retryAfter, time.Second), 1)}, nil
	}

	failures := 0
	switch {
	case att.outcome.succeeded():
		att.firstRead = r.memory.get(user).lastSuccess.IsZero()
		r.memory.recordSuccess(user, now.Add(-att.answerAge))
	case att.outcome.transient():
		failures = r.memory.recordFailure(user)
	default:
		r.memory.resetFailures(user)
	}

	in := statusInput{
		generation:      user.Generation,
		now:             now,
		outcome:         att.outcome,
		refreshInterval: att.refreshInterval,
		lastSuccess:     r.lastSuccess(user),
		handledRequest:  pendingReconcileRequest(user),
	}
	next := desiredStatus(&user.Status, in)
	prev := user.Status.DeepCopy()
	if err := r.writeStatus(ctx, user, next); err != nil {
		if apierrors.IsConflict(err) {
			// Our cached copy was stale; look again once the cache has caught up.
			return ctrl.Result{RequeueAfter: time.Second}, nil
		}
		return ctrl.Result{}, err
	}
	for _, ev := range changeEvents(prev, next) {
		r.Recorder.Eventf(user, nil, corev1.EventTypeNormal, ev.reason, "Sync", ev.message)
	}
	for _, ev := range warningEvents(prev, next) {
		r.Recorder.Eventf(user, nil, corev1.EventTypeWarning, ev.reason, "Sync", "%s", ev.message)
	}
	if !att.outcome.succeeded() {
		reconcileErrors.WithLabelValues(att.outcome.reason).Inc()
		log.V(1).Info("User not synced", "reason", att.outcome.reason, "message", att.outcome.message)
	}
	return ctrl.Result{RequeueAfter: nextAttempt(att, failures, in)}, nil
}

// pendingReconcileRequest is the force-refresh annotation value not yet acknowledged, or "".
func pendingReconcileRequest(user *identityv1alpha1.OrgUser) string {
	requested := user.Annotations[identityv1alpha1.ReconcileRequestedAnnotation]
	if requested == user.Status.LastHandledReconcileAt {
		return ""
	}
	return requested
}

// lastSuccess is when the user was last read successfully. With no record in memory (after a start or
// a leader change) status has no heartbeat: Synced=True then means "successful up to some time before
// this process took over", so staleness is counted from the later of its transition and the moment
// this process became leader (not its start: a warm standby may have waited for days). Synced=False's
// transition is an upper bound of the last success.
func (r *OrgUserReconciler) lastSuccess(user *identityv1alpha1.OrgUser) time.Time {
	if rec := r.memory.get(user); !rec.lastSuccess.IsZero() {
		return rec.lastSuccess
	}
	synced := meta.FindStatusCondition(user.Status.Conditions, identityv1alpha1.ConditionSynced)
	if synced == nil {
		return time.Time{}
	}
	if leader := r.becameLeader(); synced.Status == metav1.ConditionTrue && synced.LastTransitionTime.Time.Before(leader) {
		return leader
	}
	return synced.LastTransitionTime.Time
}

// becameLeader is when this process became leader; before that is recorded, reconciling at all means
// it just did.
func (r *OrgUserReconciler) becameLeader() time.Time {
	if ns := r.leaderSince.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return r.now()
}

// firstReadCanWait reports whether the user can wait for a read spread over its refresh interval:
// this process has not seen it yet (a start or a leader change), its mirror is Ready at its current
// generation, and nobody asked for a refresh. Reading every such user at once after each restart
// would hit the upstream with the whole organization in the first seconds.
func (r *OrgUserReconciler) firstReadCanWait(user *identityv1alpha1.OrgUser) bool {
	if !r.memory.firstSight(user) {
		return false
	}
	ready := meta.FindStatusCondition(user.Status.Conditions, identityv1alpha1.ConditionReady)
	return ready != nil && ready.Status == metav1.ConditionTrue &&
		user.Status.ObservedGeneration == user.Generation && ready.ObservedGeneration == user.Generation &&
		pendingReconcileRequest(user) == ""
}

// stillFresh reports whether the user's mirror is Ready and younger than the staleness limit.
func (r *OrgUserReconciler) stillFresh(user *identityv1alpha1.OrgUser, refresh time.Duration, now time.Time) bool {
	if !hadGoodData(&user.Status) || user.Status.ObservedGeneration != user.Generation {
		return false
	}
	ready := meta.FindStatusCondition(user.Status.Conditions, identityv1alpha1.ConditionReady)
	if ready == nil || ready.Status != metav1.ConditionTrue {
		return false
	}
	last := r.lastSuccess(user)
	return !last.IsZero() && now.Sub(last) < staleAfterRefreshes*refresh
}

// nextAttempt says when to look again: refresh for settled answers (never faster for auth failures),
// Retry-After or backoff for transient ones, and no sooner than needed to turn Ready stale on time.
func nextAttempt(att attempt, failures int, in statusInput) time.Duration {
	out := att.outcome
	switch {
	case out.succeeded():
		// A shared answer was read earlier by another user of the same key: keep to its schedule.
		if att.firstRead {
			// Counted from when the answer was read, so every user that shared it is scheduled alike.
			fetched := in.now.Add(-att.answerAge)
			return max(time.Second, untilPhase(att.refreshInterval, fetched, att.phaseKey)-att.answerAge)
		}
		return max(att.refreshInterval/2, refreshDelay(att.refreshInterval, in.now, att.phaseKey)-att.answerAge)
	case out.transient():
		fresh := !in.lastSuccess.IsZero() && in.now.Sub(in.lastSuccess) <= staleAfterRefreshes*att.refreshInterval
		delay := transientBackoff(failures, att.refreshInterval, fresh)
		if att.retryAfter > 0 {
			delay = wait.Jitter(att.retryAfter, jitterFraction)
		}
		if !in.lastSuccess.IsZero() {
			untilStale := in.lastSuccess.Add(staleAfterRefreshes * att.refreshInterval).Sub(in.now)
			lastChance := min(att.refreshInterval/10, 30*time.Second)
			switch {
			case untilStale <= 0 || untilStale >= delay:
			case untilStale > lastChance:
				// One more try shortly before the data turns stale, so a flaky upstream gets a chance
				// to keep the mirror Ready.
				delay = untilStale - lastChance/2
			default:
				delay = untilStale + time.Second
			}
		}
		return delay
	case out.reason == identityv1alpha1.ReasonInvalidKey:
		return 0 // only an edit of the object can fix the key
	default:
		return wait.Jitter(att.refreshInterval, jitterFraction)
	}
}

func (r *OrgUserReconciler) writeStatus(ctx context.Context, user *identityv1alpha1.OrgUser, next *identityv1alpha1.OrgUserStatus) error {
	if equality.Semantic.DeepEqual(&user.Status, next) {
		r.mirrorLabels(ctx, user)
		return nil
	}
	// The optimistic lock makes a reconcile that ran on a stale cached copy fail instead of writing
	// (and announcing events for) a change that was already written.
	patch := client.MergeFromWithOptions(user.DeepCopy(), client.MergeFromWithOptimisticLock{})
	user.Status = *next
	if err := r.Status().Patch(ctx, user, patch); err != nil {
		return err
	}
	ctrl.LoggerFrom(ctx).V(1).Info("Status updated", "orgUser", klog.KObj(user), "role", next.Role, "state", next.State)
	r.mirrorLabels(ctx, user)
	return nil
}

func (r *OrgUserReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// SetupWithManager registers the controller and the watches that map provider, Secret and namespace
// changes to the OrgUsers they affect.
func (r *OrgUserReconciler) SetupWithManager(mgr ctrl.Manager) error {
	// Runnables that need leader election start once this process is leader.
	if err := mgr.Add(manager.RunnableFunc(func(context.Context) error {
		r.leaderSince.Store(r.now().UnixNano())
		return nil
	})); err != nil {
		return err
	}
	registerUsersCollector(r)
	b := ctrl.NewControllerManagedBy(mgr).
		// Only spec edits and force-refresh requests call upstream: our own status writes, label and
		// unrelated annotation edits must not (401/403 users are retried "never faster" than refresh).
		For(&identityv1alpha1.OrgUser{}, builder.WithPredicates(
			predicate.Or(predicate.GenerationChangedPredicate{}, reconcileRequestChanged()))).
		Watches(&identityv1alpha1.OrgProvider{}, handler.EnqueueRequestsFromMapFunc(r.usersOfProvider),
			builder.WithPredicates(providerChangeRereadsUsers())).
		Watches(&identityv1alpha1.ClusterOrgProvider{}, handler.EnqueueRequestsFromMapFunc(r.usersOfProvider),
			builder.WithPredicates(providerChangeRereadsUsers())).
		Watches(&corev1.Namespace{}, r.namespaceAdmissionChanges(), builder.OnlyMetadata).
		WithOptions(controller.Options{MaxConcurrentReconciles: max(1, r.MaxConcurrentReconciles)}).
		Named("orguser")
	if r.CredentialChanges != nil {
		b = b.WatchesRawSource(source.Channel(r.CredentialChanges, handler.EnqueueRequestsFromMapFunc(r.usersOfProvider)))
	}
	return b.Complete(r)
}
