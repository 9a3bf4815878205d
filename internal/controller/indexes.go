package controller

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
)

// providerRefIndex indexes OrgUsers by the provider object they use, so a change to a provider, its
// Secret or a namespace maps to exactly the users it affects without listing every OrgUser.
const providerRefIndex = ".spec.providerRef"

// providerIndexKey is "OrgProvider/<namespace>/<name>" or "ClusterOrgProvider/<name>".
func providerIndexKey(kind, namespace, name string) string {
	if kind == identityv1alpha1.ClusterOrgProviderKind {
		return kind + "/" + name
	}
	return identityv1alpha1.OrgProviderKind + "/" + namespace + "/" + name
}

func providerRefKind(ref identityv1alpha1.ProviderReference) string {
	return orDefault(ref.Kind, identityv1alpha1.OrgProviderKind)
}

func indexOrgUserByProvider(obj client.Object) []string {
	user, ok := obj.(*identityv1alpha1.OrgUser)
	if !ok {
		return nil
	}
	return []string{providerIndexKey(providerRefKind(user.Spec.ProviderRef), user.Namespace, user.Spec.ProviderRef.Name)}
}

// SetupIndexes registers the field indexes the controllers rely on.
func SetupIndexes(ctx context.Context, indexer client.FieldIndexer) error {
	return indexer.IndexField(ctx, &identityv1alpha1.OrgUser{}, providerRefIndex, indexOrgUserByProvider)
}
