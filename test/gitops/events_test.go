package gitops

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/controller"
	"github.com/orgsync/orgsync/internal/upstreamsim"
	"github.com/orgsync/orgsync/test/envsuite"
)

// waitForEvents waits until the OrgUser has exactly n events of that reason, all of type eventType.
func waitForEvents(t *testing.T, ns, name, reason, eventType string, n int) {
	t.Helper()
	envsuite.Eventually(t, envsuite.SettleTimeout, func() error {
		if got := suite.EventCount(t, ns, name, reason); got != n {
			return fmt.Errorf("%d %s events, want %d", got, reason, n)
		}
		for _, e := range suite.Events(t, ns, name, reason) {
			if e.Type != eventType {
				return fmt.Errorf("%s event has type %s, want %s", reason, e.Type, eventType)
			}
		}
		return nil
	})
}

func setToken(t *testing.T, ns, token string) {
	t.Helper()
	secret := &corev1.Secret{}
	envsuite.Must(t, suite.Client.Get(envsuite.Ctx(t), client.ObjectKey{Namespace: ns, Name: "mixpeek-token"}, secret))
	secret.Data["token"] = []byte(token)
	envsuite.Must(t, suite.Client.Update(envsuite.Ctx(t), secret))
}

// A person watching "kubectl get events" hears once when a user turns Unauthorized, Forbidden or
// UserNotFound, however often the controller retries. Each check of "still one" waits first for a
// later event, so the events of the retries had every chance to arrive.
func TestWarningEventsOncePerTransition(t *testing.T) {
	t.Parallel()
	sim := envsuite.OwnSimulator(t)
	sim.ForbidToken(envsuite.ForbiddenToken)
	email := envsuite.PutMixpeekUser(sim, "member", "active")
	ns := providerSetup(t, envsuite.GoodToken, sim)
	suite.NewOrgUser(t, ns, "watched", "mixpeek", email)
	suite.WaitForReady(t, ns, "watched", metav1.ConditionTrue, identityv1alpha1.ReasonSynced)

	setToken(t, ns, envsuite.UnknownToken)
	suite.WaitForReady(t, ns, "watched", metav1.ConditionFalse, identityv1alpha1.ReasonUnauthorized)
	waitForEvents(t, ns, "watched", identityv1alpha1.ReasonUnauthorized, corev1.EventTypeWarning, 1)
	suite.ForceRefresh(t, ns, "watched")
	suite.ForceRefresh(t, ns, "watched")

	setToken(t, ns, envsuite.ForbiddenToken)
	suite.WaitForReady(t, ns, "watched", metav1.ConditionFalse, identityv1alpha1.ReasonForbidden)
	waitForEvents(t, ns, "watched", identityv1alpha1.ReasonForbidden, corev1.EventTypeWarning, 1)
	waitForEvents(t, ns, "watched", identityv1alpha1.ReasonUnauthorized, corev1.EventTypeWarning, 1)

	setToken(t, ns, envsuite.GoodToken)
	suite.WaitForReady(t, ns, "watched", metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	sim.DeleteUser(upstreamsim.ProviderMixpeek, email)
	suite.ForceRefresh(t, ns, "watched")
	suite.WaitForReady(t, ns, "watched", metav1.ConditionFalse, identityv1alpha1.ReasonUserNotFound)
	waitForEvents(t, ns, "watched", identityv1alpha1.ReasonUserNotFound, corev1.EventTypeWarning, 1)
	suite.ForceRefresh(t, ns, "watched")
	suite.ForceRefresh(t, ns, "watched")

	envsuite.SetMixpeekUser(sim, email, "member", "active")
	suite.ForceRefresh(t, ns, "watched")
	waitForEvents(t, ns, "watched", controller.EventStateChanged, corev1.EventTypeNormal, 2) // Active→NotFound, NotFound→Active
	waitForEvents(t, ns, "watched", identityv1alpha1.ReasonUserNotFound, corev1.EventTypeWarning, 1)
	waitForEvents(t, ns, "watched", identityv1alpha1.ReasonForbidden, corev1.EventTypeWarning, 1)
}
