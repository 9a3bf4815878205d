package envsuite

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/upstreamsim"
)

// SettleTimeout bounds how long a test waits for the controller or the API server to reach a state;
// generous, because the machine running the tests may be slow and loaded.
const SettleTimeout = 60 * time.Second

// Ctx is a context that ends with the test.
func Ctx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// UniqueSuffix makes names that do not collide between tests.
func UniqueSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Must fails the test on an error.
func Must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Eventually polls check until it returns nil or the timeout passes, then fails with the last error.
func Eventually(t *testing.T, timeout time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s: %v", timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// NewNamespace creates a namespace for one test.
func (s *Suite) NewNamespace(t *testing.T, prefix string, labels, annotations map[string]string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: prefix + "-" + UniqueSuffix(), Labels: labels, Annotations: annotations}}
	Must(t, s.Client.Create(Ctx(t), ns))
	return ns.Name
}

// EnsureNamespace creates a namespace with a fixed name unless it exists.
func (s *Suite) EnsureNamespace(t *testing.T, name string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := s.Client.Create(Ctx(t), ns); err != nil && !strings.Contains(err.Error(), "already exists") {
		t.Fatal(err)
	}
}

// NewMixpeekProvider creates a token Secret "mixpeek-token" and an OrgProvider "mixpeek" in namespace
// that reach sim (the shared simulator when nil); mutate may change the provider before it is created.
func (s *Suite) NewMixpeekProvider(t *testing.T, namespace, token string, sim *upstreamsim.Server,
	mutate ...func(*identityv1alpha1.OrgProvider)) {
	t.Helper()
	s.NewProvider(t, namespace, upstreamsim.ProviderMixpeek, upstreamsim.ProviderMixpeek, token, sim, mutate...)
}

// NewFlashbackProvider is NewMixpeekProvider for the simulated Flashback, named "flashback".
func (s *Suite) NewFlashbackProvider(t *testing.T, namespace, token string, sim *upstreamsim.Server,
	mutate ...func(*identityv1alpha1.OrgProvider)) {
	t.Helper()
	s.NewProvider(t, namespace, upstreamsim.ProviderFlashback, upstreamsim.ProviderFlashback, token, sim, mutate...)
}

// NewSCIMProvider is NewMixpeekProvider for the simulated SCIM service, named "scim", with the
// GitHub Enterprise roles map the simulator's SCIM users expect (DemoSCIMRoles).
func (s *Suite) NewSCIMProvider(t *testing.T, namespace, token string, sim *upstreamsim.Server,
	mutate ...func(*identityv1alpha1.OrgProvider)) {
	t.Helper()
	s.NewProvider(t, namespace, upstreamsim.ProviderSCIM, upstreamsim.ProviderSCIM, token, sim, mutate...)
}

// DemoSCIMRoles is the scim block's roles map for upstreamsim.DemoSCIMRoles: GitHub Enterprise's
// roles, read from the roles attribute.
func DemoSCIMRoles() *identityv1alpha1.SCIMRoles {
	roles := &identityv1alpha1.SCIMRoles{Attribute: "roles"}
	for _, entry := range upstreamsim.DemoSCIMRoles() {
		roles.Map = append(roles.Map, identityv1alpha1.SCIMRoleMapEntry{Value: entry.Value, Role: entry.Role})
	}
	return roles
}

// NewProvider creates the OrgProvider name for api (ProviderMixpeek, ProviderFlashback or
// ProviderSCIM) on sim (the shared simulator when nil), with its token in the Secret name+"-token".
func (s *Suite) NewProvider(t *testing.T, namespace, name, api, token string, sim *upstreamsim.Server,
	mutate ...func(*identityv1alpha1.OrgProvider)) {
	t.Helper()
	if sim == nil {
		sim = s.Sim
	}
	secret := s.NewSecret(t, namespace, name+"-token", token)
	p := &identityv1alpha1.OrgProvider{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: identityv1alpha1.OrgProviderSpec{ProviderConfig: SimConfig(sim, api, secret.Name)}}
	for _, m := range mutate {
		m(p)
	}
	Must(t, s.Client.Create(Ctx(t), p))
}

// SimConfig is a provider configuration for api (ProviderMixpeek, ProviderFlashback or ProviderSCIM,
// with DemoSCIMRoles) on sim, trusting its CA, with the token in the Secret secretName.
func SimConfig(sim *upstreamsim.Server, api, secretName string) identityv1alpha1.ProviderConfig {
	cfg := identityv1alpha1.ProviderConfig{
		Auth:     identityv1alpha1.ProviderAuth{SecretRef: identityv1alpha1.SecretKeyReference{Name: secretName}},
		CABundle: sim.CABundle(),
	}
	switch api {
	case upstreamsim.ProviderMixpeek:
		cfg.Mixpeek = &identityv1alpha1.MixpeekProvider{BaseURL: sim.URL()}
	case upstreamsim.ProviderSCIM:
		cfg.SCIM = &identityv1alpha1.SCIMProvider{BaseURL: sim.SCIMBaseURL(), Roles: DemoSCIMRoles()}
	default:
		cfg.Flashback = &identityv1alpha1.FlashbackProvider{BaseURL: sim.URL()}
	}
	return cfg
}

// NewSecret creates a Secret holding token under the key "token".
func (s *Suite) NewSecret(t *testing.T, namespace, name, token string) *corev1.Secret {
	t.Helper()
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Data: map[string][]byte{"token": []byte(token)}}
	Must(t, s.Client.Create(Ctx(t), secret))
	return secret
}

// NewOrgProvider creates an OrgProvider with cfg.
func (s *Suite) NewOrgProvider(t *testing.T, namespace, name string, cfg identityv1alpha1.ProviderConfig) *identityv1alpha1.OrgProvider {
	t.Helper()
	p := &identityv1alpha1.OrgProvider{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: identityv1alpha1.OrgProviderSpec{ProviderConfig: cfg}}
	Must(t, s.Client.Create(Ctx(t), p))
	return p
}

// OwnSimulator starts a simulator for one test, so its faults and limits touch no other test; it
// knows GoodToken.
func OwnSimulator(t *testing.T) *upstreamsim.Server {
	t.Helper()
	sim := upstreamsim.New()
	Must(t, sim.Start())
	t.Cleanup(sim.Close)
	sim.AllowToken(GoodToken)
	return sim
}

// NewOrgUser creates an OrgUser for key through the named OrgProvider of its namespace.
func (s *Suite) NewOrgUser(t *testing.T, namespace, name, providerName, key string, mutate ...func(*identityv1alpha1.OrgUser)) {
	t.Helper()
	u := &identityv1alpha1.OrgUser{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec:       identityv1alpha1.OrgUserSpec{ProviderRef: identityv1alpha1.ProviderReference{Name: providerName}, Key: key},
	}
	for _, m := range mutate {
		m(u)
	}
	Must(t, s.Client.Create(Ctx(t), u))
}

// PutMixpeekUser registers a simulated Mixpeek user with a unique email and returns the email.
func PutMixpeekUser(sim *upstreamsim.Server, role, status string) string {
	email := fmt.Sprintf("user-%s@example.com", UniqueSuffix())
	SetMixpeekUser(sim, email, role, status)
	return email
}

// SetMixpeekUser creates or replaces the simulated Mixpeek user with that email; every timestamp is
// set, so a mirror has all of them.
func SetMixpeekUser(sim *upstreamsim.Server, email, role, status string) {
	lastLogin := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	sim.PutMixpeekUser(upstreamsim.MixpeekUser{
		UserID: "usr_" + strings.ReplaceAll(email, "@", "_"), Email: email, UserName: "Test User", Role: role, Status: status,
		InternalID: "int_1", OrganizationID: "org_test",
		CreatedAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), UpdatedAt: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC),
		LastLogin: &lastLogin,
	})
}

// GetUser reads an OrgUser from the API server.
func (s *Suite) GetUser(t *testing.T, namespace, name string) *identityv1alpha1.OrgUser {
	t.Helper()
	u := &identityv1alpha1.OrgUser{}
	Must(t, s.Client.Get(Ctx(t), client.ObjectKey{Namespace: namespace, Name: name}, u))
	return u
}

// GetUnstructured reads an OrgUser as the API server serves it, the way Argo CD, Flux and
// Gatekeeper see it: no Go defaults, no omitted zero values.
func (s *Suite) GetUnstructured(t *testing.T, namespace, name string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(identityv1alpha1.GroupVersion.WithKind("OrgUser"))
	Must(t, s.Client.Get(Ctx(t), client.ObjectKey{Namespace: namespace, Name: name}, u))
	return u
}

// ListUsers returns the namespace's OrgUsers by name.
func (s *Suite) ListUsers(ctx context.Context, namespace string) (map[string]identityv1alpha1.OrgUser, error) {
	list := &identityv1alpha1.OrgUserList{}
	if err := s.Client.List(ctx, list, client.InNamespace(namespace)); err != nil {
		return nil, err
	}
	out := make(map[string]identityv1alpha1.OrgUser, len(list.Items))
	for _, u := range list.Items {
		out[u.Name] = u
	}
	return out, nil
}

// WaitForReady waits until Ready has the status and reason for the OrgUser's current generation.
func (s *Suite) WaitForReady(t *testing.T, namespace, name string, status metav1.ConditionStatus, reason string) *identityv1alpha1.OrgUser {
	t.Helper()
	var user *identityv1alpha1.OrgUser
	Eventually(t, SettleTimeout, func() error {
		user = s.GetUser(t, namespace, name)
		c := meta.FindStatusCondition(user.Status.Conditions, identityv1alpha1.ConditionReady)
		if c == nil || c.Status != status || c.Reason != reason || c.ObservedGeneration != user.Generation {
			return fmt.Errorf("%s/%s: want Ready=%s/%s at generation %d, have %s",
				namespace, name, status, reason, user.Generation, DescribeConditions(user.Status.Conditions))
		}
		return nil
	})
	return user
}

// WaitForCondition waits until the OrgUser's condition condType has the status and reason, whatever
// generation it observed, and returns the user.
func (s *Suite) WaitForCondition(t *testing.T, namespace, name, condType string, status metav1.ConditionStatus,
	reason string) *identityv1alpha1.OrgUser {
	t.Helper()
	var user *identityv1alpha1.OrgUser
	Eventually(t, SettleTimeout, func() error {
		user = s.GetUser(t, namespace, name)
		c := meta.FindStatusCondition(user.Status.Conditions, condType)
		if c == nil || c.Status != status || c.Reason != reason {
			return fmt.Errorf("%s: want %s=%s/%s, have conditions %s", name, condType, status, reason, DescribeConditions(user.Status.Conditions))
		}
		return nil
	})
	return user
}

// WaitForProviderReady waits until the provider object (an OrgProvider or ClusterOrgProvider, re-read
// into obj) has Ready with the status and reason; conditions returns obj's conditions.
func (s *Suite) WaitForProviderReady(t *testing.T, obj client.Object, conditions func() []metav1.Condition,
	status metav1.ConditionStatus, reason string) {
	t.Helper()
	Eventually(t, SettleTimeout, func() error {
		if err := s.Client.Get(Ctx(t), client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		c := meta.FindStatusCondition(conditions(), identityv1alpha1.ConditionReady)
		if c == nil || c.Status != status || (reason != "" && c.Reason != reason) {
			return fmt.Errorf("%s: want Ready=%s/%s, have %s", obj.GetName(), status, reason, DescribeConditions(conditions()))
		}
		return nil
	})
}

// WaitForOrgProvider re-reads the OrgProvider until check accepts it or timeout passes, and returns
// the accepted object.
func (s *Suite) WaitForOrgProvider(t *testing.T, timeout time.Duration, namespace, name string,
	check func(*identityv1alpha1.OrgProvider) error) *identityv1alpha1.OrgProvider {
	t.Helper()
	p := &identityv1alpha1.OrgProvider{}
	Eventually(t, timeout, func() error {
		if err := s.Client.Get(Ctx(t), client.ObjectKey{Namespace: namespace, Name: name}, p); err != nil {
			return err
		}
		return check(p)
	})
	return p
}

// RequireConditionsObserved checks the kstatus rule: status and every condition observed the generation.
func RequireConditionsObserved(t *testing.T, user *identityv1alpha1.OrgUser) {
	t.Helper()
	if user.Status.ObservedGeneration != user.Generation {
		t.Errorf("status.observedGeneration = %d, want %d", user.Status.ObservedGeneration, user.Generation)
	}
	for _, c := range user.Status.Conditions {
		if c.ObservedGeneration != user.Generation {
			t.Errorf("condition %s observedGeneration = %d, want %d", c.Type, c.ObservedGeneration, user.Generation)
		}
	}
}

// RequireNotStalled checks that Stalled is absent or False: the failure is not terminal.
func RequireNotStalled(t *testing.T, user *identityv1alpha1.OrgUser) {
	t.Helper()
	if c := meta.FindStatusCondition(user.Status.Conditions, identityv1alpha1.ConditionStalled); c != nil && c.Status == metav1.ConditionTrue {
		t.Errorf("condition Stalled should be absent or False, is %s/%s", c.Status, c.Reason)
	}
}

// DescribeConditions prints conditions for failure messages.
func DescribeConditions(conds []metav1.Condition) string {
	parts := make([]string, 0, len(conds))
	for _, c := range conds {
		parts = append(parts, fmt.Sprintf("%s=%s/%s(%q, gen %d)", c.Type, c.Status, c.Reason, c.Message, c.ObservedGeneration))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// ForceRefresh sets the reconcile-requested-at annotation to a new value and waits until the
// controller has handled it.
func (s *Suite) ForceRefresh(t *testing.T, namespace, name string) *identityv1alpha1.OrgUser {
	t.Helper()
	return s.WaitForHandled(t, namespace, name, s.RequestRefresh(t, namespace, name))
}

// RequestRefresh sets the reconcile-requested-at annotation of each named OrgUser to one new value
// and returns it, without waiting.
func (s *Suite) RequestRefresh(t *testing.T, namespace string, names ...string) string {
	t.Helper()
	value := time.Now().UTC().Format(time.RFC3339Nano)
	patch := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:%q}}}`, identityv1alpha1.ReconcileRequestedAnnotation, value)
	for _, name := range names {
		u := &identityv1alpha1.OrgUser{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
		Must(t, s.Client.Patch(Ctx(t), u, client.RawPatch(types.MergePatchType, patch)))
	}
	return value
}

// WaitForHandled waits until the force-refresh request value is acknowledged in status.
func (s *Suite) WaitForHandled(t *testing.T, namespace, name, value string) *identityv1alpha1.OrgUser {
	t.Helper()
	var user *identityv1alpha1.OrgUser
	Eventually(t, SettleTimeout, func() error {
		user = s.GetUser(t, namespace, name)
		if user.Status.LastHandledReconcileAt != value {
			return fmt.Errorf("lastHandledReconcileAt = %q, want %q", user.Status.LastHandledReconcileAt, value)
		}
		return nil
	})
	return user
}

// Events lists the events.k8s.io events regarding the named object with the given reason.
func (s *Suite) Events(t *testing.T, namespace, name, reason string) []eventsv1.Event {
	t.Helper()
	list := &eventsv1.EventList{}
	Must(t, s.Client.List(Ctx(t), list, client.InNamespace(namespace)))
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Regarding.Name == name && e.Reason == reason {
			out = append(out, e)
		}
	}
	return out
}

// EventCount is how many times events with that reason were emitted for the object.
func (s *Suite) EventCount(t *testing.T, namespace, name, reason string) int {
	t.Helper()
	n := 0
	for _, e := range s.Events(t, namespace, name, reason) {
		n += timesEmitted(&e)
	}
	return n
}

// EventCounts counts the events about OrgUsers of the namespace, by OrgUser name and reason.
func (s *Suite) EventCounts(t *testing.T, namespace string) map[string]map[string]int {
	t.Helper()
	list := &eventsv1.EventList{}
	Must(t, s.Client.List(Ctx(t), list, client.InNamespace(namespace)))
	out := map[string]map[string]int{}
	for i := range list.Items {
		e := &list.Items[i]
		if e.Regarding.Kind != "OrgUser" {
			continue
		}
		if out[e.Regarding.Name] == nil {
			out[e.Regarding.Name] = map[string]int{}
		}
		out[e.Regarding.Name][e.Reason] += timesEmitted(e)
	}
	return out
}

// timesEmitted is how many emissions one Event object stands for: a repeated event is one object
// whose series counts the repetitions (at least two).
func timesEmitted(e *eventsv1.Event) int {
	if e.Series != nil {
		return max(2, int(e.Series.Count))
	}
	return 1
}
