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

// Setup registers the indexes and the three controllers with mgr, wired to one connection pool.
func Setup(ctx context.Context, mgr ctrl.Manager, opts Options) error {
	if err := SetupIndexes(ctx, mgr.GetFieldIndexer()); err != nil {
		return err
	}
	pool := connection.NewPool(opts.Providers, connection.PoolOptions{
		UserAgent: opts.UserAgent, MaxInFlight: opts.MaxInFlightPerProvider,
		AllowPrivateAddresses: opts.AllowPrivateAddresses,
	})
	credentials := &credentialStore{}
	changes := make(chan event.GenericEvent, 64)
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
			return err
		}
	}
	return (&OrgUserReconciler{
		Client:                  mgr.GetClient(),
		APIReader:               mgr.GetAPIReader(),
		Recorder:                mgr.GetEventRecorder("orgsync"),
		Providers:               opts.Providers,
		Pool:                    pool,
		CredentialChanges:       changes,
		Credentials:             credentials,
		MaxConcurrentReconciles: opts.MaxConcurrentReconciles,
		Now:                     opts.Now,
	}).SetupWithManager(mgr)
}
