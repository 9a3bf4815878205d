// Package failover runs two orgsync managers with leader election against one real API server and
// hands the lease from one to the other, as a Deployment with two replicas does.
package failover

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/config"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/controller"
	"github.com/orgsync/orgsync/internal/upstreamsim"
	"github.com/orgsync/orgsync/test/envsuite"
)

const refresh = 10 * time.Second

var suite *envsuite.Suite

func TestMain(m *testing.M) {
	// The test starts its own two managers on the suite's control plane.
	os.Exit(envsuite.RunWith(m, envsuite.Config{NoManager: true}, func(s *envsuite.Suite) error { suite = s; return nil }))
}

// startManager runs one manager with leader election until the returned stop is called.
func startManager(t *testing.T, identity string) (stop func()) {
	t.Helper()
	opts := controller.ManagerOptions(suite.Scheme)
	opts.LeaderElection = true
	opts.LeaderElectionNamespace = "default"
	opts.LeaseDuration = ptr.To(4 * time.Second)
	opts.RenewDeadline = ptr.To(3 * time.Second)
	opts.RetryPeriod = ptr.To(500 * time.Millisecond)
	// Two managers in one test process register the same controller names.
	opts.Controller = config.Controller{SkipNameValidation: ptr.To(true)}
	controllers := envsuite.ControllerOptions()
	controllers.UserAgent = "orgsync/failover-test"
	controllers.SecretPollInterval = time.Second
	controllers.MaxConcurrentReconciles = 0 // main's default
	ctx, cancel := context.WithCancel(context.Background())
	done, err := envsuite.StartManager(ctx, suite.Config, opts, controllers)
	if err != nil {
		cancel()
		t.Fatalf("manager %s: %v", identity, err)
	}
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager %s stopped with %v", identity, err)
		}
	}
}

// A warm standby that started long before it takes over must not turn Ready users Stale on its first
// failed read: the staleness clock starts when it became leader, not when it started.
func TestStandbyThatTakesOverKeepsUsersReadyThroughTransientFailures(t *testing.T) {
	sim := envsuite.OwnSimulator(t)
	sim.PutFlashbackUser(upstreamsim.FlashbackUser{ID: "f1", Name: "Fay", OrgRole: 0xfe, Validated: true})
	ns := suite.NewNamespace(t, "failover", nil, nil)
	suite.NewFlashbackProvider(t, ns, envsuite.GoodToken, sim)
	suite.NewOrgUser(t, ns, "fay", "flashback", "f1", func(u *identityv1alpha1.OrgUser) {
		u.Spec.RefreshInterval = &metav1.Duration{Duration: refresh}
	})

	stopLeader := startManager(t, "first")
	ready := func() (*metav1.Condition, *metav1.Condition) {
		u := suite.GetUser(t, ns, "fay")
		return meta.FindStatusCondition(u.Status.Conditions, identityv1alpha1.ConditionReady),
			meta.FindStatusCondition(u.Status.Conditions, identityv1alpha1.ConditionSynced)
	}
	envsuite.Eventually(t, time.Minute, func() error {
		if r, _ := ready(); r == nil || r.Status != metav1.ConditionTrue {
			return fmt.Errorf("fay not Ready yet: %v", r)
		}
		return nil
	})

	// The standby starts now and waits for longer than the staleness limit (3 × refresh).
	stopStandby := startManager(t, "standby")
	defer stopStandby()
	time.Sleep(3*refresh + 5*time.Second)

	// The upstream fails from now on; the leader steps down and the standby takes over.
	sim.InjectFault(upstreamsim.ProviderFlashback, upstreamsim.Fault{Status: 503})
	handover := time.Now()
	stopLeader()

	envsuite.Eventually(t, time.Minute, func() error {
		if _, s := ready(); s == nil || s.Status != metav1.ConditionFalse {
			return fmt.Errorf("the new leader has not recorded a failed read yet: Synced %v", s)
		}
		return nil
	})
	t.Logf("The standby recorded its first read %s after the hand-over began", time.Since(handover).Round(100*time.Millisecond))
	// For the rest of the staleness window counted from the take-over, Ready stays True.
	deadline := handover.Add(3*refresh - 5*time.Second)
	for time.Now().Before(deadline) {
		if r, _ := ready(); r.Status != metav1.ConditionTrue {
			t.Fatalf("Ready = %s/%s %s after the hand-over, want True: the staleness clock must start at the take-over",
				r.Status, r.Reason, time.Since(handover).Round(time.Second))
		}
		time.Sleep(time.Second)
	}
}
