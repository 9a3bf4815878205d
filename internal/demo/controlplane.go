package demo

import (
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// controlPlane is a local kube-apiserver and etcd, the same binaries the tests use.
type controlPlane struct {
	env        *envtest.Environment
	config     *rest.Config
	kubeconfig string
}

func startControlPlane(assets, crdDir, workDir string) (*controlPlane, error) {
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     []string{crdDir},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("start kube-apiserver and etcd from %s: %w", assets, err)
	}
	cp := &controlPlane{env: env, config: cfg}
	user, err := env.AddUser(envtest.User{Name: "orgsync-demo", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		cp.stop()
		return nil, fmt.Errorf("add demo user: %w", err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		cp.stop()
		return nil, fmt.Errorf("render kubeconfig: %w", err)
	}
	cp.kubeconfig = filepath.Join(workDir, "kubeconfig")
	if err := os.WriteFile(cp.kubeconfig, kubeconfig, 0o600); err != nil {
		cp.stop()
		return nil, fmt.Errorf("write kubeconfig: %w", err)
	}
	return cp, nil
}

func (cp *controlPlane) stop() {
	_ = cp.env.Stop()
}
