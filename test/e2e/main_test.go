//go:build e2e

// Package e2e runs the manager's image on a real single-node cluster (containerd, the kubelet,
// kube-proxy, the controller-manager's garbage collector), installed the two ways the README tells
// users to: dist/install.yaml and the Helm chart. hack/e2e.sh brings the node up, runs these tests
// and tears it down; run them with `make e2e` (root).
//
// The simulated upstream runs in the test process on the node's address; the manager in its pod
// reaches it over the pod network, as an on-premises upstream.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/upstreamsim"
)

var (
	repoRoot   string
	kubeconfig string
	kubectlBin string
	helmBin    string
	// image and image2 are the manager's image under two tags, both imported into the node.
	image, image2 string
	nodeIP        net.IP
	// toolHome is HOME, and every cache and configuration directory, of kubectl and helm.
	toolHome string

	k8s       client.WithWatch
	clientset *kubernetes.Clientset
	scheme    = runtime.NewScheme()
	sim       *upstreamsim.Server
	simToken  string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	env := map[string]*string{
		"E2E_KUBECONFIG": &kubeconfig, "E2E_KUBECTL": &kubectlBin, "E2E_HELM": &helmBin,
		"E2E_IMAGE": &image, "E2E_IMAGE_2": &image2,
	}
	for name, v := range env {
		if *v = os.Getenv(name); *v == "" {
			fmt.Fprintf(os.Stderr, "%s is not set: run these tests with 'make e2e', which starts the node they need\n", name)
			return 1
		}
	}
	if nodeIP = net.ParseIP(os.Getenv("E2E_NODE_IP")); nodeIP == nil {
		fmt.Fprintln(os.Stderr, "E2E_NODE_IP is not an IP address: run these tests with 'make e2e'")
		return 1
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		fmt.Fprintf(os.Stderr, "repository root: %v\n", err)
		return 1
	}
	repoRoot = root

	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.UseDevMode(true), zap.Level(zapcore.ErrorLevel)))
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(identityv1alpha1.AddToScheme(scheme))
	utilruntime.Must(apiextensionsv1.AddToScheme(scheme))
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kubeconfig: %v\n", err)
		return 1
	}
	if k8s, err = client.NewWithWatch(cfg, client.Options{Scheme: scheme}); err != nil {
		fmt.Fprintf(os.Stderr, "client: %v\n", err)
		return 1
	}
	if clientset, err = kubernetes.NewForConfig(cfg); err != nil {
		fmt.Fprintf(os.Stderr, "clientset: %v\n", err)
		return 1
	}

	// Inside the node's directory, which hack/e2e.sh removes even when this process is killed.
	toolHome, err = os.MkdirTemp(os.Getenv("E2E_DIR"), "orgsync-e2e-home-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "temp dir: %v\n", err)
		return 1
	}
	defer func() { _ = os.RemoveAll(toolHome) }()

	// The pods reach the simulator at the node's address, so its certificate names that address.
	sim = upstreamsim.NewWithIPs(nodeIP)
	simToken = upstreamsim.SeedDemo(sim)
	if err := sim.StartOn(net.JoinHostPort(nodeIP.String(), "0")); err != nil {
		fmt.Fprintf(os.Stderr, "start simulator: %v\n", err)
		return 1
	}
	defer sim.Close()

	code := m.Run()
	// Nothing the tests installed outlives them, so the next run (and the node's teardown) starts clean.
	uninstallAll()
	return code
}

// ctxFor is a context for one test step.
func ctxFor(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	return ctx
}

// tool runs kubectl or helm against the node and returns its standard output.
func tool(bin string, stdin []byte, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig, "HOME="+toolHome,
		"HELM_CACHE_HOME="+filepath.Join(toolHome, "helm-cache"),
		"HELM_CONFIG_HOME="+filepath.Join(toolHome, "helm-config"),
		"HELM_DATA_HOME="+filepath.Join(toolHome, "helm-data"))
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %w\n%s%s", filepath.Base(bin), strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

func kubectl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := tool(kubectlBin, nil, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func helm(t *testing.T, args ...string) string {
	t.Helper()
	out, err := tool(helmBin, nil, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
