package controller

import (
	"context"
	"crypto/x509"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/connection"
	"github.com/orgsync/orgsync/internal/provider"
)

// ProviderReconciler sets the Ready condition of one provider kind (OrgProvider or
// ClusterOrgProvider) and watches its credential Secret. With no Secret informer (RBAC allows only
// get on Secrets), it re-reads the referenced Secret every SecretPollInterval and tells the OrgUser
// controller, through CredentialChanges, when the Secret appeared, vanished or changed.
type ProviderReconciler struct {
	client.Client
	APIReader          client.Reader
	Providers          provider.Registry
	Pool               *connection.Pool
	SecretPollInterval time.Duration
	CredentialChanges  chan<- event.GenericEvent

	// Credentials keeps each provider's token as last polled, for the OrgUser reconciler.
	Credentials *credentialStore

	// Kind is identityv1alpha1.OrgProviderKind or identityv1alpha1.ClusterOrgProviderKind.
	Kind string
}

// +kubebuilder:rbac:groups=identity.orgsync.io,resources=orgproviders;clusterorgproviders,verbs=get;list;watch
// +kubebuilder:rbac:groups=identity.orgsync.io,resources=orgproviders/status;clusterorgproviders/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get

// Reconcile validates the provider object and its Secret and reports it in the Ready condition.
func (r *ProviderReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	obj, view := r.newObject()
	if err := r.Get(ctx, req.NamespacedName, obj); err != nil {
		if client.IgnoreNotFound(err) == nil {
			r.forget(providerIndexKey(r.Kind, req.Namespace, req.Name))
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	prov := view()
	if !obj.GetDeletionTimestamp().IsZero() {
		return ctrl.Result{}, nil
	}

	reason, message, secret, err := r.evaluate(ctx, &prov)
	if err != nil {
		return ctrl.Result{}, err
	}
	if err := r.writeReady(ctx, &prov, reason, message); err != nil {
		return ctrl.Result{}, err
	}
	if secret != nil && r.Credentials.put(providerKey(&prov), obj.GetUID(), credentialRef(&prov), *secret) {
		ctrl.LoggerFrom(ctx).Info("Credential Secret changed; re-reading its users", "provider", prov.displayName())
		select {
		case r.CredentialChanges <- event.GenericEvent{Object: obj}:
		case <-ctx.Done():
			return ctrl.Result{}, ctx.Err()
		}
	}
	// Jittered upwards only, so a Secret is read at most once per poll interval.
	return ctrl.Result{RequeueAfter: wait.Jitter(r.SecretPollInterval, jitterFraction)}, nil
}

// evaluate checks the configuration and the Secret; reason is Valid when both are usable. secret is
// the Secret as read, nil when the configuration was invalid and the Secret was not read.
func (r *ProviderReconciler) evaluate(ctx context.Context, prov *providerObject) (reason, message string, secret *secretState, err error) {
	if problem := r.configProblem(prov); problem != "" {
		return identityv1alpha1.ReasonInvalidConfig, problem, nil, nil
	}
	state, err := readSecret(ctx, r.APIReader, prov)
	if err != nil {
		return "", "", nil, err
	}
	if state.reason != "" {
		return state.reason, state.message, &state, nil
	}
	name, _, _, _ := backend(prov.config)
	return identityv1alpha1.ReasonValid, fmt.Sprintf("Configuration for %s is valid and the token in Secret %s/%s resolves",
		name, prov.secretNamespace, prov.config.Auth.SecretRef.Name), &state, nil
}

// configProblem finds what CEL cannot check: a CA bundle without certificates, a bad selector, a
// provider this build lacks, provider options (the scim block) its client cannot use.
func (r *ProviderReconciler) configProblem(prov *providerObject) string {
	name, baseURL, options, err := backend(prov.config)
	if err != nil {
		return err.Error()
	}
	api, ok := r.Providers[name]
	if !ok {
		return fmt.Sprintf("Provider %q is not supported by this build", name)
	}
	if len(prov.config.CABundle) > 0 && !x509.NewCertPool().AppendCertsFromPEM(prov.config.CABundle) {
		return "caBundle holds no PEM-encoded certificate"
	}
	if problem := optionsProblem(api, baseURL, options); problem != "" {
		return problem
	}
	if prov.namespaceSelector != nil {
		if _, err := metav1.LabelSelectorAsSelector(prov.namespaceSelector); err != nil {
			return fmt.Sprintf("Invalid namespaceSelector: %v", err)
		}
	}
	return ""
}

func (r *ProviderReconciler) writeReady(ctx context.Context, prov *providerObject, reason, message string) error {
	message = boundedMessage(message)
	next := prov.status.DeepCopy()
	generation := prov.obj.GetGeneration()
	next.ObservedGeneration = generation
	status := metav1.ConditionFalse
	if reason == identityv1alpha1.ReasonValid {
		status = metav1.ConditionTrue
	}
	meta.SetStatusCondition(&next.Conditions, metav1.Condition{
		Type: identityv1alpha1.ConditionReady, Status: status, Reason: reason, Message: message, ObservedGeneration: generation,
	})
	// Invalid configuration needs an edit of the object: Stalled tells kstatus (Flux, Argo CD) to stop
	// waiting. A missing Secret can appear by itself, so it is not stalled.
	if reason == identityv1alpha1.ReasonInvalidConfig {
		meta.SetStatusCondition(&next.Conditions, metav1.Condition{
			Type: identityv1alpha1.ConditionStalled, Status: metav1.ConditionTrue, Reason: reason, Message: message,
			ObservedGeneration: generation,
		})
	} else {
		meta.RemoveStatusCondition(&next.Conditions, identityv1alpha1.ConditionStalled)
	}
	for i := range next.Conditions {
		next.Conditions[i].ObservedGeneration = generation
	}
	if equality.Semantic.DeepEqual(prov.status, next) {
		return nil
	}
	patch := client.MergeFrom(prov.obj.DeepCopyObject().(client.Object))
	*prov.status = *next
	return r.Status().Patch(ctx, prov.obj, patch)
}

func (r *ProviderReconciler) forget(key string) {
	if uid, ok := r.Credentials.forget(key); ok {
		r.Pool.Forget(string(uid))
	}
}

// newObject returns an empty object of the reconciler's kind and a view of it.
func (r *ProviderReconciler) newObject() (client.Object, func() providerObject) {
	if r.Kind == identityv1alpha1.ClusterOrgProviderKind {
		p := &identityv1alpha1.ClusterOrgProvider{}
		return p, func() providerObject { return viewClusterOrgProvider(p) }
	}
	p := &identityv1alpha1.OrgProvider{}
	return p, func() providerObject { return viewOrgProvider(p) }
}

// SetupWithManager registers the reconciler for its kind.
func (r *ProviderReconciler) SetupWithManager(mgr ctrl.Manager) error {
	obj, _ := r.newObject()
	return ctrl.NewControllerManagedBy(mgr).
		// Status writes (our own, and rateLimitedUntil from the OrgUser controller) need no
		// re-evaluation; the Secret is polled on a timer anyway.
		For(obj, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named(map[string]string{
			identityv1alpha1.OrgProviderKind:        "orgprovider",
			identityv1alpha1.ClusterOrgProviderKind: "clusterorgprovider",
		}[r.Kind]).
		Complete(r)
}
