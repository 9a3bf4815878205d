package gitops

import (
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/upstreamsim"
	"github.com/orgsync/orgsync/test/envsuite"
)

// upstreamTimeout is the provider timeout of tests that hold the first request of a user open: long
// enough that the test surely looks at the object before the request gives up, even on a slow machine.
const upstreamTimeout = 30 * time.Second

// holdNextRequest makes the next Mixpeek request of sim hang until the client gives up.
func holdNextRequest(sim *upstreamsim.Server) {
	sim.InjectFault(upstreamsim.ProviderMixpeek, upstreamsim.Fault{Delay: time.Hour, Times: 1})
}

// providerSetup creates a namespace with a Mixpeek OrgProvider on sim and waits until the provider is
// Ready, so the OrgUsers created next find it in the controller's cache.
func providerSetup(t *testing.T, token string, sim *upstreamsim.Server) string {
	t.Helper()
	ns := suite.NewNamespace(t, "gitops", nil, nil)
	suite.NewMixpeekProvider(t, ns, token, sim, func(p *identityv1alpha1.OrgProvider) {
		p.Spec.Timeout = &metav1.Duration{Duration: upstreamTimeout}
	})
	p := &identityv1alpha1.OrgProvider{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "mixpeek"}}
	suite.WaitForProviderReady(t, p, func() []metav1.Condition { return p.Status.Conditions }, metav1.ConditionTrue, "")
	return ns
}

func kstatusOf(t *testing.T, obj *unstructured.Unstructured) *kstatus.Result {
	t.Helper()
	res, err := kstatus.Compute(obj)
	envsuite.Must(t, err)
	return res
}

func requireKstatus(t *testing.T, obj *unstructured.Unstructured, want kstatus.Status) {
	t.Helper()
	if res := kstatusOf(t, obj); res.Status != want {
		t.Fatalf("kstatus of %s/%s = %s (%s), want %s; status: %v", obj.GetNamespace(), obj.GetName(), res.Status, res.Message, want, obj.Object["status"])
	}
}

// waitForCurrent waits until the OrgUser reads Current to kstatus and wantHealth to Argo CD at once,
// and returns that object.
func waitForCurrent(t *testing.T, ns, name, wantHealth string) *unstructured.Unstructured {
	t.Helper()
	var obj *unstructured.Unstructured
	envsuite.Eventually(t, envsuite.SettleTimeout, func() error {
		obj = suite.GetUnstructured(t, ns, name)
		res := kstatusOf(t, obj)
		health, message := argoHealth(t, obj)
		if res.Status != kstatus.CurrentStatus || health != wantHealth {
			return fmt.Errorf("kstatus %s (%s), Argo CD %s (%s); want Current and %s", res.Status, res.Message, health, message, wantHealth)
		}
		return nil
	})
	return obj
}

func requireContains(t *testing.T, what, have, want string) {
	t.Helper()
	if !strings.Contains(have, want) {
		t.Errorf("%s = %q, want it to contain %q", what, have, want)
	}
}
