// Package v1alpha1 contains the identity.orgsync.io/v1alpha1 API: OrgUser, OrgProvider,
// ClusterOrgProvider and OrgDirectory.
// +kubebuilder:object:generate=true
// +groupName=identity.orgsync.io
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is group version used to register these objects.
	GroupVersion = schema.GroupVersion{Group: "identity.orgsync.io", Version: "v1alpha1"}

	// SchemeBuilder registers the types of this group-version; it keeps the API package free of
	// controller-runtime so it stays cheap to import.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the types in this group-version to the given scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(scheme *runtime.Scheme) error {
	scheme.AddKnownTypes(GroupVersion,
		&OrgUser{}, &OrgUserList{},
		&OrgProvider{}, &OrgProviderList{},
		&ClusterOrgProvider{}, &ClusterOrgProviderList{},
		&OrgDirectory{}, &OrgDirectoryList{},
	)
	metav1.AddToGroupVersion(scheme, GroupVersion)
	return nil
}
