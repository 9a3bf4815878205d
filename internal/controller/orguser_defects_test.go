package controller

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/handler"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/provider"
)

// Tests of behaviour a user relies on around the decision of each reconcile, each written against a
// defect the scheduling core had: they drive the reconciler with a fake API server and a fixed clock.

// syncedAt returns a Ready status whose last successful read (Synced's transition) was at t.
func syncedAt(t time.Time) identityv1alpha1.OrgUserStatus {
	s := goodStatus()
	for i := range s.Conditions {
		s.Conditions[i].LastTransitionTime = metav1.NewTime(t)
	}
	return s
}

func reconcileRequest(name string) ctrl.Request {
	return ctrl.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: name}}
}

// getUser reads back the one OrgUser "a" these tests use.
func getUser(t *testing.T, h *scaleHarness) *identityv1alpha1.OrgUser {
	t.Helper()
	u := &identityv1alpha1.OrgUser{}
	must(t, h.k8s.Get(context.Background(), types.NamespacedName{Namespace: "ns", Name: "a"}, u))
	return u
}

func rateLimited(retryAfter time.Duration) func(string) (provider.User, error) {
	return func(string) (provider.User, error) {
		return provider.User{}, &provider.Error{Provider: "mixpeek", Kind: provider.KindRateLimited, StatusCode: 429, RetryAfter: retryAfter}
	}
}

// A 24 h Retry-After must not keep a mirror Ready past 3 × refreshInterval without a successful read.
func TestLongRetryAfterDoesNotPostponeStaleness(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	lastRead := now.Add(-2*time.Hour - 50*time.Minute) // refreshInterval 1h: stale in 10 minutes
	user := orgUser("a", "a@example.com", syncedAt(lastRead))
	h := newScaleHarness(t, user)
	h.r.Now = func() time.Time { return now }
	h.r.leaderSince.Store(lastRead.Add(-time.Hour).UnixNano())
	h.upstream.respond = rateLimited(24 * time.Hour)
	h.r.memory.set(getUser(t, h), userRecord{seen: true, readAt: now}) // read before; due now

	res := h.reconcile(t, "a")
	if limit := 10*time.Minute + 2*time.Second; res.RequeueAfter <= 0 || res.RequeueAfter > limit {
		t.Fatalf("after a 24h Retry-After the user comes back in %s, want by its stale deadline (%s)", res.RequeueAfter, limit)
	}
	now = now.Add(res.RequeueAfter)
	h.reconcile(t, "a")
	ready := meta.FindStatusCondition(getUser(t, h).Status.Conditions, identityv1alpha1.ConditionReady)
	if ready.Status != metav1.ConditionFalse || ready.Reason != identityv1alpha1.ReasonStale {
		t.Errorf("past the stale deadline during the pause Ready = %s/%s, want False/Stale", ready.Status, ready.Reason)
	}
	if n := h.upstream.callCount(); n != 1 {
		t.Errorf("upstream called %d times, want 1: the pause still holds", n)
	}
}

// The user who forced a refresh gets its answer even when the call was answered 429.
func TestForcedRefreshAnswered429IsAcknowledged(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	user := orgUser("a", "a@example.com", syncedAt(now.Add(-time.Minute)))
	user.Annotations = map[string]string{identityv1alpha1.ReconcileRequestedAnnotation: "please"}
	h := newScaleHarness(t, user)
	h.r.Now = func() time.Time { return now }
	h.upstream.respond = rateLimited(30 * time.Second)

	h.reconcile(t, "a")
	got := getUser(t, h)
	if got.Status.LastHandledReconcileAt != "please" {
		t.Errorf("lastHandledReconcileAt = %q after a forced refresh answered 429, want %q", got.Status.LastHandledReconcileAt, "please")
	}
	if synced := meta.FindStatusCondition(got.Status.Conditions, identityv1alpha1.ConditionSynced); synced.Status != metav1.ConditionFalse {
		t.Errorf("Synced = %s, want False: the failure shows in the conditions", synced.Status)
	}
	if ready := meta.FindStatusCondition(got.Status.Conditions, identityv1alpha1.ConditionReady); ready.Status != metav1.ConditionTrue {
		t.Errorf("Ready = %s, want True: the mirror is still fresh", ready.Status)
	}
}

// A 429 without Retry-After pauses the provider for 30 s; a fresh user comes back when it ends, not in
// a second or two.
func TestRateLimitWithoutRetryAfterBringsAFreshUserBackAfterThePause(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	h := newScaleHarness(t, orgUser("a", "a@example.com", syncedAt(now.Add(-time.Minute))))
	h.r.Now = func() time.Time { return now }
	h.upstream.respond = rateLimited(0)
	h.r.memory.set(getUser(t, h), userRecord{seen: true, readAt: now}) // read before; due now

	if res := h.reconcile(t, "a"); res.RequeueAfter < 25*time.Second {
		t.Errorf("fresh user answered 429 without Retry-After comes back in %s, want after the 30s pause", res.RequeueAfter)
	}
}

// A process that is not the leader knows nothing fresh: it exports no per-state or freshness figures.
func TestStandbyExportsNoUserFigures(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	h := newScaleHarness(t, orgUser("a", "a@example.com", syncedAt(now.Add(-2*time.Hour))))
	if n := testutil.CollectAndCount(usersCollector{r: h.r}); n != 0 {
		t.Errorf("a standby exported %d series, want none", n)
	}
	h.r.leaderSince.Store(now.Add(-time.Minute).UnixNano())
	if n := testutil.CollectAndCount(usersCollector{r: h.r}); n == 0 {
		t.Errorf("the leader exported no series")
	}
}

// withApplyHook counts the label applies and fails them while fail is set.
func withApplyHook(h *scaleHarness, applies *atomic.Int32, fail *atomic.Bool) {
	h.r.Client = interceptor.NewClient(h.k8s.(client.WithWatch), interceptor.Funcs{
		Apply: func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
			applies.Add(1)
			if fail.Load() {
				return errors.New("injected apply failure")
			}
			return nil // the fake client's apply would replace the whole object
		},
	})
}

// A label write that failed is retried like a failed status write, not only logged.
func TestFailedLabelWriteIsRetried(t *testing.T) {
	h := newScaleHarness(t, orgUser("new", "new@example.com", identityv1alpha1.OrgUserStatus{}))
	var applies atomic.Int32
	var fail atomic.Bool
	fail.Store(true)
	withApplyHook(h, &applies, &fail)

	_, err := h.r.Reconcile(context.Background(), reconcileRequest("new"))
	if err == nil || applies.Load() == 0 {
		t.Fatalf("Reconcile with a failing label apply = %v (%d applies), want the error returned for a retry", err, applies.Load())
	}
}

// Labels someone removed are put back without an upstream call, also before the user's next read is
// due, and also by the first reconcile after a start (a kill between the status write and the label
// write leaves them missing).
func TestMissingLabelsAreMendedWithoutAnUpstreamCall(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	user := orgUser("a", "a@example.com", syncedAt(now.Add(-time.Minute)))
	user.Labels = nil
	h := newScaleHarness(t, user)
	h.r.Now = func() time.Time { return now }
	h.r.leaderSince.Store(now.Add(-time.Minute).UnixNano())
	var applies atomic.Int32
	var fail atomic.Bool
	withApplyHook(h, &applies, &fail)

	h.reconcile(t, "a") // first sight after a start: the read is spread, the labels are not
	if applies.Load() != 1 {
		t.Errorf("first reconcile after a start applied labels %d times, want 1", applies.Load())
	}
	h.reconcile(t, "a") // a label edit before the read is due
	if applies.Load() != 2 {
		t.Errorf("reconcile with the labels still missing applied them %d times in all, want 2", applies.Load())
	}
	if n := h.upstream.callCount(); n != 0 {
		t.Errorf("mending labels called upstream %d times, want 0", n)
	}
}

// A user's first read places its later reads at its phase, so users created together are spread over
// the interval. A first status write that conflicted writes nothing, and the read that retries it is
// still the first one written: it must take the same place, not one interval after a read nobody saw.
func TestConflictedFirstWriteKeepsTheUsersPlaceInTheInterval(t *testing.T) {
	// Half an interval before the user's phase, where a first read and any other read differ most.
	phase := time.Duration(phaseHash("prov-uid/a@example.com") % uint64(time.Hour))
	now := time.Now().Truncate(time.Hour).Add((phase + 30*time.Minute) % time.Hour)
	first := func(conflicts int32) time.Duration {
		h := newScaleHarness(t, orgUser("a", "a@example.com", identityv1alpha1.OrgUserStatus{}))
		h.r.Now = func() time.Time { return now }
		var left atomic.Int32
		left.Store(conflicts)
		h.r.Client = interceptor.NewClient(h.k8s.(client.WithWatch), interceptor.Funcs{
			SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
				if left.Add(-1) >= 0 {
					return apierrors.NewConflict(identityv1alpha1.GroupVersion.WithResource("orgusers").GroupResource(), obj.GetName(), errors.New("injected"))
				}
				return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
			},
		})
		res := h.reconcile(t, "a")
		for range conflicts {
			res = h.reconcile(t, "a")
		}
		if s := getUser(t, h).Status; s.ObservedGeneration != 1 {
			t.Fatalf("status after %d conflicts and a retry = %+v, want it written", conflicts, s)
		}
		return res.RequeueAfter
	}
	alone, retried := first(0), first(1)
	if retried != alone {
		t.Errorf("after a conflicted first write the next read comes in %s, want %s as without the conflict (its phase)", retried, alone)
	}
}

// The start-up list reaches the queue at low priority, and a requeue keeps the priority of the item it
// came from unless the result names one. A user's scheduled read must not inherit it: during a first
// sync of thousands of users every read due meanwhile would wait behind the whole backlog, then run
// together at its end, and the users' refreshes would stay bunched for many intervals.
func TestScheduledReadIsNotQueuedBehindTheStartupBacklog(t *testing.T) {
	h := newScaleHarness(t, orgUser("a", "a@example.com", identityv1alpha1.OrgUserStatus{}))
	res := h.reconcile(t, "a")
	if res.RequeueAfter <= 0 {
		t.Fatalf("first read schedules nothing: %+v", res)
	}
	if res.Priority == nil || *res.Priority <= handler.LowPriority {
		t.Errorf("the next read is queued with priority %v, want above the start-up list's %d", res.Priority, handler.LowPriority)
	}
}
