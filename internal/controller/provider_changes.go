package controller

import (
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
)

// providerChangeRereadsUsers passes provider edits that change what its users would read: the API or
// baseURL (and for scim its key attribute and role mapping), the CA bundle, the credential
// reference, and which namespaces may use it. Edits of rateLimit, timeout and refreshInterval apply
// from each user's next scheduled read, so that tuning a provider with thousands of users does not
// send thousands of requests at once. Creations and deletions always pass: users waiting for their
// provider, or losing it, must hear of it.
func providerChangeRereadsUsers() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			oldView, okOld := viewOf(e.ObjectOld)
			newView, okNew := viewOf(e.ObjectNew)
			if !okOld || !okNew {
				return true
			}
			return !equality.Semantic.DeepEqual(connectionIdentityOf(oldView), connectionIdentityOf(newView))
		},
	}
}

// connectionIdentity is the part of a provider's spec that decides what its users read.
type connectionIdentity struct {
	Mixpeek           *identityv1alpha1.MixpeekProvider
	Flashback         *identityv1alpha1.FlashbackProvider
	SCIM              *identityv1alpha1.SCIMProvider
	Auth              identityv1alpha1.ProviderAuth
	CABundle          []byte
	NamespaceSelector *metav1.LabelSelector
}

func connectionIdentityOf(p providerObject) connectionIdentity {
	return connectionIdentity{Mixpeek: p.config.Mixpeek, Flashback: p.config.Flashback, SCIM: p.config.SCIM,
		Auth:     p.config.Auth,
		CABundle: p.config.CABundle, NamespaceSelector: p.namespaceSelector}
}

func viewOf(obj any) (providerObject, bool) {
	switch p := obj.(type) {
	case *identityv1alpha1.OrgProvider:
		return viewOrgProvider(p), true
	case *identityv1alpha1.ClusterOrgProvider:
		return viewClusterOrgProvider(p), true
	default:
		return providerObject{}, false
	}
}
