// Package envsuite starts what the envtest suites of test/policy and test/gitops share: a real API
// server (envtest), the simulated upstream and the orgsync controllers, and gives their tests helpers
// to create objects and wait for the controller.
package envsuite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
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

// Tokens the shared simulator knows.
const (
	GoodToken      = "sk_test_good_0123456789"
	ForbiddenToken = "sk_test_forbidden_0123456789"
	UnknownToken   = "sk_test_unknown_0123456789"
)

// SecretPollInterval is short so a changed Secret is noticed quickly.
const SecretPollInterval = 500 * time.Millisecond

// Suite is one running API server with the controllers attached.
type Suite struct {
	Env    *envtest.Environment
	Config *rest.Config
	Client client.Client
	Scheme *k8sruntime.Scheme
	// Sim is the simulator shared by the package's tests; tests that inject faults start their own.
	Sim *upstreamsim.Server
}

// RepoRoot is the repository's top directory, found from this file's location.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Run starts the suite, hands it to use, runs the package's tests and stops everything; its result
// is the exit code for TestMain.
func Run(m *testing.M, use func(*Suite)) int {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		fmt.Fprintln(os.Stderr, "KUBEBUILDER_ASSETS is not set: run these tests with 'make test', which builds the API server binaries")
		return 1
	}
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.UseDevMode(true), zap.Level(zapLevel())))
	s := &Suite{Scheme: k8sruntime.NewScheme()}
	utilruntime.Must(clientgoscheme.AddToScheme(s.Scheme))
	utilruntime.Must(identityv1alpha1.AddToScheme(s.Scheme))

	s.Env = &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(RepoRoot(), "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := s.Env.Start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "start envtest: %v\n", err)
		return 1
	}
	defer func() { _ = s.Env.Stop() }()
	s.Config = cfg

	s.Sim = upstreamsim.New()
	if err := s.Sim.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "start simulator: %v\n", err)
		return 1
	}
	defer s.Sim.Close()
	s.Sim.AllowToken(GoodToken)
	s.Sim.ForbidToken(ForbiddenToken)
	upstreamsim.SeedDemo(s.Sim)

	if s.Client, err = client.New(cfg, client.Options{Scheme: s.Scheme}); err != nil {
		fmt.Fprintf(os.Stderr, "client: %v\n", err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done, err := startManager(ctx, s)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%v\n", err)
		return 1
	}

	use(s)
	code := m.Run()
	cancel()
	if err := <-done; err != nil {
		fmt.Fprintf(os.Stderr, "manager stopped with error: %v\n", err)
	}
	return code
}

func startManager(ctx context.Context, s *Suite) (<-chan error, error) {
	mgr, err := ctrl.NewManager(s.Config, ctrl.Options{
		Scheme:                 s.Scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		return nil, fmt.Errorf("manager: %w", err)
	}
	err = controller.Setup(ctx, mgr, controller.Options{
		Providers: provider.Registry{
			mixpeek.Name: mixpeek.Provider{}, flashback.Name: flashback.Provider{}, scim.Name: scim.Provider{},
		},
		UserAgent:               "orgsync/envsuite-test",
		SecretPollInterval:      SecretPollInterval,
		MaxConcurrentReconciles: 4,
		AllowPrivateAddresses:   true, // the simulators listen on loopback
	})
	if err != nil {
		return nil, fmt.Errorf("setup controllers: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		return nil, fmt.Errorf("cache did not sync")
	}
	return done, nil
}

// zapLevel keeps the test output to errors unless ORGSYNC_TEST_VERBOSE is set.
func zapLevel() zapcore.Level {
	if os.Getenv("ORGSYNC_TEST_VERBOSE") != "" {
		return zapcore.DebugLevel
	}
	return zapcore.ErrorLevel
}
