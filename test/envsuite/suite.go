// Package envsuite starts what the envtest suites share: a real API server (envtest), the simulated
// upstream, a client, and (unless a suite runs its own managers) the orgsync controllers in the test
// process, built from controller.ManagerOptions as cmd/main.go builds them. Its helpers create
// objects and wait for the controller. test/integration, test/gitops and test/policy run on it with
// the in-process manager; test/outage and test/failover start their own managers on its control plane.
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

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/controller"
	"github.com/orgsync/orgsync/internal/controller/directory"
	"github.com/orgsync/orgsync/internal/provider"
	"github.com/orgsync/orgsync/internal/provider/builtin"
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
	// Client reads and writes as a member of system:masters, and can watch.
	Client client.WithWatch
	Scheme *k8sruntime.Scheme
	// Sim is the simulator shared by the package's tests; tests that inject faults start their own
	// (OwnSimulator).
	Sim *upstreamsim.Server
}

// Config says what a package needs of the suite beyond the control plane, the simulator and the
// client, which every package gets.
type Config struct {
	// NoManager leaves the controllers out of the test process, for packages that run their own
	// managers (test/outage runs the manager binary, test/failover two managers with leader election).
	NoManager bool
	// APIServerCertDir, when set, is where the API server keeps its serving certificates. A directory
	// of the caller's survives an API server Stop/Start (one envtest made itself is deleted, and the
	// restarted server would get a new CA that no running manager trusts).
	APIServerCertDir string
}

// RepoRoot is the repository's top directory, found from this file's location.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// NewScheme registers the client-go types and orgsync's, as cmd/main.go does.
func NewScheme() *k8sruntime.Scheme {
	scheme := k8sruntime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(identityv1alpha1.AddToScheme(scheme))
	return scheme
}

// Providers is the registry of every provider the simulator speaks, for the managers the suites start.
func Providers() provider.Registry { return builtin.Providers() }

// ControllerOptions are the controller options of the suites' managers: every provider, a short
// Secret poll, four workers, and loopback allowed (the simulators listen there).
func ControllerOptions() controller.Options {
	return controller.Options{
		Providers:               Providers(),
		UserAgent:               "orgsync/envsuite-test",
		SecretPollInterval:      SecretPollInterval,
		MaxConcurrentReconciles: 4,
		AllowPrivateAddresses:   true,
	}
}

// Run starts the suite with the controllers, hands it to use, runs the package's tests and stops
// everything; its result is the exit code for TestMain.
func Run(m *testing.M, use func(*Suite)) int {
	return RunWith(m, Config{}, func(s *Suite) error { use(s); return nil })
}

// RunWith is Run with cfg; an error from use ends the run before any test.
func RunWith(m *testing.M, cfg Config, use func(*Suite) error) int {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		fmt.Fprintln(os.Stderr, "KUBEBUILDER_ASSETS is not set: run these tests with 'make test', which builds the API server binaries")
		return 1
	}
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.UseDevMode(true), zap.Level(zapLevel())))
	s := &Suite{Scheme: NewScheme()}

	s.Env = &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(RepoRoot(), "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		// A loaded two-core machine can take well over envtest's default 20s to start the API server.
		ControlPlaneStartTimeout: 3 * time.Minute,
	}
	if cfg.APIServerCertDir != "" {
		s.Env.ControlPlane.APIServer = &envtest.APIServer{CertDir: cfg.APIServerCertDir}
	}
	restConfig, err := s.Env.Start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "start envtest: %v\n", err)
		return 1
	}
	defer func() { _ = s.Env.Stop() }()
	s.Config = restConfig

	s.Sim = upstreamsim.New()
	if err := s.Sim.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "start simulator: %v\n", err)
		return 1
	}
	defer s.Sim.Close()
	s.Sim.AllowToken(GoodToken)
	s.Sim.ForbidToken(ForbiddenToken)
	upstreamsim.SeedDemo(s.Sim)

	if s.Client, err = client.NewWithWatch(restConfig, client.Options{Scheme: s.Scheme}); err != nil {
		fmt.Fprintf(os.Stderr, "client: %v\n", err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var done <-chan error
	if !cfg.NoManager {
		if done, err = StartManager(ctx, s.Config, controller.ManagerOptions(s.Scheme), ControllerOptions()); err != nil {
			fmt.Fprintf(os.Stderr, "%v\n", err)
			return 1
		}
	}

	if err := use(s); err != nil {
		fmt.Fprintf(os.Stderr, "%v\n", err)
		return 1
	}
	code := m.Run()
	cancel()
	if done != nil {
		if err := <-done; err != nil {
			fmt.Fprintf(os.Stderr, "manager stopped with error: %v\n", err)
		}
	}
	return code
}

// StartManager runs a manager with the orgsync controllers on cfg until ctx ends, and returns once
// its cache has synced (for a manager with leader election: once it has started, leader or not). The
// manager's error, if any, arrives on the channel when it stops.
func StartManager(ctx context.Context, cfg *rest.Config, opts ctrl.Options, controllers controller.Options) (<-chan error, error) {
	mgr, err := ctrl.NewManager(cfg, opts)
	if err != nil {
		return nil, fmt.Errorf("manager: %w", err)
	}
	shared, err := controller.Setup(ctx, mgr, controllers)
	if err != nil {
		return nil, fmt.Errorf("setup controllers: %w", err)
	}
	if err := directory.Setup(ctx, mgr, shared); err != nil {
		return nil, fmt.Errorf("setup the OrgDirectory controller: %w", err)
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
