// Package demo runs orgsync end to end on this machine: a local control plane, a simulated upstream
// speaking every provider API (Mixpeek, Flashback, SCIM 2.0), the manager, and sample objects. It is what `make demo` runs.
package demo

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"go.uber.org/zap/zapcore"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/controller"
	"github.com/orgsync/orgsync/internal/controller/directory"
	"github.com/orgsync/orgsync/internal/provider/builtin"
	"github.com/orgsync/orgsync/internal/upstreamsim"
	"github.com/orgsync/orgsync/internal/version"
)

// Options says where the demo finds its binaries and keeps its files.
type Options struct {
	// Assets holds kube-apiserver, etcd and kubectl.
	Assets string
	// CRDDir holds the generated CRDs.
	CRDDir string
	// WorkDir receives the kubeconfig and the manager's log.
	WorkDir string
	// Keep leaves everything running until ctx is cancelled.
	Keep bool
	Out  io.Writer
}

// The user whose role the demo changes upstream, and how.
const (
	changedUser  = "mixpeek-bob"
	changedEmail = "bob@example.com"
	changedRole  = "admin"
)

const settleTimeout = 90 * time.Second

// Run runs the demo and cleans up after itself.
func Run(ctx context.Context, opts Options) error {
	out := opts.Out
	workDir, err := filepath.Abs(opts.WorkDir)
	if err != nil {
		return err
	}
	opts.WorkDir = workDir
	if err := os.MkdirAll(opts.WorkDir, 0o755); err != nil {
		return err
	}
	logPath := filepath.Join(opts.WorkDir, "manager.log")
	logFile, err := os.Create(logPath) //nolint:gosec // the path is the demo's own work directory
	if err != nil {
		return err
	}
	defer func() { _ = logFile.Close() }()
	ctrl.SetLogger(zap.New(zap.WriteTo(logFile), zap.Level(zapcore.InfoLevel)))

	step(out, "Starting a local control plane (kube-apiserver + etcd from %s)", opts.Assets)
	cp, err := startControlPlane(opts.Assets, opts.CRDDir, opts.WorkDir)
	if err != nil {
		return err
	}
	defer cp.stop()
	fmt.Fprintf(out, "   kubeconfig: %s\n", cp.kubeconfig)

	step(out, "Starting the simulated upstream (Mixpeek, Flashback and SCIM 2.0 APIs over HTTPS with their own CA)")
	sim := upstreamsim.New()
	if err := sim.Start(); err != nil {
		return fmt.Errorf("start simulator: %w", err)
	}
	defer sim.Close()
	token := upstreamsim.SeedDemo(sim)
	fmt.Fprintf(out, "   %s\n", sim.URL())

	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(identityv1alpha1.AddToScheme(scheme))
	c, err := client.New(cp.config, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}

	step(out, "Starting the orgsync manager (log: %s)", logPath)
	mgrCtx, stopManager := context.WithCancel(ctx)
	defer stopManager()
	mgrDone, err := startManager(mgrCtx, cp, scheme)
	if err != nil {
		return err
	}

	step(out, "Creating namespace %s: a token Secret, an OrgProvider per provider and %d OrgUsers",
		namespace, len(servedDemoUsers())+1)
	names, err := createObjects(ctx, c, sim, token)
	if err != nil {
		return err
	}
	if err := waitSettled(ctx, c, names, settleTimeout); err != nil {
		return err
	}

	kubectl := kubectlRunner{path: kubectlPath(opts.Assets), kubeconfig: cp.kubeconfig, out: out}
	step(out, "kubectl get orgusers -n %s -o wide", namespace)
	if err := kubectl.run("get", "orgusers", "-n", namespace, "-o", "wide"); err != nil {
		return err
	}

	step(out, "Changing %s's role to %q in the simulated Mixpeek and forcing a refresh", changedEmail, changedRole)
	sim.SetMixpeekRole(changedEmail, changedRole)
	if err := forceRefresh(ctx, c, changedUser, settleTimeout); err != nil {
		return fmt.Errorf("force refresh of %s: %w", changedUser, err)
	}
	step(out, "kubectl get orgusers -n %s -o wide", namespace)
	if err := kubectl.run("get", "orgusers", "-n", namespace, "-o", "wide"); err != nil {
		return err
	}
	step(out, "kubectl get events -n %s --field-selector reason=RoleChanged", namespace)
	if err := waitForEvent(ctx, kubectl, "RoleChanged"); err != nil {
		return err
	}

	step(out, "Creating an OrgDirectory over the simulated SCIM organization in namespace %s", directoryNamespace)
	if err := createDirectory(ctx, c, sim, token); err != nil {
		return err
	}
	if err := waitDirectoryListed(ctx, c, settleTimeout); err != nil {
		return err
	}
	step(out, "kubectl get orgdirectories -n %s", directoryNamespace)
	if err := kubectl.run("get", "orgdirectories", "-n", directoryNamespace); err != nil {
		return err
	}
	step(out, "kubectl get orgusers -n %s (one per SCIM user, made by the directory)", directoryNamespace)
	if err := kubectl.run("get", "orgusers", "-n", directoryNamespace); err != nil {
		return err
	}

	if opts.Keep {
		step(out, "Everything keeps running; explore with:")
		fmt.Fprintf(out, "\n   KUBECONFIG=%s %s get orgsync -A\n\n   Press Ctrl-C to stop.\n", cp.kubeconfig, kubectl.path)
		<-ctx.Done()
	}
	step(out, "Cleaning up")
	stopManager()
	if err := <-mgrDone; err != nil {
		return fmt.Errorf("manager: %w", err)
	}
	return nil
}

func startManager(ctx context.Context, cp *controlPlane, scheme *runtime.Scheme) (<-chan error, error) {
	mgr, err := ctrl.NewManager(cp.config, controller.ManagerOptions(scheme))
	if err != nil {
		return nil, fmt.Errorf("create manager: %w", err)
	}
	shared, err := controller.Setup(ctx, mgr, controller.Options{
		Providers: builtin.Providers(),
		UserAgent: version.UserAgent(),
		// The simulated upstream listens on loopback.
		AllowPrivateAddresses: true,
	})
	if err != nil {
		return nil, fmt.Errorf("set up controllers: %w", err)
	}
	if err := directory.Setup(ctx, mgr, shared); err != nil {
		return nil, fmt.Errorf("set up the OrgDirectory controller: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	return done, nil
}

// waitForEvent prints the events with reason once the event recorder has flushed them.
func waitForEvent(ctx context.Context, kubectl kubectlRunner, reason string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		text, err := kubectl.output("get", "events", "-n", namespace, "--field-selector", "reason="+reason)
		if err != nil {
			return err
		}
		if len(text) > 0 || time.Now().After(deadline) {
			_, _ = kubectl.out.Write(text)
			if len(text) == 0 {
				return fmt.Errorf("no %s event within 30s", reason)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
}

func step(out io.Writer, format string, args ...any) {
	fmt.Fprintf(out, "\n==> "+format+"\n", args...)
}

type kubectlRunner struct {
	path, kubeconfig string
	out              io.Writer
}

func (k kubectlRunner) run(args ...string) error {
	text, err := k.output(args...)
	_, _ = k.out.Write(text)
	return err
}

func (k kubectlRunner) output(args ...string) ([]byte, error) {
	cmd := exec.Command(k.path, append([]string{"--kubeconfig", k.kubeconfig}, args...)...)
	text, err := cmd.CombinedOutput()
	if err != nil {
		return text, fmt.Errorf("kubectl %v: %w: %s", args, err, text)
	}
	return text, nil
}

// kubectlPath prefers the kubectl built beside the API server, whose version matches it.
func kubectlPath(assets string) string {
	if p := filepath.Join(assets, "kubectl"); fileExists(p) {
		return p
	}
	return "kubectl"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
