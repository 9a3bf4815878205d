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

	"github.com/orgsync/orgsync/test/envsuite"
)

var (
	// suite is envsuite's control plane, simulator and client, without an in-process manager: the
	// tests here run the manager binary.
	suite *envsuite.Suite

	// workDir holds the manager binary, its kubeconfig, the API server's certificates and the
	// managers' logs.
	workDir string
	// managerBin is the manager built from cmd/main.go, as a Deployment would run it.
	managerBin string
	// managerKubeconfig authenticates the managers as a member of system:masters.
	managerKubeconfig string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

// run is envsuite's set-up with two things of outage's own, which no other suite needs: the
// manager binary, built first, and the API server's certificates in a directory of ours, because
// TestAPIServerOutage stops and restarts the API server and the running manager must still trust it
// (envtest deletes a certificate directory it made itself on Stop; the port is kept either way).
func run(m *testing.M) int {
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
	certDir := filepath.Join(workDir, "apiserver-certs")
	if err := os.Mkdir(certDir, 0o700); err != nil {
		fmt.Fprintf(os.Stderr, "cert dir: %v\n", err)
		return 1
	}
	return envsuite.RunWith(m, envsuite.Config{NoManager: true, APIServerCertDir: certDir}, func(s *envsuite.Suite) error {
		suite = s
		managerKubeconfig = filepath.Join(workDir, "kubeconfig")
		return os.WriteFile(managerKubeconfig, s.Env.KubeConfig, 0o600)
	})
}

// buildManager compiles cmd/main.go the way the image does.
func buildManager() error {
	managerBin = filepath.Join(workDir, "manager")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", managerBin, "./cmd/main.go")
	cmd.Dir = envsuite.RepoRoot()
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
