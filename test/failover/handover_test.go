// Package failover runs two orgsync managers with leader election against one real API server and
// hands the lease from one to the other, as a Deployment with two replicas does.
package failover

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/controller"
	"github.com/orgsync/orgsync/internal/provider"
	"github.com/orgsync/orgsync/internal/provider/flashback"
	"github.com/orgsync/orgsync/internal/provider/mixpeek"
	"github.com/orgsync/orgsync/internal/provider/scim"
	"github.com/orgsync/orgsync/internal/upstreamsim"
	"github.com/orgsync/orgsync/test/envsuite"
)

const (
	token   = "sk_test_failover_0123456789"
	refresh = 10 * time.Second
)

var scheme = runtime.NewScheme()

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(identityv1alpha1.AddToScheme(scheme))
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.ErrorLevel)))
}

// startManager runs one manager with leader election on cfg until the returned stop is called.
func startManager(t *testing.T, cfg *rest.Config, identity string) (stop func()) {
	t.Helper()
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                        scheme,
		Cache:                         controller.CacheOptions(),
		Metrics:                       metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress:        "0",
		LeaderElection:                true,
		LeaderElectionID:              "orgsync-failover-test",
		LeaderElectionNamespace:       "default",
		LeaderElectionReleaseOnCancel: true,
		LeaseDuration:                 ptr.To(4 * time.Second),
		RenewDeadline:                 ptr.To(3 * time.Second),
		RetryPeriod:                   ptr.To(500 * time.Millisecond),
		// Two managers in one test process register the same controller names.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatalf("manager %s: %v", identity, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := controller.Setup(ctx, mgr, controller.Options{
		Providers:          provider.Registry{mixpeek.Name: mixpeek.Provider{}, flashback.Name: flashback.Provider{}, scim.Name: scim.Provider{}},
		UserAgent:          "orgsync/failover-test",
		SecretPollInterval: time.Second,
		// The simulator listens on loopback.
		AllowPrivateAddresses: true,
	}); err != nil {
		t.Fatalf("setup %s: %v", identity, err)
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
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
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: run the tests with 'make test', which builds the API server binaries")
	}
	env := &envtest.Environment{
		CRDDirectoryPaths:        []string{filepath.Join("..", "..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing:    true,
		ControlPlaneStartTimeout: 3 * time.Minute,
	}
	cfg, err := env.Start()
	if err != nil {
		t.Fatalf("start envtest: %v", err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	sim := upstreamsim.New()
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	sim.AllowToken(token)
	sim.PutFlashbackUser(upstreamsim.FlashbackUser{ID: "f1", Name: "Fay", OrgRole: 0xfe, Validated: true})

	k8s, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ns := "failover"
	envsuite.Must(t, k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	envsuite.Must(t, k8s.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "token"},
		Data: map[string][]byte{"token": []byte(token)}}))
	envsuite.Must(t, k8s.Create(ctx, &identityv1alpha1.OrgProvider{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "flashback"},
		Spec: identityv1alpha1.OrgProviderSpec{ProviderConfig: identityv1alpha1.ProviderConfig{
			Flashback: &identityv1alpha1.FlashbackProvider{BaseURL: sim.URL()},
			Auth:      identityv1alpha1.ProviderAuth{SecretRef: identityv1alpha1.SecretKeyReference{Name: "token"}},
			CABundle:  sim.CABundle(),
		}},
	}))
	envsuite.Must(t, k8s.Create(ctx, &identityv1alpha1.OrgUser{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "fay"},
		Spec: identityv1alpha1.OrgUserSpec{ProviderRef: identityv1alpha1.ProviderReference{Name: "flashback"}, Key: "f1",
			RefreshInterval: &metav1.Duration{Duration: refresh}},
	}))

	stopLeader := startManager(t, cfg, "first")
	ready := func() (*metav1.Condition, *metav1.Condition) {
		u := &identityv1alpha1.OrgUser{}
		envsuite.Must(t, k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "fay"}, u))
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
	stopStandby := startManager(t, cfg, "standby")
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
