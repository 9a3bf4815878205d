package controller

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
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
	// ReadRequests carries OrgUsers (namespace and name suffice) to read at once, whatever their
	// schedule: the OrgDirectory controller's, after each complete listing.
	ReadRequests <-chan event.GenericEvent
	// MaxConcurrentReconciles bounds parallel upstream lookups across all providers.
	MaxConcurrentReconciles int
	// Now is the clock; tests may replace it.
	Now func() time.Time

	// Credentials holds the providers' tokens as their reconcilers last polled them.
	Credentials *credentialStore

	memory userMemory
	// connectorOnce builds conns from the fields above at first use.
	connectorOnce sync.Once
	conns         *Connector
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

// Reconcile reads as resolve → lookup → decide → write: sync resolves the provider and credential and
// looks the user up (when a read is due), decide says what to write and when to come back, and
// carryOut writes it. Only failures of the Kubernetes API itself return an error.
func (r *OrgUserReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
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

	now := r.now()
	rec := r.memory.get(user)
	att := attempt{notDue: true}
	switch {
	case user.Spec.Suspend:
	case r.readDue(user, rec, now):
		var err error
		if att, err = r.sync(ctx, user, r.firstReadCanWait(user)); err != nil {
			reconcileErrors.WithLabelValues("KubernetesAPI").Inc()
			return ctrl.Result{}, err
		}
		rec.handled = rec.requested
	}
	d := decide(decisionInput{
		prev:           &user.Status,
		labels:         user.Labels,
		generation:     user.Generation,
		now:            now,
		suspended:      user.Spec.Suspend,
		record:         rec,
		lastSuccess:    r.lastSuccess(user, rec),
		handledRequest: pendingReconcileRequest(user),
		att:            att,
	})
	return r.carryOut(ctx, user, att, d, rec)
}

// readDue reports whether this reconcile should read the user upstream: this process has not seen it,
// its spec or the force-refresh annotation changed, a change elsewhere asked for it, or its time has
// come. A reconcile for anything else (a label edit, a retried write) reads nothing.
func (r *OrgUserReconciler) readDue(user *identityv1alpha1.OrgUser, rec userRecord, now time.Time) bool {
	switch {
	case !rec.seen, rec.requested != rec.handled, user.Status.ObservedGeneration != user.Generation,
		pendingReconcileRequest(user) != "":
		return true
	case rec.readAt.IsZero():
		return false // only an edit of the object helps (InvalidKey)
	default:
		// The workqueue brings a user back at its time; a second early is close enough.
		return !now.Before(rec.readAt.Add(-time.Second))
	}
}

// timedReadPriority is the work queue priority of a user's next scheduled reconcile: the default,
// above the start-up list's low priority.
const timedReadPriority = 0

// carryOut writes what decide decided: the status (with events from the difference), then the labels,
// and records the schedule in memory before either, so a failed label write is retried without a new
// read. before is the user's record as this reconcile found it.
func (r *OrgUserReconciler) carryOut(ctx context.Context, user *identityv1alpha1.OrgUser, att attempt, d decision,
	before userRecord) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	r.memory.set(user, d.record)
	result := ctrl.Result{RequeueAfter: d.requeue}
	if d.requeue > 0 {
		// A timed read keeps its time: the priority queue would otherwise keep the low priority of the
		// start-up list's event, and every read due during a first sync of thousands of users would
		// wait behind the whole backlog, then run together and stay bunched (each later read is one
		// interval ±10% after the last).
		result.Priority = ptr(timedReadPriority)
	}
	if att.deferred > 0 {
		log.V(2).Info("Lookup deferred; nothing sent", "delay", att.deferred, "cause", att.deferredCause)
	}
	if d.status != nil {
		prev := user.Status.DeepCopy()
		if err := r.patchStatus(ctx, user, d.status); err != nil {
			// Nothing was written: the retry reads the user again, as if this read had not happened. A
			// first read stays the first (it places the user's later reads at its phase), and a failure
			// nobody saw does not lengthen the backoff.
			r.memory.update(user, func(rec *userRecord) {
				rec.readAt = r.now()
				rec.lastSuccess, rec.failures = before.lastSuccess, before.failures
			})
			if apierrors.IsConflict(err) {
				// Our cached copy was stale; look again once the cache has caught up.
				return ctrl.Result{RequeueAfter: time.Second}, nil
			}
			return ctrl.Result{}, err
		}
		for _, ev := range changeEvents(prev, d.status) {
			r.Recorder.Eventf(user, nil, corev1.EventTypeNormal, ev.reason, "Sync", ev.message)
		}
		for _, ev := range warningEvents(prev, d.status) {
			r.Recorder.Eventf(user, nil, corev1.EventTypeWarning, ev.reason, "Sync", "%s", ev.message)
		}
	}
	if out := att.outcome; !att.notDue && att.deferred == 0 && out.reason != "" && !out.succeeded() {
		reconcileErrors.WithLabelValues(out.reason).Inc()
		log.V(1).Info("User not synced", "reason", out.reason, "message", out.message)
	}
	if d.labels != nil {
		if err := r.applyLabels(ctx, user, d.labels); err != nil {
			// Retried with backoff like a failed status write; the retry reads nothing upstream.
			return result, fmt.Errorf("apply role and state labels to OrgUser %s: %w", klog.KObj(user), err)
		}
	}
	return result, nil
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
func (r *OrgUserReconciler) lastSuccess(user *identityv1alpha1.OrgUser, rec userRecord) time.Time {
	if !rec.lastSuccess.IsZero() {
		return rec.lastSuccess
	}
	synced := meta.FindStatusCondition(user.Status.Conditions, identityv1alpha1.ConditionSynced)
	if synced == nil {
		return time.Time{}
	}
	leader, ok := r.becameLeader()
	if !ok {
		// Reconciling at all means this process just became leader.
		leader = r.now()
	}
	if synced.Status == metav1.ConditionTrue && synced.LastTransitionTime.Time.Before(leader) {
		return leader
	}
	return synced.LastTransitionTime.Time
}

// becameLeader is when this process became leader, and false while it is not (yet) leader.
func (r *OrgUserReconciler) becameLeader() (time.Time, bool) {
	if ns := r.leaderSince.Load(); ns != 0 {
		return time.Unix(0, ns), true
	}
	return time.Time{}, false
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

// nextAttempt says when to look again: refresh for settled answers (never faster for auth failures),
// Retry-After or backoff for transient ones, and no sooner than needed to turn Ready stale on time.
func nextAttempt(att attempt, failures int, in statusInput) time.Duration {
	out := att.outcome
	switch {
	case out.succeeded():
		// A shared answer was read earlier by another user of the same key: keep to its schedule.
		// Counted from when the answer was read, so every user that shared it is scheduled alike.
		fetched := in.now.Add(-att.answerAge)
		if att.firstRead {
			return max(time.Second, untilPhase(att.refreshInterval, fetched, att.phaseKey)-att.answerAge)
		}
		return max(att.refreshInterval/2, refreshDelay(att.refreshInterval, fetched, att.phaseKey)-att.answerAge)
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
	case out.reason == identityv1alpha1.ReasonInvalidKey, out.reason == identityv1alpha1.ReasonAmbiguousKey:
		// Only an edit of the object (or of its provider, which re-reads its users) can fix the key.
		return 0
	default:
		return wait.Jitter(att.refreshInterval, jitterFraction)
	}
}

func (r *OrgUserReconciler) patchStatus(ctx context.Context, user *identityv1alpha1.OrgUser, next *identityv1alpha1.OrgUserStatus) error {
	// The optimistic lock makes a reconcile that ran on a stale cached copy fail instead of writing
	// (and announcing events for) a change that was already written.
	patch := client.MergeFromWithOptions(user.DeepCopy(), client.MergeFromWithOptimisticLock{})
	user.Status = *next
	if err := r.Status().Patch(ctx, user, patch); err != nil {
		return err
	}
	ctrl.LoggerFrom(ctx).V(1).Info("Status updated", "orgUser", klog.KObj(user), "role", next.Role, "state", next.State)
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
		// Label edits that leave the mirrored labels wrong pass too: they are mended without a read.
		For(&identityv1alpha1.OrgUser{}, builder.WithPredicates(
			predicate.Or(predicate.GenerationChangedPredicate{}, reconcileRequestChanged(), mirroredLabelsEdited()))).
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
	if r.ReadRequests != nil {
		b = b.WatchesRawSource(source.Channel(r.ReadRequests, handler.EnqueueRequestsFromMapFunc(r.requestedRead)))
	}
	return b.Complete(r)
}
