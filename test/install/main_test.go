// Package install checks the two install paths of orgsync, dist/install.yaml (kustomize) and the
// Helm chart in dist/chart, against a real API server (envtest: kube-apiserver and etcd built by
// hack/build-k8s-binaries.sh), with the kubectl, helm and kustomize binaries that `make test` installs:
//
//   - install.yaml is what `kustomize build config/default` produces and applies with every object created;
//   - the chart renders and applies (server-side) with its usual values, and installs for real;
//   - the manager's pod template is admitted into a namespace enforcing the "restricted" Pod Security
//     Standard, and deliberately weakened copies of it are rejected there;
//   - the manager gets exactly the RBAC rules the markers generate (config/rbac/role.yaml), Secrets get only.
package install

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/zap/zapcore"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

var (
	// repoRoot is the repository's top directory; the tests read dist/ and config/ from there.
	repoRoot string
	// Paths of the command-line tools.
	kubectlBin, helmBin, kustomizeBin string
	// kubeconfig is a file for kubectl, authenticating as a member of system:masters.
	kubeconfig string
	// toolHome holds the caches and configuration of kubectl and helm, so the tests touch nothing in $HOME.
	toolHome string

	k8s    client.Client
	scheme = runtime.NewScheme()
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		fmt.Fprintln(os.Stderr, "KUBEBUILDER_ASSETS is not set: run these tests with 'make test', which builds the API server "+
			"binaries and installs helm and kustomize, or with KUBEBUILDER_ASSETS=$PWD/bin/k8s after 'make k8s-binaries helm kustomize'")
		return 1
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		fmt.Fprintf(os.Stderr, "repository root: %v\n", err)
		return 1
	}
	repoRoot = root

	var missing []string
	kubectlBin, missing = findTool(missing, "kubectl (make k8s-binaries)", filepath.Join(assets, "kubectl"), filepath.Join(root, "bin", "k8s", "kubectl"))
	helmBin, missing = findTool(missing, "helm (make helm)", filepath.Join(root, "bin", "helm"))
	kustomizeBin, missing = findTool(missing, "kustomize (make kustomize)", filepath.Join(root, "bin", "kustomize"))
	if len(missing) > 0 {
		for _, msg := range missing {
			fmt.Fprintln(os.Stderr, msg)
		}
		fmt.Fprintln(os.Stderr, "'make test' installs all of them")
		return 1
	}

	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.UseDevMode(true), zap.Level(zapcore.ErrorLevel)))
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))

	toolHome, err = os.MkdirTemp("", "orgsync-install-test-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "temp dir: %v\n", err)
		return 1
	}
	defer func() { _ = os.RemoveAll(toolHome) }()

	// No CRDs: installing them is part of what is tested.
	env := &envtest.Environment{}
	cfg, err := env.Start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "start envtest: %v\n", err)
		return 1
	}
	defer func() { _ = env.Stop() }()

	admin, err := env.AddUser(envtest.User{Name: "install-test-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		fmt.Fprintf(os.Stderr, "add admin user: %v\n", err)
		return 1
	}
	kc, err := admin.KubeConfig()
	if err != nil {
		fmt.Fprintf(os.Stderr, "kubeconfig: %v\n", err)
		return 1
	}
	kubeconfig = filepath.Join(toolHome, "kubeconfig")
	if err := os.WriteFile(kubeconfig, kc, 0o600); err != nil {
		fmt.Fprintf(os.Stderr, "write kubeconfig: %v\n", err)
		return 1
	}

	k8s, err = client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		fmt.Fprintf(os.Stderr, "client: %v\n", err)
		return 1
	}
	return m.Run()
}

// findTool returns the first existing executable among paths, or adds a message to missing.
func findTool(missing []string, what string, paths ...string) (string, []string) {
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, missing
		}
	}
	return "", append(missing, fmt.Sprintf("missing tool %s: looked for %v", what, paths))
}
