package gitops

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/upstreamsim"
	"github.com/orgsync/orgsync/test/envsuite"
)

// SCIM OrgUsers read to Flux (kstatus) and Argo CD as the other providers' do: synced is Current and
// Healthy, every terminal reason (AmbiguousKey and a 400 invalidFilter among them) Failed and
// Degraded naming the reason, a first sync the upstream refuses for now InProgress and Progressing,
// suspended Suspended.
func TestSCIMUsersReadRightToKstatusAndArgoCD(t *testing.T) {
	t.Parallel()
	sim := envsuite.OwnSimulator(t)
	suffix := envsuite.UniqueSuffix()
	owner, twin := fmt.Sprintf("mona-%s@example.com", suffix), fmt.Sprintf("twin-%s@example.com", suffix)
	sim.PutSCIMUser(upstreamsim.SCIMUser{UserName: owner, DisplayName: "Mona", Active: true, Roles: []string{"enterprise_owner"}})
	sim.PutSCIMUser(upstreamsim.SCIMUser{UserName: twin, Active: true, Roles: []string{"user"}})
	sim.PutSCIMUser(upstreamsim.SCIMUser{UserName: strings.ToUpper(twin), Active: true, Roles: []string{"user"}})
	ns := suite.NewNamespace(t, "gitops", nil, nil)
	suite.NewSCIMProvider(t, ns, envsuite.GoodToken, sim)
	suite.NewOrgUser(t, ns, "owner", "scim", owner)
	suite.NewOrgUser(t, ns, "twin", "scim", twin)
	suite.NewOrgUser(t, ns, "gone", "scim", "nobody-"+suffix+"@example.com")

	synced := waitForCurrent(t, ns, "owner", "Healthy")
	requireContains(t, "Argo CD message", requireArgoHealth(t, synced, "Healthy"), "Role Owner, state Active")

	for name, reason := range map[string]string{"twin": identityv1alpha1.ReasonAmbiguousKey, "gone": identityv1alpha1.ReasonUserNotFound} {
		suite.WaitForReady(t, ns, name, metav1.ConditionFalse, reason)
		obj := suite.GetUnstructured(t, ns, name)
		requireKstatus(t, obj, kstatus.FailedStatus)
		requireContains(t, "Argo CD message of "+name, requireArgoHealth(t, obj, "Degraded"), reason)
	}
	waitForEvents(t, ns, "gone", identityv1alpha1.ReasonUserNotFound, corev1.EventTypeWarning, 1)

	// A server that cannot filter by the key attribute: ProviderInvalidConfig, Failed and Degraded.
	sim.InjectFault(upstreamsim.ProviderSCIM, upstreamsim.Fault{Status: 400, Times: 1, ContentType: "application/scim+json",
		Body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":400,"scimType":"invalidFilter","detail":"no filtering"}`})
	suite.NewOrgUser(t, ns, "unfiltered", "scim", "someone-"+suffix+"@example.com")
	suite.WaitForReady(t, ns, "unfiltered", metav1.ConditionFalse, identityv1alpha1.ReasonProviderInvalid)
	obj := suite.GetUnstructured(t, ns, "unfiltered")
	requireKstatus(t, obj, kstatus.FailedStatus)
	requireContains(t, "Argo CD message", requireArgoHealth(t, obj, "Degraded"), identityv1alpha1.ReasonProviderInvalid)

	// The first sync meets a 503: still in progress, the controller keeps trying.
	sim.InjectFault(upstreamsim.ProviderSCIM, upstreamsim.Fault{Status: 503})
	later := fmt.Sprintf("later-%s@example.com", suffix) // a key of its own: owner's answer is cached
	sim.PutSCIMUser(upstreamsim.SCIMUser{UserName: later, Active: true, Roles: []string{"user"}})
	suite.NewOrgUser(t, ns, "later", "scim", later)
	suite.WaitForReady(t, ns, "later", metav1.ConditionFalse, identityv1alpha1.ReasonProviderUnavailable)
	obj = suite.GetUnstructured(t, ns, "later")
	requireKstatus(t, obj, kstatus.InProgressStatus)
	requireArgoHealth(t, obj, "Progressing")
	sim.ClearFaults()

	// Suspended reads Suspended to Argo CD, and Current to kstatus once observed.
	user := suite.GetUser(t, ns, "owner")
	patch := client.MergeFrom(user.DeepCopy())
	user.Spec.Suspend = true
	envsuite.Must(t, suite.Client.Patch(envsuite.Ctx(t), user, patch))
	if obj := waitForCurrent(t, ns, "owner", "Suspended"); obj.GetGeneration() != 2 {
		t.Fatalf("generation = %d, want 2", obj.GetGeneration())
	}
}
