// Package outage runs the real manager binary against a real API server (envtest: kube-apiserver and
// etcd) and the simulated upstream, and breaks things under it: the API server stops in the middle of
// a sync, the leader of two managers is killed, the manager is killed while it writes. Each test
// prints the recovery times it measured (go test -v, or ORGSYNC_TEST_VERBOSE=1 for the managers' logs
// on success too).
//
// The tests share one control plane and run one after the other: one of them stops the API server.
package outage

import (
	"context"
	"fmt"
	"os"
	"os/exec"
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

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/upstreamsim"
)

// goodToken is the token the simulator accepts.
const goodToken = "sk_test_outage_0123456789"

var (
	env    *envtest.Environment
	k8s    client.WithWatch
	sim    *upstreamsim.Server
	scheme = runtime.NewScheme()

	// workDir holds the manager binary, its kubeconfig and the managers' logs.
	workDir string
	// managerBin is the manager built from cmd/main.go, as a Deployment would run it.
	managerBin string
	// managerKubeconfig authenticates the managers as a member of system:masters.
	managerKubeconfig string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		fmt.Fprintln(os.Stderr, "KUBEBUILDER_ASSETS is not set: run the outage tests with 'make test', which builds the API server binaries")
		return 1
	}
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.UseDevMode(true), zap.Level(zapcore.ErrorLevel)))
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(identityv1alpha1.AddToScheme(scheme))

	var err error
	workDir, err = os.MkdirTemp("", "orgsync-outage-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "temp dir: %v\n", err)
		return 1
	}
	defer func() { _ = os.RemoveAll(workDir) }()

	if err := buildManager(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	// A certificate directory of our own: envtest keeps it across an API server Stop/Start (a
	// directory it made itself would be deleted and the restarted server would get a new CA, which
	// no running manager trusts). The port is kept either way.
	certDir := filepath.Join(workDir, "apiserver-certs")
	if err := os.Mkdir(certDir, 0o700); err != nil {
		fmt.Fprintf(os.Stderr, "cert dir: %v\n", err)
		return 1
	}
	env = &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	env.ControlPlane.APIServer = &envtest.APIServer{CertDir: certDir}
	cfg, err := env.Start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "start envtest: %v\n", err)
		return 1
	}
	defer func() { _ = env.Stop() }()

	managerKubeconfig = filepath.Join(workDir, "kubeconfig")
	if err := os.WriteFile(managerKubeconfig, env.KubeConfig, 0o600); err != nil {
		fmt.Fprintf(os.Stderr, "write kubeconfig: %v\n", err)
		return 1
	}
	k8s, err = client.NewWithWatch(cfg, client.Options{Scheme: scheme})
	if err != nil {
		fmt.Fprintf(os.Stderr, "client: %v\n", err)
		return 1
	}

	sim = upstreamsim.New()
	if err := sim.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "start simulator: %v\n", err)
		return 1
	}
	defer sim.Close()
	sim.AllowToken(goodToken)
	return m.Run()
}

// buildManager compiles cmd/main.go the way the image does.
func buildManager() error {
	managerBin = filepath.Join(workDir, "manager")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", managerBin, "./cmd/main.go")
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build the manager: %w\n%s", err, out)
	}
	return nil
}

// managerArgs are the flags every manager here runs with: no metrics or probe listeners (two
// managers share the host), a short Secret poll, and permission to reach the simulator on loopback.
var managerArgs = []string{
	"--metrics-bind-address=0",
	"--health-probe-bind-address=0",
	"--secret-poll-interval=2s",
	"--zap-log-level=info",
	"--allow-private-addresses",
}
