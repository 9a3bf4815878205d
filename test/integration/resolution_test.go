package integration

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/upstreamsim"
)

func TestUnknownUserIsNotFoundFromTheStart(t *testing.T) {
	t.Parallel()
	ns := mixpeekSetup(t, goodToken)
	newOrgUser(t, ns, "ghost", "mixpeek", "ghost-"+uniqueSuffix()+"@example.com")
	u := waitForReason(t, ns, "ghost", identityv1alpha1.ConditionReady, metav1.ConditionFalse, identityv1alpha1.ReasonUserNotFound)
	if u.Status.State != "NotFound" || u.Status.Provider != "mixpeek" {
		t.Errorf("state %q provider %q", u.Status.State, u.Status.Provider)
	}
	waitForReason(t, ns, "ghost", identityv1alpha1.ConditionStalled, metav1.ConditionTrue, identityv1alpha1.ReasonUserNotFound)
	waitForReason(t, ns, "ghost", identityv1alpha1.ConditionSynced, metav1.ConditionFalse, identityv1alpha1.ReasonUserNotFound)
}

func TestUnauthorizedUntilTheSecretIsFixed(t *testing.T) {
	t.Parallel()
	ns := mixpeekSetup(t, unknownToken)
	email := putMixpeekUser(t, "member", "active")
	newOrgUser(t, ns, "erin", "mixpeek", email)
	u := waitForReason(t, ns, "erin", identityv1alpha1.ConditionReady, metav1.ConditionFalse, identityv1alpha1.ReasonUnauthorized)
	waitForReason(t, ns, "erin", identityv1alpha1.ConditionStalled, metav1.ConditionTrue, identityv1alpha1.ReasonUnauthorized)
	requireNoToken(t, u, unknownToken)
	if c := findCondition(u, identityv1alpha1.ConditionReady); !strings.Contains(c.Message, "401") {
		t.Errorf("Unauthorized message should carry the status code: %q", c.Message)
	}

	// Rotating the token re-reads the user at once, not after the refresh interval (1h).
	rotateSecret(t, ns, "mixpeek-token", goodToken)
	waitForReason(t, ns, "erin", identityv1alpha1.ConditionReady, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
}

func TestForbiddenToken(t *testing.T) {
	t.Parallel()
	ns := mixpeekSetup(t, forbiddenToken)
	email := putMixpeekUser(t, "member", "active")
	newOrgUser(t, ns, "frank", "mixpeek", email)
	u := waitForReason(t, ns, "frank", identityv1alpha1.ConditionReady, metav1.ConditionFalse, identityv1alpha1.ReasonForbidden)
	waitForReason(t, ns, "frank", identityv1alpha1.ConditionStalled, metav1.ConditionTrue, identityv1alpha1.ReasonForbidden)
	requireNoToken(t, u, forbiddenToken)
}

func TestInvalidMixpeekKeyMakesNoUpstreamCall(t *testing.T) {
	t.Parallel()
	ns := mixpeekSetup(t, goodToken)
	key := "not-an-email-" + uniqueSuffix()
	newOrgUser(t, ns, "bad-key", "mixpeek", key)
	u := waitForReason(t, ns, "bad-key", identityv1alpha1.ConditionReady, metav1.ConditionFalse, identityv1alpha1.ReasonInvalidKey)
	if msg := findCondition(u, identityv1alpha1.ConditionReady).Message; !strings.Contains(msg, "not an email address") {
		t.Errorf("InvalidKey message should say why: %q", msg)
	}
	waitForReason(t, ns, "bad-key", identityv1alpha1.ConditionStalled, metav1.ConditionTrue, identityv1alpha1.ReasonInvalidKey)
	if n := sim.Requests(upstreamsim.ProviderMixpeek, key); n != 0 {
		t.Errorf("simulator saw %d requests for an invalid key, want 0", n)
	}
}

func TestProviderCreatedAfterTheUser(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t, nil)
	email := putMixpeekUser(t, "viewer", "active")
	newOrgUser(t, ns, "gina", "mixpeek", email)
	waitForReason(t, ns, "gina", identityv1alpha1.ConditionReady, metav1.ConditionFalse, identityv1alpha1.ReasonProviderNotFound)
	waitForReason(t, ns, "gina", identityv1alpha1.ConditionStalled, metav1.ConditionTrue, identityv1alpha1.ReasonProviderNotFound)

	newOrgProvider(t, ns, "mixpeek", simConfig(upstreamsim.ProviderMixpeek, "mixpeek-token"))
	waitForReason(t, ns, "gina", identityv1alpha1.ConditionReady, metav1.ConditionFalse, identityv1alpha1.ReasonSecretNotFound)

	newSecret(t, ns, "mixpeek-token", goodToken)
	u := waitForReason(t, ns, "gina", identityv1alpha1.ConditionReady, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	if u.Status.Role != "Viewer" {
		t.Errorf("role = %s, want Viewer", u.Status.Role)
	}
}

func TestOrgProviderInAnotherNamespaceIsNotFound(t *testing.T) {
	t.Parallel()
	other := mixpeekSetup(t, goodToken)
	ns := newNamespace(t, nil)
	newOrgUser(t, ns, "henry", "mixpeek", putMixpeekUser(t, "member", "active"))
	u := waitForReason(t, ns, "henry", identityv1alpha1.ConditionReady, metav1.ConditionFalse, identityv1alpha1.ReasonProviderNotFound)
	if strings.Contains(findCondition(u, identityv1alpha1.ConditionReady).Message, other) {
		t.Errorf("an OrgProvider must only be looked up in the user's own namespace")
	}
}

func TestClusterOrgProviderNamespaceSelector(t *testing.T) {
	t.Parallel()
	secretNS := newNamespace(t, nil)
	newSecret(t, secretNS, "shared-token", goodToken)
	team := "team-" + uniqueSuffix()
	cfg := simConfig(upstreamsim.ProviderMixpeek, "shared-token")
	cfg.Auth.SecretRef.Namespace = secretNS
	cop := &identityv1alpha1.ClusterOrgProvider{
		ObjectMeta: metav1.ObjectMeta{Name: "shared-" + uniqueSuffix()},
		Spec: identityv1alpha1.ClusterOrgProviderSpec{
			ProviderConfig:    cfg,
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"orgsync-team": team}},
		},
	}
	must(t, k8s.Create(ctxFor(t), cop))
	t.Cleanup(func() { _ = k8s.Delete(ctxFor(t), cop) })

	allowed := newNamespace(t, map[string]string{"orgsync-team": team})
	denied := newNamespace(t, nil)
	allowedEmail, deniedEmail := putMixpeekUser(t, "admin", "active"), putMixpeekUser(t, "admin", "active")
	useCOP := func(u *identityv1alpha1.OrgUser) { u.Spec.ProviderRef.Kind = identityv1alpha1.ClusterOrgProviderKind }
	newOrgUser(t, allowed, "ivy", cop.Name, allowedEmail, useCOP)
	newOrgUser(t, denied, "ivy", cop.Name, deniedEmail, useCOP)

	waitForReason(t, allowed, "ivy", identityv1alpha1.ConditionReady, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	waitForReason(t, denied, "ivy", identityv1alpha1.ConditionReady, metav1.ConditionFalse, identityv1alpha1.ReasonProviderNotAllowed)
	waitForReason(t, denied, "ivy", identityv1alpha1.ConditionStalled, metav1.ConditionTrue, identityv1alpha1.ReasonProviderNotAllowed)
	if n := sim.Requests(upstreamsim.ProviderMixpeek, deniedEmail); n != 0 {
		t.Errorf("simulator saw %d requests for the user of a namespace not admitted, want 0", n)
	}

	// Labelling the namespace admits it at once (well within the 1h refresh interval).
	labelNamespace(t, denied, map[string]string{"orgsync-team": team})
	waitForReason(t, denied, "ivy", identityv1alpha1.ConditionReady, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)

	// And removing the label takes the permission away again.
	labelNamespace(t, allowed, map[string]string{"orgsync-team": "someone-else"})
	waitForReason(t, allowed, "ivy", identityv1alpha1.ConditionReady, metav1.ConditionFalse, identityv1alpha1.ReasonProviderNotAllowed)
}

func findCondition(u *identityv1alpha1.OrgUser, condType string) metav1.Condition {
	for _, c := range u.Status.Conditions {
		if c.Type == condType {
			return c
		}
	}
	return metav1.Condition{}
}

func requireNoToken(t *testing.T, u *identityv1alpha1.OrgUser, token string) {
	t.Helper()
	for _, c := range u.Status.Conditions {
		if strings.Contains(c.Message, token) {
			t.Errorf("condition %s message leaks the token: %q", c.Type, c.Message)
		}
	}
}

func rotateSecret(t *testing.T, ns, name, token string) {
	t.Helper()
	s := &corev1.Secret{}
	must(t, k8s.Get(ctxFor(t), client.ObjectKey{Namespace: ns, Name: name}, s))
	s.Data = map[string][]byte{"token": []byte(token)}
	must(t, k8s.Update(ctxFor(t), s))
}

func labelNamespace(t *testing.T, name string, labels map[string]string) {
	t.Helper()
	ns := &corev1.Namespace{}
	must(t, k8s.Get(ctxFor(t), client.ObjectKey{Name: name}, ns))
	ns.Labels = labels
	must(t, k8s.Update(ctxFor(t), ns))
}
