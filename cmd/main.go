// Command manager runs the orgsync controllers: OrgUsers mirrored from their providers' APIs.
package main

import (
	"crypto/tls"
	"flag"
	"os"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	_ "k8s.io/client-go/plugin/pkg/client/auth"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/controller"
	"github.com/orgsync/orgsync/internal/controller/directory"
	"github.com/orgsync/orgsync/internal/logging"
	"github.com/orgsync/orgsync/internal/metricsauth"
	"github.com/orgsync/orgsync/internal/provider"
	"github.com/orgsync/orgsync/internal/provider/flashback"
	"github.com/orgsync/orgsync/internal/provider/mixpeek"
	"github.com/orgsync/orgsync/internal/provider/scim"
	"github.com/orgsync/orgsync/internal/version"
)

var (
	scheme   = runtime.NewScheme()
	setupLog = ctrl.Log.WithName("setup")
)

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(identityv1alpha1.AddToScheme(scheme))
}

func main() {
	var (
		metricsAddr             string
		probeAddr               string
		enableLeaderElection    bool
		secureMetrics           bool
		enableHTTP2             bool
		secretPollInterval      time.Duration
		maxConcurrentReconciles int
		maxInFlightPerProvider  int
		leaderElectionNamespace string
		leaderElection          leaderElectionTiming
		allowPrivateAddresses   bool
		pprofAddr               string
	)
	flag.StringVar(&metricsAddr, "metrics-bind-address", "0", "The address the metrics endpoint binds to. "+
		"Use :8443 for HTTPS or :8080 for HTTP, or leave as 0 to disable the metrics service.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "The address the probe endpoint binds to.")
	flag.BoolVar(&enableLeaderElection, "leader-elect", false,
		"Enable leader election for controller manager, ensuring only one active replica.")
	flag.BoolVar(&secureMetrics, "metrics-secure", true,
		"Serve metrics over HTTPS with authentication and authorization; false serves plain HTTP.")
	flag.BoolVar(&enableHTTP2, "enable-http2", false,
		"Enable HTTP/2 for the metrics server (off by default: HTTP/2 Stream Cancellation and Rapid Reset CVEs).")
	flag.DurationVar(&secretPollInterval, "secret-poll-interval", 30*time.Second,
		"How often each provider's credential Secret is re-read to notice rotation (Secrets are never watched).")
	flag.StringVar(&leaderElectionNamespace, "leader-election-namespace", "",
		"Namespace of the leader election Lease; empty means the manager's own namespace (required outside a cluster).")
	flag.IntVar(&maxConcurrentReconciles, "max-concurrent-reconciles", 64,
		"How many OrgUsers are reconciled in parallel across all providers; each provider's rateLimit still applies.")
	flag.IntVar(&maxInFlightPerProvider, "max-in-flight-per-provider", 16,
		"How many requests one provider object may have waiting for an answer; "+
			"a provider that never answers holds at most this many reconcilers.")
	leaderElection.bind(flag.CommandLine)
	flag.BoolVar(&allowPrivateAddresses, "allow-private-addresses", false,
		"Let providers' baseURLs reach loopback, private and other non-public addresses (an in-cluster or on-premises upstream). "+
			"Link-local and cloud metadata addresses are refused regardless.")
	flag.StringVar(&pprofAddr, "pprof-bind-address", "",
		"The address the pprof endpoint binds to (e.g. 127.0.0.1:6060) for heap and CPU profiles; empty disables it. "+
			"It has no authentication: bind it to loopback and use kubectl port-forward.")
	opts := zap.Options{Development: false}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(logging.Lazy(zap.New(zap.UseFlagOptions(&opts))))

	var tlsOpts []func(*tls.Config)
	if !enableHTTP2 {
		tlsOpts = append(tlsOpts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}
	metricsOptions := metricsserver.Options{BindAddress: metricsAddr, SecureServing: secureMetrics, TLSOpts: tlsOpts}
	if secureMetrics {
		metricsOptions.FilterProvider = metricsauth.Filter
	}

	// Everything but the addresses and leader election comes from controller.ManagerOptions, which the
	// tests and the demo start from too.
	mgrOptions := controller.ManagerOptions(scheme)
	mgrOptions.Metrics = metricsOptions
	mgrOptions.HealthProbeBindAddress = probeAddr
	mgrOptions.PprofBindAddress = pprofAddr
	mgrOptions.LeaderElection = enableLeaderElection
	mgrOptions.LeaderElectionNamespace = leaderElectionNamespace
	mgrOptions.LeaseDuration = &leaderElection.leaseDuration
	mgrOptions.RenewDeadline = &leaderElection.renewDeadline
	mgrOptions.RetryPeriod = &leaderElection.retryPeriod
	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), mgrOptions)
	if err != nil {
		setupLog.Error(err, "Unable to create manager")
		os.Exit(1)
	}

	providers := provider.Registry{
		mixpeek.Name:   mixpeek.Provider{},
		flashback.Name: flashback.Provider{},
		scim.Name:      scim.Provider{},
	}
	ctx := ctrl.SetupSignalHandler()
	shared, err := controller.Setup(ctx, mgr, controller.Options{
		Providers:               providers,
		UserAgent:               version.UserAgent(),
		SecretPollInterval:      secretPollInterval,
		MaxConcurrentReconciles: maxConcurrentReconciles,
		MaxInFlightPerProvider:  maxInFlightPerProvider,
		AllowPrivateAddresses:   allowPrivateAddresses,
	})
	if err != nil {
		setupLog.Error(err, "Unable to set up controllers")
		os.Exit(1)
	}
	// The OrgDirectory controller lists through the OrgUser controller's connections.
	if err := directory.Setup(ctx, mgr, shared); err != nil {
		setupLog.Error(err, "Unable to set up the OrgDirectory controller")
		os.Exit(1)
	}

	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		setupLog.Error(err, "Unable to set up health check")
		os.Exit(1)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		setupLog.Error(err, "Unable to set up ready check")
		os.Exit(1)
	}

	setupLog.Info("Starting manager", "version", version.Version)
	if err := mgr.Start(ctx); err != nil {
		setupLog.Error(err, "Problem running manager")
		os.Exit(1)
	}
}

// leaderElectionTiming trades how fast a standby takes over (lease duration, retry period) against
// how long the leader tolerates an unreachable API server before it gives up and exits (renew
// deadline). The defaults are client-go's.
type leaderElectionTiming struct {
	leaseDuration time.Duration
	renewDeadline time.Duration
	retryPeriod   time.Duration
}

func (f *leaderElectionTiming) bind(fs *flag.FlagSet) {
	fs.DurationVar(&f.leaseDuration, "leader-elect-lease-duration", 15*time.Second,
		"How long a standby waits after the leader's last renewal before it takes over.")
	fs.DurationVar(&f.renewDeadline, "leader-elect-renew-deadline", 10*time.Second,
		"How long the leader keeps retrying to renew its lease (e.g. while the API server is down) before it exits; "+
			"must be less than the lease duration.")
	fs.DurationVar(&f.retryPeriod, "leader-elect-retry-period", 2*time.Second,
		"How often candidates try to acquire or renew the lease.")
}
