package integration

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/upstreamsim"
	"github.com/orgsync/orgsync/test/envsuite"
)

func TestUnknownUserIsNotFoundFromTheStart(t *testing.T) {
	t.Parallel()
	ns := mixpeekSetup(t, envsuite.GoodToken)
	suite.NewOrgUser(t, ns, "ghost", "mixpeek", "ghost-"+envsuite.UniqueSuffix()+"@example.com")
	u := suite.WaitForCondition(t, ns, "ghost", identityv1alpha1.ConditionReady, metav1.ConditionFalse, identityv1alpha1.ReasonUserNotFound)
	if u.Status.State != "NotFound" || u.Status.Provider != "mixpeek" {
		t.Errorf("state %q provider %q", u.Status.State, u.Status.Provider)
	}
	suite.WaitForCondition(t, ns, "ghost", identityv1alpha1.ConditionStalled, metav1.ConditionTrue, identityv1alpha1.ReasonUserNotFound)
	suite.WaitForCondition(t, ns, "ghost", identityv1alpha1.ConditionSynced, metav1.ConditionFalse, identityv1alpha1.ReasonUserNotFound)
}

func TestUnauthorizedUntilTheSecretIsFixed(t *testing.T) {
	t.Parallel()
	ns := mixpeekSetup(t, envsuite.UnknownToken)
	email := envsuite.PutMixpeekUser(suite.Sim, "member", "active")
	suite.NewOrgUser(t, ns, "erin", "mixpeek", email)
	u := suite.WaitForCondition(t, ns, "erin", identityv1alpha1.ConditionReady, metav1.ConditionFalse, identityv1alpha1.ReasonUnauthorized)
	suite.WaitForCondition(t, ns, "erin", identityv1alpha1.ConditionStalled, metav1.ConditionTrue, identityv1alpha1.ReasonUnauthorized)
	requireNoToken(t, u, envsuite.UnknownToken)
	if c := findCondition(u, identityv1alpha1.ConditionReady); !strings.Contains(c.Message, "401") {
		t.Errorf("Unauthorized message should carry the status code: %q", c.Message)
	}

	// Rotating the token re-reads the user at once, not after the refresh interval (1h).
	rotateSecret(t, ns, "mixpeek-token", envsuite.GoodToken)
	suite.WaitForCondition(t, ns, "erin", identityv1alpha1.ConditionReady, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
}

func TestForbiddenToken(t *testing.T) {
	t.Parallel()
	ns := mixpeekSetup(t, envsuite.ForbiddenToken)
	email := envsuite.PutMixpeekUser(suite.Sim, "member", "active")
	suite.NewOrgUser(t, ns, "frank", "mixpeek", email)
	u := suite.WaitForCondition(t, ns, "frank", identityv1alpha1.ConditionReady, metav1.ConditionFalse, identityv1alpha1.ReasonForbidden)
	suite.WaitForCondition(t, ns, "frank", identityv1alpha1.ConditionStalled, metav1.ConditionTrue, identityv1alpha1.ReasonForbidden)
	requireNoToken(t, u, envsuite.ForbiddenToken)
}

func TestInvalidMixpeekKeyMakesNoUpstreamCall(t *testing.T) {
	t.Parallel()
	ns := mixpeekSetup(t, envsuite.GoodToken)
	key := "not-an-email-" + envsuite.UniqueSuffix()
	suite.NewOrgUser(t, ns, "bad-key", "mixpeek", key)
	u := suite.WaitForCondition(t, ns, "bad-key", identityv1alpha1.ConditionReady, metav1.ConditionFalse, identityv1alpha1.ReasonInvalidKey)
	if msg := findCondition(u, identityv1alpha1.ConditionReady).Message; !strings.Contains(msg, "not an email address") {
		t.Errorf("InvalidKey message should say why: %q", msg)
	}
	suite.WaitForCondition(t, ns, "bad-key", identityv1alpha1.ConditionStalled, metav1.ConditionTrue, identityv1alpha1.ReasonInvalidKey)
	if n := suite.Sim.Requests(upstreamsim.ProviderMixpeek, key); n != 0 {
		t.Errorf("simulator saw %d requests for an invalid key, want 0", n)
	}
}

func TestProviderCreatedAfterTheUser(t *testing.T) {
	t.Parallel()
	ns := suite.NewNamespace(t, "t", nil, nil)
	email := envsuite.PutMixpeekUser(suite.Sim, "viewer", "active")
	suite.NewOrgUser(t, ns, "gina", "mixpeek", email)
	suite.WaitForCondition(t, ns, "gina", identityv1alpha1.ConditionReady, metav1.ConditionFalse, identityv1alpha1.ReasonProviderNotFound)
	suite.WaitForCondition(t, ns, "gina", identityv1alpha1.ConditionStalled, metav1.ConditionTrue, identityv1alpha1.ReasonProviderNotFound)

	suite.NewOrgProvider(t, ns, "mixpeek", envsuite.SimConfig(suite.Sim, upstreamsim.ProviderMixpeek, "mixpeek-token"))
	suite.WaitForCondition(t, ns, "gina", identityv1alpha1.ConditionReady, metav1.ConditionFalse, identityv1alpha1.ReasonSecretNotFound)

	suite.NewSecret(t, ns, "mixpeek-token", envsuite.GoodToken)
	u := suite.WaitForCondition(t, ns, "gina", identityv1alpha1.ConditionReady, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	if u.Status.Role != "Viewer" {
		t.Errorf("role = %s, want Viewer", u.Status.Role)
	}
}

func TestOrgProviderInAnotherNamespaceIsNotFound(t *testing.T) {
	t.Parallel()
	other := mixpeekSetup(t, envsuite.GoodToken)
	ns := suite.NewNamespace(t, "t", nil, nil)
	suite.NewOrgUser(t, ns, "henry", "mixpeek", envsuite.PutMixpeekUser(suite.Sim, "member", "active"))
	u := suite.WaitForCondition(t, ns, "henry", identityv1alpha1.ConditionReady, metav1.ConditionFalse, identityv1alpha1.ReasonProviderNotFound)
	if strings.Contains(findCondition(u, identityv1alpha1.ConditionReady).Message, other) {
		t.Errorf("an OrgProvider must only be looked up in the user's own namespace")
	}
}

func TestClusterOrgProviderNamespaceSelector(t *testing.T) {
	t.Parallel()
	secretNS := suite.NewNamespace(t, "t", nil, nil)
	suite.NewSecret(t, secretNS, "shared-token", envsuite.GoodToken)
	team := "team-" + envsuite.UniqueSuffix()
	cfg := envsuite.SimConfig(suite.Sim, upstreamsim.ProviderMixpeek, "shared-token")
	cfg.Auth.SecretRef.Namespace = secretNS
	cop := &identityv1alpha1.ClusterOrgProvider{
		ObjectMeta: metav1.ObjectMeta{Name: "shared-" + envsuite.UniqueSuffix()},
		Spec: identityv1alpha1.ClusterOrgProviderSpec{
			ProviderConfig:    cfg,
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"orgsync-team": team}},
		},
	}
	envsuite.Must(t, suite.Client.Create(envsuite.Ctx(t), cop))
	t.Cleanup(func() { _ = suite.Client.Delete(envsuite.Ctx(t), cop) })

	allowed := suite.NewNamespace(t, "t", map[string]string{"orgsync-team": team}, nil)
	denied := suite.NewNamespace(t, "t", nil, nil)
	allowedEmail, deniedEmail := envsuite.PutMixpeekUser(suite.Sim, "admin", "active"), envsuite.PutMixpeekUser(suite.Sim, "admin", "active")
	useCOP := func(u *identityv1alpha1.OrgUser) { u.Spec.ProviderRef.Kind = identityv1alpha1.ClusterOrgProviderKind }
	suite.NewOrgUser(t, allowed, "ivy", cop.Name, allowedEmail, useCOP)
	suite.NewOrgUser(t, denied, "ivy", cop.Name, deniedEmail, useCOP)

	suite.WaitForCondition(t, allowed, "ivy", identityv1alpha1.ConditionReady, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	suite.WaitForCondition(t, denied, "ivy", identityv1alpha1.ConditionReady, metav1.ConditionFalse, identityv1alpha1.ReasonProviderNotAllowed)
	suite.WaitForCondition(t, denied, "ivy", identityv1alpha1.ConditionStalled, metav1.ConditionTrue, identityv1alpha1.ReasonProviderNotAllowed)
	if n := suite.Sim.Requests(upstreamsim.ProviderMixpeek, deniedEmail); n != 0 {
		t.Errorf("simulator saw %d requests for the user of a namespace not admitted, want 0", n)
	}

	// Labelling the namespace admits it at once (well within the 1h refresh interval).
	labelNamespace(t, denied, map[string]string{"orgsync-team": team})
	suite.WaitForCondition(t, denied, "ivy", identityv1alpha1.ConditionReady, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)

	// And removing the label takes the permission away again.
	labelNamespace(t, allowed, map[string]string{"orgsync-team": "someone-else"})
	suite.WaitForCondition(t, allowed, "ivy", identityv1alpha1.ConditionReady, metav1.ConditionFalse, identityv1alpha1.ReasonProviderNotAllowed)
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
	envsuite.Must(t, suite.Client.Get(envsuite.Ctx(t), client.ObjectKey{Namespace: ns, Name: name}, s))
	s.Data = map[string][]byte{"token": []byte(token)}
	envsuite.Must(t, suite.Client.Update(envsuite.Ctx(t), s))
}

func labelNamespace(t *testing.T, name string, labels map[string]string) {
	t.Helper()
	ns := &corev1.Namespace{}
	envsuite.Must(t, suite.Client.Get(envsuite.Ctx(t), client.ObjectKey{Name: name}, ns))
	ns.Labels = labels
	envsuite.Must(t, suite.Client.Update(envsuite.Ctx(t), ns))
}
