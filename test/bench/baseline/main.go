// Command baseline is the yardstick of the bench's memory scenario: a bare controller-runtime
// manager that does nothing but cache every OrgUser, with controller-runtime's defaults.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
)

func main() {
	flag.Parse() // --kubeconfig is controller-runtime's own flag
	if err := run(ctrl.SetupSignalHandler()); err != nil {
		fmt.Fprintf(os.Stderr, "baseline: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(identityv1alpha1.AddToScheme(scheme))
	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		return fmt.Errorf("create manager: %w", err)
	}
	if _, err := mgr.GetCache().GetInformer(ctx, &identityv1alpha1.OrgUser{}); err != nil {
		return fmt.Errorf("cache OrgUsers: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		return fmt.Errorf("cache did not sync: %w", <-done)
	}
	users := &identityv1alpha1.OrgUserList{}
	if err := mgr.GetCache().List(ctx, users); err != nil {
		return fmt.Errorf("list cached OrgUsers: %w", err)
	}
	fmt.Printf("BASELINE SYNCED: %d OrgUsers cached\n", len(users.Items))
	return <-done
}
