package directory

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/connection"
	"github.com/orgsync/orgsync/internal/controller"
)

// Defaults and waits.
const (
	defaultListInterval = time.Hour
	// unusableRetry is how soon a directory whose provider cannot be used looks again: a namespace's
	// labels or a Secret can heal it without an event this controller sees.
	unusableRetry = time.Minute
)

// Reconciler keeps one OrgUser per user of each OrgDirectory's organization.
type Reconciler struct {
	client.Client
	// APIReader reads from the API server, for an OrgUser the cache has not seen yet.
	APIReader client.Reader
	// Connector is the OrgUser controller's data path to the providers (controller.Setup's), so a
	// listing shares the connections, rate limits and credentials of the OrgUsers.
	Connector *controller.Connector
	// ReadRequests asks the OrgUser controller to read an OrgUser at once.
	ReadRequests chan<- event.GenericEvent
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	memory memory
}

// +kubebuilder:rbac:groups=identity.orgsync.io,resources=orgdirectories,verbs=get;list;watch
// +kubebuilder:rbac:groups=identity.orgsync.io,resources=orgdirectories/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=identity.orgsync.io,resources=orgusers,verbs=get;list;watch;create;patch;delete
// The OrgUsers it creates block their owner's deletion; where the OwnerReferencesPermissionEnforcement
// admission plugin runs (OpenShift), that needs update on the owner's finalizers.
// +kubebuilder:rbac:groups=identity.orgsync.io,resources=orgdirectories/finalizers,verbs=update

// Reconcile reads as connect → list → apply → status: the provider's connection, as many pages as
// the turn queue grants, and once the listing is complete the OrgUsers it asks for. The status is
// written once, at the end, and only when it changed.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	d := &identityv1alpha1.OrgDirectory{}
	if err := r.Get(ctx, req.NamespacedName, d); err != nil {
		if apierrors.IsNotFound(err) {
			r.memory.forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !d.DeletionTimestamp.IsZero() {
		// The garbage collector deletes its OrgUsers; nothing is listed for a directory going away.
		r.memory.forget(req.NamespacedName)
		return ctrl.Result{}, nil
	}
	next, requeue, err := r.reconcile(ctx, d, r.memory.of(d))
	if err != nil {
		return ctrl.Result{}, err
	}
	if next != nil && !equality.Semantic.DeepEqual(&d.Status, next) {
		patch := client.MergeFrom(d.DeepCopy())
		d.Status = *next
		if err := r.Status().Patch(ctx, d, patch); err != nil {
			return ctrl.Result{}, fmt.Errorf("update status of OrgDirectory %s: %w", klog.KObj(d), err)
		}
	}
	return ctrl.Result{RequeueAfter: requeue}, nil
}

// reconcile decides and does everything but the status write: it returns the status to write (nil:
// unchanged) and when to come back.
func (r *Reconciler) reconcile(ctx context.Context, d *identityv1alpha1.OrgDirectory,
	rec *directoryMemory) (*identityv1alpha1.OrgDirectoryStatus, time.Duration, error) {
	now := r.now()
	conn, unusable, err := r.Connector.Connect(ctx, d.Namespace, d.Spec.ProviderRef)
	var deferred *connection.DeferredError
	switch {
	case errors.As(err, &deferred):
		return nil, deferred.Delay, nil
	case err != nil:
		return nil, 0, err
	case unusable != nil:
		rec.abandon()
		return r.failed(ctx, d, now, failure{reason: unusable.Reason, message: unusable.Message}, unusableRetry)
	}
	if l := rec.inProgress; l != nil && (l.generation != d.Generation || l.session.Conn() != conn.Conn) {
		rec.abandon() // the spec or the provider object changed: list anew
	}

	listInterval := durationOr(d.Spec.ListInterval, defaultListInterval)
	if rec.inProgress == nil {
		due, wait := nextListing(scheduleInput{generation: d.Generation, status: &d.Status, listInterval: listInterval,
			now: now, failures: rec.failures, failedAt: rec.failedAt})
		if !due {
			return r.tend(ctx, d, rec, now, wait)
		}
		session, err := conn.Conn.BeginListing()
		if errors.Is(err, connection.ErrCannotList) {
			// Only an edit of the provider (watched) can change that.
			return r.failed(ctx, d, now, failure{reason: identityv1alpha1.ReasonProviderCannotList,
				message: fmt.Sprintf("%s uses %s, which cannot list its users; a directory needs a provider that can (scim)",
					conn.DisplayName, conn.API)}, 0)
		}
		if err != nil {
			return nil, 0, fmt.Errorf("begin listing: %w", err)
		}
		rec.inProgress = &listingInProgress{generation: d.Generation, session: session, startedAt: now}
	}

	step, err := advance(ctx, d, rec.inProgress, r.now)
	if err != nil {
		return nil, 0, err
	}
	conn.ReflectRateLimit(ctx, step.complete)
	switch {
	case step.deferred > 0:
		return nil, step.deferred, nil
	case step.restart:
		rec.abandon()
		return nil, time.Millisecond, nil
	case step.failure != nil:
		rec.abandon()
		rec.failures++
		rec.failedAt = r.now()
		return r.failed(ctx, d, rec.failedAt, *step.failure, retryDelay(rec.failures, listInterval))
	}
	return r.complete(ctx, d, rec, conn, listInterval)
}

// complete files a complete listing's users as answers for their OrgUsers' reads, then applies it.
// Filed first, so that the OrgUsers created from the listing read their first answer from it.
func (r *Reconciler) complete(ctx context.Context, d *identityv1alpha1.OrgDirectory, rec *directoryMemory,
	conn *controller.Connection, listInterval time.Duration) (*identityv1alpha1.OrgDirectoryStatus, time.Duration, error) {
	l := rec.inProgress
	rec.abandon()
	users := l.listing.Users()
	// Filed as read when the listing began: older than any page is, never younger.
	renewed, ok := l.session.Remember(users, l.startedAt, controller.ListedAnswerLifetime(listInterval))
	if !ok {
		return nil, time.Millisecond, nil // the credential changed at the last moment: list anew
	}
	now := r.now()
	done, err := r.apply(ctx, d, rec, completeListing{users: users, renewed: renewed, session: l.session}, conn.ValidateKey, now)
	if err != nil {
		return nil, 0, err
	}
	rec.failures = 0
	// The next listing is due one listInterval after this one ended (now, its lastListedAt), however
	// long writing it took: a first listing's thousands of creates must not push every later one back.
	_, requeue := dueAt(now.Add(listInterval), r.now())
	requeue = max(requeue, time.Millisecond)
	if done.nextPrune > 0 {
		requeue = min(requeue, done.nextPrune)
	}
	ctrl.LoggerFrom(ctx).V(1).Info("Listing applied", "listed", done.result.listed, "users", done.result.users,
		"conflicts", done.result.conflicts, "pages", l.listing.Pages())
	return listedStatus(&d.Status, d.Generation, now, done.result), requeue, nil
}

// failed is the status of a listing that changed nothing, with the OrgUsers counted as they are.
func (r *Reconciler) failed(ctx context.Context, d *identityv1alpha1.OrgDirectory, now time.Time, f failure,
	retry time.Duration) (*identityv1alpha1.OrgDirectoryStatus, time.Duration, error) {
	users, err := r.countOwned(ctx, d)
	if err != nil {
		return nil, 0, err
	}
	return failedStatus(&d.Status, d.Generation, now, users, f), retry, nil
}

// tend is a reconcile between listings (an owned OrgUser deleted or turned NotFound, a prune coming
// due): it prunes what may go of what the last complete listing lacked, and counts the OrgUsers.
func (r *Reconciler) tend(ctx context.Context, d *identityv1alpha1.OrgDirectory, rec *directoryMemory, now time.Time,
	untilListing time.Duration) (*identityv1alpha1.OrgDirectoryStatus, time.Duration, error) {
	var candidates []*identityv1alpha1.OrgUser
	for name, seen := range rec.missing {
		u := &identityv1alpha1.OrgUser{}
		err := r.Get(ctx, types.NamespacedName{Namespace: d.Namespace, Name: name}, u)
		switch {
		case apierrors.IsNotFound(err), err == nil && u.UID != seen.uid:
			delete(rec.missing, name) // gone, or replaced by an object the last listing did not judge
		case err != nil:
			return nil, 0, fmt.Errorf("get OrgUser %s/%s: %w", d.Namespace, name, err)
		default:
			candidates = append(candidates, u)
		}
	}
	stay, nextPrune, err := r.prune(ctx, d, rec, candidates, now)
	if err != nil {
		return nil, 0, err
	}
	if len(stay) < len(candidates) {
		kept := make(map[string]bool, len(stay))
		for _, u := range stay {
			kept[u.Name] = true
		}
		for _, u := range candidates {
			if !kept[u.Name] {
				delete(rec.missing, u.Name)
			}
		}
	}
	users, err := r.countOwned(ctx, d)
	if err != nil {
		return nil, 0, err
	}
	requeue := untilListing
	if nextPrune > 0 {
		requeue = min(requeue, nextPrune)
	}
	return countedStatus(&d.Status, users), requeue, nil
}

// countOwned counts the OrgUsers the directory controls, as the cache has them.
func (r *Reconciler) countOwned(ctx context.Context, d *identityv1alpha1.OrgDirectory) (int, error) {
	owned := &identityv1alpha1.OrgUserList{}
	if err := r.List(ctx, owned, client.InNamespace(d.Namespace), client.MatchingFields{controllerIndex: string(d.UID)},
		client.UnsafeDisableDeepCopy); err != nil {
		return 0, fmt.Errorf("list the OrgUsers of OrgDirectory %s: %w", klog.KObj(d), err)
	}
	n := 0
	for i := range owned.Items {
		if owned.Items[i].DeletionTimestamp.IsZero() {
			n++
		}
	}
	return n, nil
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func durationOr(d *metav1.Duration, fallback time.Duration) time.Duration {
	if d == nil || d.Duration <= 0 {
		return fallback
	}
	return d.Duration
}
