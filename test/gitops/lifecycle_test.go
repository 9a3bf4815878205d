package gitops

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/upstreamsim"
	"github.com/orgsync/orgsync/test/envsuite"
)

// The whole life of an OrgUser as Flux (kstatus) and Argo CD see it: created and not synced yet,
// synced, spec edited and not yet observed, observed again, refreshed from Argo's action.
func TestLifecycleReadsRightToKstatusAndArgoCD(t *testing.T) {
	t.Parallel()
	sim := envsuite.OwnSimulator(t)
	email := envsuite.PutMixpeekUser(sim, "admin", "active")
	ns := providerSetup(t, envsuite.GoodToken, sim)

	// The first upstream request hangs, so the controller cannot write any status for a while.
	holdNextRequest(sim)
	suite.NewOrgUser(t, ns, "fresh", "mixpeek", email)
	fresh := suite.GetUnstructured(t, ns, "fresh")
	if observed, found, _ := unstructured.NestedInt64(fresh.Object, "status", "observedGeneration"); !found || observed != 0 {
		t.Fatalf("a never-synced OrgUser should be served with status.observedGeneration 0 (CRD default), have %d (found %v)", observed, found)
	}
	requireKstatus(t, fresh, kstatus.InProgressStatus)
	requireArgoHealth(t, fresh, "Progressing")

	synced := waitForCurrent(t, ns, "fresh", "Healthy")
	requireContains(t, "Argo CD message", requireArgoHealth(t, synced, "Healthy"), "Role Admin, state Active")

	// A spec edit the controller has not observed yet: the object as the API server answered the
	// edit, before any status write can have followed it. (Read back afterwards, it may already be
	// observed: the read for the edit can be answered from the answer of a moment ago, no request.)
	holdNextRequest(sim)
	edited := suite.GetUnstructured(t, ns, "fresh")
	patch := client.MergeFrom(edited.DeepCopy())
	envsuite.Must(t, unstructured.SetNestedField(edited.Object, (20*time.Minute).String(), "spec", "refreshInterval"))
	envsuite.Must(t, suite.Client.Patch(envsuite.Ctx(t), edited, patch))
	if edited.GetGeneration() != 2 {
		t.Fatalf("generation after the edit = %d, want 2", edited.GetGeneration())
	}
	requireKstatus(t, edited, kstatus.InProgressStatus)
	requireArgoHealth(t, edited, "Progressing")
	observed := waitForCurrent(t, ns, "fresh", "Healthy")
	if observed.GetGeneration() != 2 {
		t.Fatalf("generation = %d, want 2", observed.GetGeneration())
	}

	// Argo CD's refresh action sets the force-refresh annotation; the controller reads the user now.
	before := sim.Requests(upstreamsim.ProviderMixpeek, email)
	value := applyRefreshAction(t, observed)
	suite.WaitForHandled(t, ns, "fresh", value)
	if after := sim.Requests(upstreamsim.ProviderMixpeek, email); after <= before {
		t.Errorf("the refresh action made no upstream request (%d before, %d after)", before, after)
	}
}

// A first sync that fails transiently is still in progress for Argo CD and kstatus: the controller
// keeps trying.
func TestFirstSyncUnavailableIsProgressing(t *testing.T) {
	t.Parallel()
	sim := envsuite.OwnSimulator(t)
	email := envsuite.PutMixpeekUser(sim, "member", "active")
	sim.InjectFault(upstreamsim.ProviderMixpeek, upstreamsim.Fault{Status: 503})
	ns := providerSetup(t, envsuite.GoodToken, sim)
	suite.NewOrgUser(t, ns, "waiting", "mixpeek", email)
	suite.WaitForReady(t, ns, "waiting", metav1.ConditionFalse, identityv1alpha1.ReasonProviderUnavailable)
	obj := suite.GetUnstructured(t, ns, "waiting")
	requireContains(t, "Argo CD message", requireArgoHealth(t, obj, "Progressing"), identityv1alpha1.ReasonProviderUnavailable)
	requireKstatus(t, obj, kstatus.InProgressStatus)

	sim.ClearFaults()
	suite.ForceRefresh(t, ns, "waiting")
	waitForCurrent(t, ns, "waiting", "Healthy")
}

// Terminal reasons are Stalled: Degraded to Argo CD, Failed to kstatus.
func TestTerminalReasonsAreDegradedAndFailed(t *testing.T) {
	t.Parallel()
	ns := providerSetup(t, envsuite.GoodToken, nil)
	unauthorizedNS := providerSetup(t, envsuite.UnknownToken, nil)
	forbiddenNS := providerSetup(t, envsuite.ForbiddenToken, nil)
	cases := []struct {
		reason, ns, name, provider, key string
	}{
		{identityv1alpha1.ReasonUserNotFound, ns, "gone", "mixpeek", "nobody-" + envsuite.UniqueSuffix() + "@example.com"},
		{identityv1alpha1.ReasonInvalidKey, ns, "bad-key", "mixpeek", "not-an-email"},
		{identityv1alpha1.ReasonProviderNotFound, ns, "no-provider", "missing", "alice@example.com"},
		{identityv1alpha1.ReasonUnauthorized, unauthorizedNS, "revoked", "mixpeek", "alice@example.com"},
		{identityv1alpha1.ReasonForbidden, forbiddenNS, "forbidden", "mixpeek", "alice@example.com"},
	}
	for _, tc := range cases {
		suite.NewOrgUser(t, tc.ns, tc.name, tc.provider, tc.key)
	}
	for _, tc := range cases {
		t.Run(tc.reason, func(t *testing.T) {
			suite.WaitForReady(t, tc.ns, tc.name, metav1.ConditionFalse, tc.reason)
			obj := suite.GetUnstructured(t, tc.ns, tc.name)
			requireKstatus(t, obj, kstatus.FailedStatus)
			requireContains(t, "Argo CD message", requireArgoHealth(t, obj, "Degraded"), tc.reason)
		})
	}
}

// Data that was synced but has not been confirmed for three refresh intervals is Degraded to Argo CD.
func TestStaleIsDegraded(t *testing.T) {
	t.Parallel()
	sim := envsuite.OwnSimulator(t)
	email := envsuite.PutMixpeekUser(sim, "admin", "active")
	ns := providerSetup(t, envsuite.GoodToken, sim)
	suite.NewOrgUser(t, ns, "stale", "mixpeek", email, func(u *identityv1alpha1.OrgUser) {
		u.Spec.RefreshInterval = &metav1.Duration{Duration: 10 * time.Second}
	})
	waitForCurrent(t, ns, "stale", "Healthy")

	sim.InjectFault(upstreamsim.ProviderMixpeek, upstreamsim.Fault{Status: 503})
	envsuite.Eventually(t, 3*envsuite.SettleTimeout, func() error {
		return readyReasonIs(t, ns, "stale", identityv1alpha1.ReasonStale)
	})
	obj := suite.GetUnstructured(t, ns, "stale")
	requireContains(t, "Argo CD message", requireArgoHealth(t, obj, "Degraded"), identityv1alpha1.ReasonStale)
	waitForEvents(t, ns, "stale", identityv1alpha1.ReasonStale, corev1.EventTypeWarning, 1)
	// kstatus reads Ready=False as still in progress: the controller keeps retrying, nothing is Stalled.
	requireKstatus(t, obj, kstatus.InProgressStatus)

	// Retries that keep failing stay silent: one Warning per turn to Stale.
	suite.ForceRefresh(t, ns, "stale")
	sim.ClearFaults()
	suite.ForceRefresh(t, ns, "stale")
	waitForCurrent(t, ns, "stale", "Healthy")
	waitForEvents(t, ns, "stale", identityv1alpha1.ReasonStale, corev1.EventTypeWarning, 1)
}

func TestSuspendedIsSuspended(t *testing.T) {
	t.Parallel()
	ns := providerSetup(t, envsuite.GoodToken, nil)
	suite.NewOrgUser(t, ns, "paused", "mixpeek", "alice@example.com")
	suite.WaitForReady(t, ns, "paused", metav1.ConditionTrue, identityv1alpha1.ReasonSynced)

	user := suite.GetUser(t, ns, "paused")
	patch := client.MergeFrom(user.DeepCopy())
	user.Spec.Suspend = true
	envsuite.Must(t, suite.Client.Patch(envsuite.Ctx(t), user, patch))
	obj := waitForCurrent(t, ns, "paused", "Suspended")
	if obj.GetGeneration() != 2 {
		t.Fatalf("generation = %d, want 2", obj.GetGeneration())
	}
}

func readyReasonIs(t *testing.T, ns, name, reason string) error {
	t.Helper()
	user := suite.GetUser(t, ns, name)
	for _, c := range user.Status.Conditions {
		if c.Type == identityv1alpha1.ConditionReady && c.Reason == reason {
			return nil
		}
	}
	return fmt.Errorf("Ready reason is not %s: %s", reason, envsuite.DescribeConditions(user.Status.Conditions))
}
