package gitops

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/upstreamsim"
	"github.com/orgsync/orgsync/test/envsuite"
)

// directoryHoldTimeout is the SCIM provider's timeout in TestDirectoryLifecycleReadsRightToKstatusAndArgoCD:
// how long a held request keeps the controller from writing a directory's status.
const directoryHoldTimeout = 10 * time.Second

// The life of an OrgDirectory as Argo CD and kstatus see it, on objects the controller wrote: created
// and not listed yet, a first listing failing, listed, the spec edited and not yet observed, a listing
// failing after a complete one, a provider that cannot list and one that does not exist.
func TestDirectoryLifecycleReadsRightToKstatusAndArgoCD(t *testing.T) {
	t.Parallel()
	sim := envsuite.OwnSimulator(t)
	t.Cleanup(sim.ClearFaults)
	suffix := envsuite.UniqueSuffix()
	keys := make([]string, 3)
	for i := range keys {
		keys[i] = fmt.Sprintf("staff-%d-%s@example.com", i, suffix)
		sim.PutSCIMUser(upstreamsim.SCIMUser{UserName: keys[i], Active: true, Roles: []string{"user"}})
	}
	ns := suite.NewNamespace(t, "gitops", nil, nil)
	suite.NewSCIMProvider(t, ns, envsuite.GoodToken, sim, func(p *identityv1alpha1.OrgProvider) {
		p.Spec.Timeout = &metav1.Duration{Duration: directoryHoldTimeout}
	})
	p := &identityv1alpha1.OrgProvider{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: upstreamsim.ProviderSCIM}}
	suite.WaitForProviderReady(t, p, func() []metav1.Condition { return p.Status.Conditions }, metav1.ConditionTrue, "")

	// The first request of the listing hangs, so the controller writes nothing for a while; every
	// request after it fails, so the first listing ends ListFailed.
	holdThenFail(sim)
	d := &identityv1alpha1.OrgDirectory{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "staff"},
		Spec:       identityv1alpha1.OrgDirectorySpec{ProviderRef: identityv1alpha1.ProviderReference{Name: upstreamsim.ProviderSCIM}},
	}
	envsuite.Must(t, suite.Client.Create(envsuite.Ctx(t), d))
	fresh := getDirectoryObject(t, ns, d.Name)
	if observed, found, _ := unstructured.NestedInt64(fresh.Object, "status", "observedGeneration"); !found || observed != 0 {
		t.Fatalf("a directory never listed should be served with status.observedGeneration 0 (CRD default), have %d (found %v)", observed, found)
	}
	requireDirectoryReads(t, fresh, "Progressing", kstatus.InProgressStatus)

	failing := waitForDirectoryReason(t, ns, d.Name, identityv1alpha1.ReasonListFailed)
	if _, found, _ := unstructured.NestedString(failing.Object, "status", "lastListedAt"); found {
		t.Fatalf("lastListedAt is set before any complete listing: %v", failing.Object["status"])
	}
	requireContains(t, "Argo CD message", requireDirectoryReads(t, failing, "Progressing", kstatus.InProgressStatus),
		"(no complete listing yet; retrying)")

	sim.ClearFaults()
	listed := waitForDirectoryReason(t, ns, d.Name, identityv1alpha1.ReasonListed)
	requireContains(t, "Argo CD message", requireDirectoryReads(t, listed, "Healthy", kstatus.CurrentStatus), "3 users listed")
	requireKubectlGetOD(t, ns, d.Name, []string{d.Name, upstreamsim.ProviderSCIM, "3", "3", "True"})
	// Its OrgUsers settle first, so that the next request the simulator sees is the next listing's.
	for _, key := range keys {
		waitForKeySynced(t, ns, key)
	}

	// A spec edit not yet observed: the listing it starts hangs, then fails.
	holdThenFail(sim)
	var generation int64
	envsuite.Eventually(t, envsuite.SettleTimeout, func() error {
		current := &identityv1alpha1.OrgDirectory{}
		envsuite.Must(t, suite.Client.Get(envsuite.Ctx(t), client.ObjectKeyFromObject(d), current))
		current.Spec.PageSize++
		if err := suite.Client.Update(envsuite.Ctx(t), current); err != nil {
			return err
		}
		generation = current.Generation
		return nil
	})
	edited := getDirectoryObject(t, ns, d.Name)
	if edited.GetGeneration() != generation || generation < 2 {
		t.Fatalf("generation after the edit = %d, want %d (at least 2)", edited.GetGeneration(), generation)
	}
	requireDirectoryReads(t, edited, "Progressing", kstatus.InProgressStatus)

	failed := waitForDirectoryReason(t, ns, d.Name, identityv1alpha1.ReasonListFailed)
	if failed.GetGeneration() != generation {
		t.Fatalf("ListFailed at generation %d, want %d", failed.GetGeneration(), generation)
	}
	// Listed before: Degraded to Argo CD; kstatus has no Stalled condition to go by, so InProgress.
	requireContains(t, "Argo CD message", requireDirectoryReads(t, failed, "Degraded", kstatus.InProgressStatus),
		"3 OrgUsers kept)")
	sim.ClearFaults()

	// A provider that cannot list, and one that does not exist: Degraded, and InProgress to kstatus.
	suite.NewMixpeekProvider(t, ns, envsuite.GoodToken, sim)
	for name, reason := range map[string]string{
		upstreamsim.ProviderMixpeek: identityv1alpha1.ReasonProviderCannotList,
		"missing":                   identityv1alpha1.ReasonProviderNotFound,
	} {
		envsuite.Must(t, suite.Client.Create(envsuite.Ctx(t), &identityv1alpha1.OrgDirectory{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "over-" + name},
			Spec:       identityv1alpha1.OrgDirectorySpec{ProviderRef: identityv1alpha1.ProviderReference{Name: name}},
		}))
		obj := waitForDirectoryReason(t, ns, "over-"+name, reason)
		requireContains(t, "Argo CD message of over-"+name, requireDirectoryReads(t, obj, "Degraded", kstatus.InProgressStatus), reason)
	}
}

// holdThenFail makes the next SCIM request of sim hang until the client gives up, and every one
// after it answer 500, until ClearFaults.
func holdThenFail(sim *upstreamsim.Server) {
	sim.InjectFault(upstreamsim.ProviderSCIM, upstreamsim.Fault{Delay: time.Hour, Times: 1})
	sim.InjectFault(upstreamsim.ProviderSCIM, upstreamsim.Fault{Status: http.StatusInternalServerError})
}

// getDirectoryObject reads an OrgDirectory as the API server serves it, as Argo CD and Flux see it.
func getDirectoryObject(t *testing.T, ns, name string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(identityv1alpha1.GroupVersion.WithKind(identityv1alpha1.OrgDirectoryKind))
	envsuite.Must(t, suite.Client.Get(envsuite.Ctx(t), client.ObjectKey{Namespace: ns, Name: name}, u))
	return u
}

// waitForDirectoryReason waits until the directory's status and Ready condition observed its
// generation with Ready's reason reason, and returns it as served.
func waitForDirectoryReason(t *testing.T, ns, name, reason string) *unstructured.Unstructured {
	t.Helper()
	var obj *unstructured.Unstructured
	envsuite.Eventually(t, envsuite.SettleTimeout, func() error {
		obj = getDirectoryObject(t, ns, name)
		d := &identityv1alpha1.OrgDirectory{}
		envsuite.Must(t, runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, d))
		ready := meta.FindStatusCondition(d.Status.Conditions, identityv1alpha1.ConditionReady)
		if ready == nil || ready.Reason != reason || ready.ObservedGeneration != d.Generation || d.Status.ObservedGeneration != d.Generation {
			return fmt.Errorf("directory %s at generation %d (status observed %d): want Ready reason %s, have %s",
				name, d.Generation, d.Status.ObservedGeneration, reason, envsuite.DescribeConditions(d.Status.Conditions))
		}
		return nil
	})
	return obj
}

// requireDirectoryReads checks how Argo CD and kstatus read obj, and returns Argo CD's message.
func requireDirectoryReads(t *testing.T, obj *unstructured.Unstructured, wantHealth string, wantKstatus kstatus.Status) string {
	t.Helper()
	message := requireArgoHealth(t, obj, wantHealth)
	requireKstatus(t, obj, wantKstatus)
	return message
}

// waitForKeySynced waits until the OrgUser of ns with spec.key key is Ready and Synced.
func waitForKeySynced(t *testing.T, ns, key string) {
	t.Helper()
	envsuite.Eventually(t, envsuite.SettleTimeout, func() error {
		list := &identityv1alpha1.OrgUserList{}
		if err := suite.Client.List(envsuite.Ctx(t), list, client.InNamespace(ns)); err != nil {
			return err
		}
		for _, u := range list.Items {
			if u.Spec.Key != key {
				continue
			}
			if ready := meta.FindStatusCondition(u.Status.Conditions, identityv1alpha1.ConditionReady); ready != nil &&
				ready.Status == metav1.ConditionTrue && ready.Reason == identityv1alpha1.ReasonSynced {
				return nil
			}
			return fmt.Errorf("OrgUser %s: %s", u.Name, envsuite.DescribeConditions(u.Status.Conditions))
		}
		return fmt.Errorf("no OrgUser with key %s yet", key)
	})
}

// requireKubectlGetOD checks what `kubectl get od` prints for the directory name of ns, as a person
// who may only read the orgsync kinds: the contract's columns, and want before AGE.
func requireKubectlGetOD(t *testing.T, ns, name string, want []string) {
	t.Helper()
	out, err := kubectl(t, readerKubeconfig(t), "get", "od", name, "-n", ns)
	if err != nil {
		t.Fatalf("kubectl get od: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("kubectl get od printed %d lines, want a header and one row:\n%s", len(lines), out)
	}
	if header := strings.Fields(lines[0]); !slices.Equal(header, []string{"NAME", "PROVIDER", "LISTED", "USERS", "READY", "AGE"}) {
		t.Errorf("kubectl get od columns %v, want NAME PROVIDER LISTED USERS READY AGE", header)
	}
	if row := strings.Fields(lines[1]); len(row) != len(want)+1 || !slices.Equal(row[:len(want)], want) {
		t.Errorf("kubectl get od row %v, want %v and the age", row, want)
	}
}
