// Package integration runs the orgsync controllers against a real API server (envtest: kube-apiserver
// and etcd built by hack/build-k8s-binaries.sh) and the simulated upstream.
package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
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
)

// Tokens the simulator knows.
const (
	goodToken      = "sk_test_good_0123456789"
	forbiddenToken = "sk_test_forbidden_0123456789"
	unknownToken   = "sk_test_unknown_0123456789"
)

// secretPollInterval is short so Secret rotation is noticed quickly in tests.
const secretPollInterval = 500 * time.Millisecond

var (
	k8s    client.Client
	sim    *upstreamsim.Server
	scheme = runtime.NewScheme()
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		fmt.Fprintln(os.Stderr, "KUBEBUILDER_ASSETS is not set: run the integration tests with 'make test', which builds the API server binaries")
		return 1
	}
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.UseDevMode(true), zap.Level(zapLevel())))
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(identityv1alpha1.AddToScheme(scheme))

	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		// A loaded two-core machine can take well over envtest's default 20s to start the API server.
		ControlPlaneStartTimeout: 3 * time.Minute,
	}
	cfg, err := env.Start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "start envtest: %v\n", err)
		return 1
	}
	defer func() { _ = env.Stop() }()

	sim = upstreamsim.New()
	if err := sim.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "start simulator: %v\n", err)
		return 1
	}
	defer sim.Close()
	sim.AllowToken(goodToken)
	sim.ForbidToken(forbiddenToken)

	k8s, err = client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		fmt.Fprintf(os.Stderr, "client: %v\n", err)
		return 1
	}

	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Cache:                  controller.CacheOptions(),
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "manager: %v\n", err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err = controller.Setup(ctx, mgr, controller.Options{
		Providers:               provider.Registry{mixpeek.Name: mixpeek.Provider{}, flashback.Name: flashback.Provider{}, scim.Name: scim.Provider{}},
		UserAgent:               "orgsync/integration-test",
		SecretPollInterval:      secretPollInterval,
		MaxConcurrentReconciles: 4,
		AllowPrivateAddresses:   true, // the simulator listens on loopback
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "setup controllers: %v\n", err)
		return 1
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		fmt.Fprintln(os.Stderr, "cache did not sync")
		return 1
	}

	code := m.Run()
	cancel()
	if err := <-done; err != nil {
		fmt.Fprintf(os.Stderr, "manager stopped with error: %v\n", err)
	}
	return code
}

// zapLevel keeps the test output to errors unless ORGSYNC_TEST_VERBOSE is set.
func zapLevel() zapcore.Level {
	if os.Getenv("ORGSYNC_TEST_VERBOSE") != "" {
		return zapcore.DebugLevel
	}
	return zapcore.ErrorLevel
}
