package controller

import (
	"context"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/event"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/connection"
	"github.com/orgsync/orgsync/internal/provider"
)

// Options configures the orgsync controllers.
type Options struct {
	Providers provider.Registry
	UserAgent string
	// SecretPollInterval is how often provider Secrets are re-read to notice rotation.
	SecretPollInterval time.Duration
	// MaxConcurrentReconciles is how many OrgUsers are reconciled at once, across all providers.
	MaxConcurrentReconciles int
	// MaxInFlightPerProvider is how many requests one provider object may have waiting upstream, so
	// a provider that never answers holds at most that many of the reconcilers.
	MaxInFlightPerProvider int
	// AllowPrivateAddresses lets provider clients reach loopback and private addresses.
	AllowPrivateAddresses bool
	// Now replaces the clock in tests; nil means time.Now.
	Now func() time.Time
}

// Shared is what the controllers Setup registers share with the ones registered after it, the
// OrgDirectory controller (which imports this package, so Setup cannot register it): the data path to
// the providers' connections, over the same pool and credentials, and the OrgUser controller's read
// requests.
type Shared struct {
	Connector *Connector
	// ReadRequests asks the OrgUser controller to read each OrgUser sent (namespace and name
	// suffice) at its next reconcile, which it enqueues at once.
	ReadRequests chan<- event.GenericEvent
}

// Setup registers the indexes and the three controllers with mgr, wired to one connection pool, and
// returns what later controllers share with them.
func Setup(ctx context.Context, mgr ctrl.Manager, opts Options) (*Shared, error) {
	if err := SetupIndexes(ctx, mgr.GetFieldIndexer()); err != nil {
		return nil, err
	}
	pool := connection.NewPool(opts.Providers, connection.PoolOptions{
		UserAgent: opts.UserAgent, MaxInFlight: opts.MaxInFlightPerProvider,
		AllowPrivateAddresses: opts.AllowPrivateAddresses,
	})
	credentials := &credentialStore{}
	changes := make(chan event.GenericEvent, 64)
	// A directory asks for thousands of reads at once; the buffer lets it go on while the OrgUser
	// controller's queue takes them.
	reads := make(chan event.GenericEvent, 1024)
	if opts.SecretPollInterval <= 0 {
		opts.SecretPollInterval = 30 * time.Second
	}
	for _, kind := range []string{identityv1alpha1.OrgProviderKind, identityv1alpha1.ClusterOrgProviderKind} {
		if err := (&ProviderReconciler{
			Client:             mgr.GetClient(),
			APIReader:          mgr.GetAPIReader(),
			Providers:          opts.Providers,
			Pool:               pool,
			SecretPollInterval: opts.SecretPollInterval,
			CredentialChanges:  changes,
			Credentials:        credentials,
			Kind:               kind,
		}).SetupWithManager(mgr); err != nil {
			return nil, err
		}
	}
	users := &OrgUserReconciler{
		Client:                  mgr.GetClient(),
		APIReader:               mgr.GetAPIReader(),
		Recorder:                mgr.GetEventRecorder("orgsync"),
		Providers:               opts.Providers,
		Pool:                    pool,
		CredentialChanges:       changes,
		ReadRequests:            reads,
		Credentials:             credentials,
		MaxConcurrentReconciles: opts.MaxConcurrentReconciles,
		Now:                     opts.Now,
	}
	if err := users.SetupWithManager(mgr); err != nil {
		return nil, err
	}
	return &Shared{Connector: users.connector(), ReadRequests: reads}, nil
}
