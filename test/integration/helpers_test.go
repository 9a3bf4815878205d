package integration

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
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/upstreamsim"
)

// settleTimeout bounds how long a test waits for the controller to reach a state.
const settleTimeout = 30 * time.Second

func ctxFor(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func uniqueSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newNamespace creates a namespace of its own for one test, so tests can run in parallel.
func newNamespace(t *testing.T, labels map[string]string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "t-" + uniqueSuffix(), Labels: labels}}
	must(t, k8s.Create(ctxFor(t), ns))
	return ns.Name
}

func newSecret(t *testing.T, namespace, name, token string) *corev1.Secret {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, Data: map[string][]byte{"token": []byte(token)}}
	must(t, k8s.Create(ctxFor(t), s))
	return s
}

// simConfig points a provider spec at the simulator, trusting its CA.
func simConfig(providerName, secretName string) identityv1alpha1.ProviderConfig {
	cfg := identityv1alpha1.ProviderConfig{
		Auth:     identityv1alpha1.ProviderAuth{SecretRef: identityv1alpha1.SecretKeyReference{Name: secretName}},
		CABundle: sim.CABundle(),
	}
	switch providerName {
	case upstreamsim.ProviderMixpeek:
		cfg.Mixpeek = &identityv1alpha1.MixpeekProvider{BaseURL: sim.URL()}
	case upstreamsim.ProviderFlashback:
		cfg.Flashback = &identityv1alpha1.FlashbackProvider{BaseURL: sim.URL()}
	case upstreamsim.ProviderSCIM:
		cfg.SCIM = &identityv1alpha1.SCIMProvider{BaseURL: sim.SCIMBaseURL(), Roles: scimRoles()}
	}
	return cfg
}

func newOrgProvider(t *testing.T, namespace, name string, cfg identityv1alpha1.ProviderConfig) *identityv1alpha1.OrgProvider {
	t.Helper()
	p := &identityv1alpha1.OrgProvider{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec:       identityv1alpha1.OrgProviderSpec{ProviderConfig: cfg},
	}
	must(t, k8s.Create(ctxFor(t), p))
	return p
}

func newOrgUser(t *testing.T, namespace, name, providerName, key string, mutate ...func(*identityv1alpha1.OrgUser)) {
	t.Helper()
	u := &identityv1alpha1.OrgUser{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: identityv1alpha1.OrgUserSpec{
			ProviderRef: identityv1alpha1.ProviderReference{Name: providerName},
			Key:         key,
		},
	}
	for _, m := range mutate {
		m(u)
	}
	must(t, k8s.Create(ctxFor(t), u))
}

// mixpeekSetup creates a namespace, a Secret with token, an OrgProvider for the simulated Mixpeek.
func mixpeekSetup(t *testing.T, token string) (namespace string) {
	t.Helper()
	namespace = newNamespace(t, nil)
	newSecret(t, namespace, "mixpeek-token", token)
	newOrgProvider(t, namespace, "mixpeek", simConfig(upstreamsim.ProviderMixpeek, "mixpeek-token"))
	return namespace
}

// putMixpeekUser registers a user in the simulator with a unique email and returns that email.
func putMixpeekUser(t *testing.T, role, status string) string {
	t.Helper()
	email := fmt.Sprintf("user-%s@example.com", uniqueSuffix())
	last := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	sim.PutMixpeekUser(upstreamsim.MixpeekUser{
		UserID: "usr_" + uniqueSuffix(), Email: email, UserName: "Test User", Role: role, Status: status,
		InternalID: "int_1", OrganizationID: "org_test",
		CreatedAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), UpdatedAt: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC),
		LastLogin: &last,
	})
	return email
}

func getUser(t *testing.T, namespace, name string) *identityv1alpha1.OrgUser {
	t.Helper()
	u := &identityv1alpha1.OrgUser{}
	must(t, k8s.Get(ctxFor(t), client.ObjectKey{Namespace: namespace, Name: name}, u))
	return u
}

// eventually polls check until it returns nil or the timeout passes, then fails with the last error.
func eventually(t *testing.T, timeout time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for {
		if err = check(); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s: %v", timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitForReason waits until the OrgUser's condition has the status and reason, and returns the user.
func waitForReason(t *testing.T, namespace, name, condType string, status metav1.ConditionStatus, reason string) *identityv1alpha1.OrgUser {
	t.Helper()
	var user *identityv1alpha1.OrgUser
	eventually(t, settleTimeout, func() error {
		user = getUser(t, namespace, name)
		c := meta.FindStatusCondition(user.Status.Conditions, condType)
		if c == nil || c.Status != status || c.Reason != reason {
			return fmt.Errorf("%s: want %s=%s/%s, have conditions %s", name, condType, status, reason, describeConditions(user.Status.Conditions))
		}
		return nil
	})
	return user
}

func waitForProviderReason(t *testing.T, obj client.Object, conditions func() []metav1.Condition, status metav1.ConditionStatus, reason string) {
	t.Helper()
	eventually(t, settleTimeout, func() error {
		if err := k8s.Get(ctxFor(t), client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		c := meta.FindStatusCondition(conditions(), identityv1alpha1.ConditionReady)
		if c == nil || c.Status != status || c.Reason != reason {
			return fmt.Errorf("want Ready=%s/%s, have %s", status, reason, describeConditions(conditions()))
		}
		return nil
	})
}

func describeConditions(conds []metav1.Condition) string {
	parts := make([]string, 0, len(conds))
	for _, c := range conds {
		parts = append(parts, fmt.Sprintf("%s=%s/%s(%q, gen %d)", c.Type, c.Status, c.Reason, c.Message, c.ObservedGeneration))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// requireConditionsObserved checks the kstatus rule: status and every condition observed the generation.
func requireConditionsObserved(t *testing.T, user *identityv1alpha1.OrgUser) {
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

// requireNotStalled checks that Stalled is absent or False: the failure is not terminal.
func requireNotStalled(t *testing.T, user *identityv1alpha1.OrgUser) {
	t.Helper()
	if c := meta.FindStatusCondition(user.Status.Conditions, identityv1alpha1.ConditionStalled); c != nil && c.Status == metav1.ConditionTrue {
		t.Errorf("condition Stalled should be absent or False, is %s/%s", c.Status, c.Reason)
	}
}

// forceRefresh sets the reconcile-requested-at annotation to a new value and returns it.
func forceRefresh(t *testing.T, namespace, name string) string {
	t.Helper()
	value := time.Now().UTC().Format(time.RFC3339Nano)
	u := getUser(t, namespace, name)
	patch := client.MergeFrom(u.DeepCopy())
	if u.Annotations == nil {
		u.Annotations = map[string]string{}
	}
	u.Annotations[identityv1alpha1.ReconcileRequestedAnnotation] = value
	must(t, k8s.Patch(ctxFor(t), u, patch))
	return value
}

// waitForHandled waits until the force-refresh request value is acknowledged in status.
func waitForHandled(t *testing.T, namespace, name, value string) *identityv1alpha1.OrgUser {
	t.Helper()
	var user *identityv1alpha1.OrgUser
	eventually(t, settleTimeout, func() error {
		user = getUser(t, namespace, name)
		if user.Status.LastHandledReconcileAt != value {
			return fmt.Errorf("lastHandledReconcileAt = %q, want %q", user.Status.LastHandledReconcileAt, value)
		}
		return nil
	})
	return user
}

// eventsFor lists the events.k8s.io events regarding the named object with the given reason.
func eventsFor(t *testing.T, namespace, name, reason string) []eventsv1.Event {
	t.Helper()
	list := &eventsv1.EventList{}
	must(t, k8s.List(ctxFor(t), list, client.InNamespace(namespace)))
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Regarding.Name == name && e.Reason == reason {
			out = append(out, e)
		}
	}
	return out
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// errorfNotYet describes a state not reached yet, for eventually.
func errorfNotYet(format string, args ...any) error { return fmt.Errorf(format, args...) }
