package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/connection"
	"github.com/orgsync/orgsync/internal/provider"
)

// Connector walks the data path from a provider reference to an upstream connection: the provider
// object (OrgProvider in the namespace, or a ClusterOrgProvider whose namespaceSelector admits it),
// its provider block, its credential and the pooled connection. Each step that fails ends with the
// condition reason the contract gives it. The OrgUser reconciler walks it step by step (it checks
// the key in between); the OrgDirectory controller calls Connect.
type Connector struct {
	// reader reads provider objects and namespaces (the manager's cache); writer patches the
	// providers' status.rateLimitedUntil.
	reader      client.Reader
	writer      client.StatusClient
	apiReader   client.Reader
	providers   provider.Registry
	pool        *connection.Pool
	credentials *credentialStore
	// rateLimitWrites is shared by every caller, so a pause is written once per change however many
	// OrgUsers and directories of the provider see it.
	rateLimitWrites rateLimitWrites
}

// Unusable says why a provider reference gives no connection: the Ready reason (ProviderNotFound,
// ProviderNotAllowed, SecretNotFound, ProviderInvalidConfig) and a message naming the object.
type Unusable struct {
	Reason  string
	Message string
}

// Connection is a provider object's pooled upstream connection, as Connect found it.
type Connection struct {
	Conn *connection.Conn
	// API is the provider's name, as status.provider has it: mixpeek, flashback or scim.
	API string
	// Provider is the provider object, the cache's own: read it, never change it. DisplayName names
	// it in messages ("OrgProvider ns/name").
	Provider    client.Object
	DisplayName string

	connector *Connector
	prov      *providerObject
	api       provider.Provider
}

// ValidateKey returns an error when key cannot name a user of the provider, as OrgUsers check it.
func (c *Connection) ValidateKey(key string) error { return c.api.ValidateKey(key) }

// ReflectRateLimit mirrors the connection's 429 pause into the provider's status.rateLimitedUntil,
// and removes it once the pause has passed and a call has succeeded, as the OrgUsers' reads do.
func (c *Connection) ReflectRateLimit(ctx context.Context, succeeded bool) {
	c.connector.reflectRateLimit(ctx, c.prov, c.Conn, succeeded)
}

// deferredWhileDeleted is the wait of a caller whose provider object was deleted while the cache
// still shows it; the cache catches up within a second.
func deferredWhileDeleted() *connection.DeferredError {
	return &connection.DeferredError{Delay: time.Second, Cause: "provider being deleted"}
}

// Connect resolves ref for an object in namespace and returns its provider's connection, or why
// there is none. The error is a failure of the Kubernetes API, or a *connection.DeferredError
// while the provider object is being deleted.
func (c *Connector) Connect(ctx context.Context, namespace string, ref identityv1alpha1.ProviderReference) (*Connection, *Unusable, error) {
	prov, failure, err := c.resolveProvider(ctx, namespace, ref)
	if err != nil || failure != nil {
		return nil, unusable(failure), err
	}
	api, failure := c.apiOf(prov)
	if failure != nil {
		return nil, unusable(failure), nil
	}
	token, failure, err := c.readToken(ctx, prov)
	if err != nil || failure != nil {
		return nil, unusable(failure), err
	}
	conn, failure, deferred := c.connection(prov, api, token)
	switch {
	case deferred != nil:
		return nil, nil, deferred
	case failure != nil:
		return nil, unusable(failure), nil
	}
	return &Connection{Conn: conn, API: api.name, Provider: prov.obj, DisplayName: prov.displayName(),
		connector: c, prov: prov, api: api.api}, nil, nil
}

func unusable(o *syncOutcome) *Unusable {
	if o == nil {
		return nil
	}
	return &Unusable{Reason: o.reason, Message: o.message}
}

// readOnly reads an object from the cache without copying it, for the reads every reconcile makes
// of objects it never changes (a write goes to a copy). Ignored by a reader that is not a cache.
var readOnly = client.UnsafeDisableDeepCopy

// resolveProvider finds the provider object ref names and checks that namespace may use it. The
// object is the cache's own (readOnly).
func (c *Connector) resolveProvider(ctx context.Context, namespace string,
	ref identityv1alpha1.ProviderReference) (*providerObject, *syncOutcome, error) {
	if providerRefKind(ref) == identityv1alpha1.OrgProviderKind {
		p := &identityv1alpha1.OrgProvider{}
		if err := c.reader.Get(ctx, types.NamespacedName{Namespace: namespace, Name: ref.Name}, p, readOnly); err != nil {
			if apierrors.IsNotFound(err) {
				return nil, ptr(terminal(identityv1alpha1.ReasonProviderNotFound, "OrgProvider %s/%s not found", namespace, ref.Name)), nil
			}
			return nil, nil, fmt.Errorf("get OrgProvider %s/%s: %w", namespace, ref.Name, err)
		}
		view := viewOrgProvider(p)
		return &view, nil, nil
	}

	p := &identityv1alpha1.ClusterOrgProvider{}
	if err := c.reader.Get(ctx, types.NamespacedName{Name: ref.Name}, p, readOnly); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, ptr(terminal(identityv1alpha1.ReasonProviderNotFound, "ClusterOrgProvider %s not found", ref.Name)), nil
		}
		return nil, nil, fmt.Errorf("get ClusterOrgProvider %s: %w", ref.Name, err)
	}
	view := viewClusterOrgProvider(p)
	allowed, failure, err := c.namespaceAllowed(ctx, view, namespace)
	if err != nil || failure != nil {
		return nil, failure, err
	}
	if !allowed {
		return nil, ptr(terminal(identityv1alpha1.ReasonProviderNotAllowed,
			"ClusterOrgProvider %s does not admit namespace %s: its namespaceSelector does not match the namespace's labels",
			ref.Name, namespace)), nil
	}
	return &view, nil, nil
}

func (c *Connector) namespaceAllowed(ctx context.Context, prov providerObject, namespace string) (bool, *syncOutcome, error) {
	if prov.namespaceSelector == nil {
		return true, nil, nil
	}
	selector, err := metav1.LabelSelectorAsSelector(prov.namespaceSelector)
	if err != nil {
		return false, ptr(terminal(identityv1alpha1.ReasonProviderInvalid, "%s: invalid namespaceSelector: %v", prov.displayName(), err)), nil
	}
	ns := &metav1.PartialObjectMetadata{}
	ns.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	if err := c.reader.Get(ctx, types.NamespacedName{Name: namespace}, ns); err != nil {
		return false, nil, fmt.Errorf("get namespace %s: %w", namespace, err)
	}
	return selector.Matches(labels.Set(ns.GetLabels())), nil, nil
}

// providerAPI is the provider block of a provider object: which API, where, with which options.
type providerAPI struct {
	name    string
	baseURL string
	options any
	api     provider.Provider
}

// apiOf reads the provider block and finds its API in this build.
func (c *Connector) apiOf(prov *providerObject) (providerAPI, *syncOutcome) {
	name, baseURL, options, err := backend(prov.config)
	if err != nil {
		return providerAPI{}, ptr(terminal(identityv1alpha1.ReasonProviderInvalid, "%s: %v", prov.displayName(), err))
	}
	api, ok := c.providers[name]
	if !ok {
		return providerAPI{}, ptr(terminal(identityv1alpha1.ReasonProviderInvalid,
			"%s uses provider %q, which this build does not support", prov.displayName(), name))
	}
	return providerAPI{name: name, baseURL: baseURL, options: options, api: api}, nil
}

// readToken returns the provider's token as its reconciler last polled it; see credentialStore.
func (c *Connector) readToken(ctx context.Context, prov *providerObject) (string, *syncOutcome, error) {
	secret, err := c.credentials.get(ctx, c.apiReader, prov)
	if err != nil {
		return "", nil, err
	}
	if secret.reason != "" {
		// An OrgUser reports any credential problem as SecretNotFound; the provider's own status tells
		// the finer reason (SecretKeyMissing).
		return "", ptr(terminal(identityv1alpha1.ReasonSecretNotFound, "%s", secret.message)), nil
	}
	return secret.token, nil, nil
}

// connection returns the pooled connection for the provider's current settings, paused until the
// rateLimitedUntil its status records (from an earlier process, too). deferred is set while the
// provider object is being deleted.
func (c *Connector) connection(prov *providerObject, api providerAPI, token string) (conn *connection.Conn, failure *syncOutcome,
	deferred *connection.DeferredError) {
	rps, burst := rateOf(prov.config)
	conn, err := c.pool.Get(string(prov.obj.GetUID()), connection.Settings{
		Provider: api.name, BaseURL: api.baseURL, CABundle: prov.config.CABundle, Timeout: timeoutOf(prov.config),
		Token: token, RequestsPerSecond: rps, Burst: burst, Options: api.options,
	})
	if errors.Is(err, connection.ErrForgotten) {
		return nil, nil, deferredWhileDeleted()
	}
	if err != nil {
		return nil, ptr(terminal(identityv1alpha1.ReasonProviderInvalid, "%s: build client: %v", prov.displayName(), err)), nil
	}
	if until := prov.status.RateLimitedUntil; until != nil {
		conn.PauseUntil(until.Time)
	}
	return conn, nil, nil
}

// reflectRateLimit mirrors the provider-wide 429 pause into the provider's status.rateLimitedUntil, and
// removes it once the pause has passed and a call has succeeded.
func (c *Connector) reflectRateLimit(ctx context.Context, prov *providerObject, conn *connection.Conn, succeeded bool) {
	current := prov.status.RateLimitedUntil
	var want *metav1.Time
	if until := conn.PausedUntil(); !until.IsZero() {
		// Rounded up to whole seconds, as status keeps them; a pause read back from status is then
		// already whole and does not ratchet forward a second on every reconcile.
		t := metav1.NewTime(ceilSecond(until.UTC()))
		want = &t
	}
	switch {
	case want != nil && (current == nil || current.Before(want)):
	case want == nil && current != nil && succeeded:
	default:
		return
	}
	// The cached provider lags behind our own write: without this, every user reconciled in that lag
	// would write the same value again.
	if !c.rateLimitWrites.claim(prov.obj.GetUID(), want) {
		return
	}
	own, ok := prov.ownCopy()
	if !ok {
		c.rateLimitWrites.release(prov.obj.GetUID())
		return
	}
	patch := client.MergeFrom(prov.obj)
	own.status.RateLimitedUntil = want
	if err := c.writer.Status().Patch(ctx, own.obj, patch); err != nil {
		// Not written after all: the next user of this provider tries again.
		c.rateLimitWrites.release(prov.obj.GetUID())
		ctrl.LoggerFrom(ctx).Error(err, "Update rateLimitedUntil", "provider", prov.displayName())
	}
}
