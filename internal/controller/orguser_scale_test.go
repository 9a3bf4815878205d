package controller

import (
	"context"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/connection"
	"github.com/orgsync/orgsync/internal/provider"
)

// countingProvider is a Mixpeek-named provider whose client answers with respond and counts calls.
type countingProvider struct {
	mu      sync.Mutex
	calls   int
	respond func(key string) (provider.User, error)
}

func (p *countingProvider) Name() string                 { return "mixpeek" }
func (p *countingProvider) ValidateKey(key string) error { return nil }
func (p *countingProvider) NewClient(provider.Config) (provider.Client, error) {
	return p, nil
}

func (p *countingProvider) GetUser(_ context.Context, key string) (provider.User, error) {
	p.mu.Lock()
	p.calls++
	respond := p.respond
	p.mu.Unlock()
	if respond != nil {
		return respond(key)
	}
	return provider.User{ID: "id-" + key, Email: key, Role: provider.RoleAdmin, ProviderRole: "admin", State: provider.StateActive}, nil
}

func (p *countingProvider) callCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls
}

// countingReader counts Secret reads.
type countingReader struct {
	client.Reader
	mu    sync.Mutex
	reads int
}

func (r *countingReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if _, ok := obj.(*corev1.Secret); ok {
		r.mu.Lock()
		r.reads++
		r.mu.Unlock()
	}
	return r.Reader.Get(ctx, key, obj, opts...)
}

type scaleHarness struct {
	clock    *harnessClock
	r        *OrgUserReconciler
	upstream *countingProvider
	secrets  *countingReader
	k8s      client.Client
}

func newScaleHarness(t *testing.T, users ...*identityv1alpha1.OrgUser) *scaleHarness {
	t.Helper()
	scheme := runtime.NewScheme()
	must(t, clientgoscheme.AddToScheme(scheme))
	must(t, identityv1alpha1.AddToScheme(scheme))
	prov := &identityv1alpha1.OrgProvider{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "mixpeek", UID: "prov-uid"},
		Spec: identityv1alpha1.OrgProviderSpec{ProviderConfig: identityv1alpha1.ProviderConfig{
			Mixpeek:   &identityv1alpha1.MixpeekProvider{BaseURL: "https://api.example.com"},
			Auth:      identityv1alpha1.ProviderAuth{SecretRef: identityv1alpha1.SecretKeyReference{Name: "token"}},
			RateLimit: &identityv1alpha1.RateLimit{RequestsPerSecond: 1000, Burst: 1000},
		}},
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "token"}, Data: map[string][]byte{"token": []byte("t0k3n")}}
	objs := make([]client.Object, 0, 2+len(users))
	objs = append(objs, prov, secret)
	for _, u := range users {
		objs = append(objs, u)
	}
	k8s := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).
		WithStatusSubresource(&identityv1alpha1.OrgUser{}, &identityv1alpha1.OrgProvider{}).Build()
	upstream := &countingProvider{}
	registry := provider.Registry{"mixpeek": upstream}
	secrets := &countingReader{Reader: k8s}
	r := &OrgUserReconciler{
		Client: k8s, APIReader: secrets, Recorder: events.NewFakeRecorder(100), Providers: registry,
		Pool:        connection.NewPool(registry, connection.PoolOptions{}),
		Credentials: &credentialStore{},
	}
	clock := &harnessClock{t: time.Now()}
	r.Now = clock.now
	return &scaleHarness{clock: clock, r: r, upstream: upstream, secrets: secrets, k8s: k8s}
}

// harnessClock is the reconciler's clock in these tests: a scheduled read comes when the test says.
type harnessClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *harnessClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *harnessClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// orgUser is an OrgUser as the controller leaves it: its labels mirror its status. (The fake client's
// server-side apply would replace the whole object, so these tests avoid label writes.)
func orgUser(name, key string, status identityv1alpha1.OrgUserStatus) *identityv1alpha1.OrgUser {
	return &identityv1alpha1.OrgUser{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID("uid-" + name), Generation: 1,
			Labels: mirroredLabels(&status)},
		Spec: identityv1alpha1.OrgUserSpec{
			ProviderRef:     identityv1alpha1.ProviderReference{Kind: identityv1alpha1.OrgProviderKind, Name: "mixpeek"},
			Key:             key,
			RefreshInterval: &metav1.Duration{Duration: time.Hour},
		},
		Status: status,
	}
}

func (h *scaleHarness) reconcile(t *testing.T, name string) ctrl.Result {
	t.Helper()
	res, err := h.r.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: name}})
	must(t, err)
	return res
}

// After a start, users already Ready at their generation are read again at random moments over their
// refresh interval, not all at once; a user never synced is read at once.
func TestFirstReadsAfterAStartAreSpreadOverTheRefreshInterval(t *testing.T) {
	users := make([]*identityv1alpha1.OrgUser, 0, 9)
	for _, name := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		users = append(users, orgUser(name, name+"@example.com", goodStatus()))
	}
	users = append(users, orgUser("new", "new@example.com", identityv1alpha1.OrgUserStatus{}))
	h := newScaleHarness(t, users...)

	delays := map[time.Duration]bool{}
	var firstOfA time.Duration
	for _, u := range users[:8] {
		res := h.reconcile(t, u.Name)
		if u.Name == "a" {
			firstOfA = res.RequeueAfter
		}
		if res.RequeueAfter <= 0 || res.RequeueAfter > time.Hour {
			t.Errorf("%s: first reconcile after start requeues after %s, want within (0, 1h]", u.Name, res.RequeueAfter)
		}
		delays[res.RequeueAfter] = true
	}
	if len(delays) < 7 {
		t.Errorf("first reads of 8 users scheduled at only %d distinct moments, want them spread", len(delays))
	}
	if n := h.upstream.callCount(); n != 0 {
		t.Errorf("upstream called %d times by the first reconciles of Ready users, want 0", n)
	}
	h.reconcile(t, "new")
	if n := h.upstream.callCount(); n != 1 {
		t.Errorf("upstream called %d times for a user never synced, want 1 at once", n)
	}
	// Reconciled again before its time (a label edit, say), the user is not read; at its time it is.
	h.reconcile(t, "a")
	if n := h.upstream.callCount(); n != 1 {
		t.Errorf("a reconcile before the scheduled read called upstream: %d calls", n)
	}
	h.clock.advance(firstOfA)
	h.reconcile(t, "a")
	if n := h.upstream.callCount(); n != 2 {
		t.Errorf("scheduled read did not call upstream: %d calls", n)
	}
}

// Secret reads are per provider object: many users syncing read the provider's Secret once.
func TestSecretIsReadOncePerProviderNotPerUser(t *testing.T) {
	users := make([]*identityv1alpha1.OrgUser, 0, 9)
	for _, name := range []string{"a", "b", "c", "d", "e"} {
		users = append(users, orgUser(name, name+"@example.com", identityv1alpha1.OrgUserStatus{}))
	}
	h := newScaleHarness(t, users...)
	for _, u := range users {
		h.reconcile(t, u.Name)
	}
	if h.secrets.reads != 1 {
		t.Errorf("5 users read the Secret %d times, want 1", h.secrets.reads)
	}
	if n := h.upstream.callCount(); n != 5 {
		t.Errorf("upstream calls = %d, want 5", n)
	}
}

// A 429 is recorded on the provider; a user whose data is still fresh is not written.
func TestRateLimitedAnswerLeavesAFreshUserUntouched(t *testing.T) {
	fresh := goodStatus()
	for i := range fresh.Conditions {
		fresh.Conditions[i].LastTransitionTime = metav1.NewTime(time.Now().Add(-time.Minute).Truncate(time.Second))
	}
	h := newScaleHarness(t, orgUser("a", "a@example.com", fresh))
	// Not the first read after a start, and its read is due.
	h.r.memory.set(orgUser("a", "a@example.com", fresh), userRecord{seen: true, readAt: h.clock.now()})
	h.upstream.respond = func(string) (provider.User, error) {
		return provider.User{}, &provider.Error{Provider: "mixpeek", Kind: provider.KindRateLimited, StatusCode: 429, RetryAfter: 30 * time.Second}
	}
	before := &identityv1alpha1.OrgUser{}
	must(t, h.k8s.Get(context.Background(), types.NamespacedName{Namespace: "ns", Name: "a"}, before))

	res := h.reconcile(t, "a")

	after := &identityv1alpha1.OrgUser{}
	must(t, h.k8s.Get(context.Background(), types.NamespacedName{Namespace: "ns", Name: "a"}, after))
	if after.ResourceVersion != before.ResourceVersion {
		t.Errorf("a 429 wrote the fresh user: %+v", after.Status.Conditions)
	}
	if res.RequeueAfter < 30*time.Second {
		t.Errorf("requeue after %s, want no sooner than Retry-After", res.RequeueAfter)
	}
	prov := &identityv1alpha1.OrgProvider{}
	must(t, h.k8s.Get(context.Background(), types.NamespacedName{Namespace: "ns", Name: "mixpeek"}, prov))
	if prov.Status.RateLimitedUntil == nil {
		t.Errorf("provider status.rateLimitedUntil not set after a 429")
	}
	if ready := meta.FindStatusCondition(after.Status.Conditions, identityv1alpha1.ConditionReady); ready.Status != metav1.ConditionTrue {
		t.Errorf("Ready = %s", ready.Status)
	}
}

// sharedProviderClient hands out one OrgProvider the way the informer cache does when a read asks
// not to be copied: a shallow copy, sharing its maps, slices and pointers with every other reader.
type sharedProviderClient struct {
	client.Client
	shared       *identityv1alpha1.OrgProvider
	readOnlyGets int
}

func (c *sharedProviderClient) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if p, ok := obj.(*identityv1alpha1.OrgProvider); ok {
		o := &client.GetOptions{}
		o.ApplyOptions(opts)
		if o.UnsafeDisableDeepCopy != nil && *o.UnsafeDisableDeepCopy {
			c.readOnlyGets++
			*p = *c.shared
			return nil
		}
	}
	return c.Client.Get(ctx, key, obj, opts...)
}

// Every reconcile reads its provider without copying it (thousands of reconciles after a listing
// would each copy it), so nothing may change what it read: the write of rateLimitedUntil after a
// 429 goes to a copy of its own, and the object every reader of the cache shares stays as it was.
func TestRateLimitWriteLeavesTheCachedProviderAlone(t *testing.T) {
	h := newScaleHarness(t, orgUser("a", "a@example.com", goodStatus()))
	// Not the first read after a start, and its read is due.
	h.r.memory.set(orgUser("a", "a@example.com", goodStatus()), userRecord{seen: true, readAt: h.clock.now()})
	stored := &identityv1alpha1.OrgProvider{}
	must(t, h.k8s.Get(context.Background(), types.NamespacedName{Namespace: "ns", Name: "mixpeek"}, stored))
	stored.Labels = map[string]string{"written": "by the API server"}
	stored.Status.Conditions = []metav1.Condition{{Type: identityv1alpha1.ConditionReady, Status: metav1.ConditionTrue,
		Reason: identityv1alpha1.ReasonValid, Message: "As stored", LastTransitionTime: metav1.Now()}}
	must(t, h.k8s.Update(context.Background(), stored))
	must(t, h.k8s.Status().Update(context.Background(), stored))

	cached := stored.DeepCopy()
	cached.Labels = map[string]string{}
	cached.Status.Conditions = []metav1.Condition{{Type: identityv1alpha1.ConditionReady, Status: metav1.ConditionTrue,
		Reason: identityv1alpha1.ReasonValid, Message: "As cached", LastTransitionTime: metav1.Now()}}
	snapshot := cached.DeepCopy()
	reader := &sharedProviderClient{Client: h.k8s, shared: cached}
	h.r.Client = reader
	h.upstream.respond = func(string) (provider.User, error) {
		return provider.User{}, &provider.Error{Provider: "mixpeek", Kind: provider.KindRateLimited, StatusCode: 429, RetryAfter: 30 * time.Second}
	}

	h.reconcile(t, "a")

	if reader.readOnlyGets == 0 {
		t.Fatal("the reconcile copied its provider from the cache; want it read without a copy")
	}
	if !equality.Semantic.DeepEqual(cached, snapshot) {
		t.Errorf("the cached provider changed under every reader:\n got %+v\nwant %+v", cached, snapshot)
	}
	after := &identityv1alpha1.OrgProvider{}
	must(t, h.k8s.Get(context.Background(), types.NamespacedName{Namespace: "ns", Name: "mixpeek"}, after))
	if after.Status.RateLimitedUntil == nil {
		t.Error("status.rateLimitedUntil not written after a 429")
	}
}
