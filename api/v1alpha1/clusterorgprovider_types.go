package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ClusterOrgProviderSpec is a connection to one upstream organization, usable from the namespaces
// its namespaceSelector admits.
// +kubebuilder:validation:XValidation:rule="(has(self.mixpeek) ? 1 : 0) + (has(self.flashback) ? 1 : 0) + (has(self.scim) ? 1 : 0) == 1",message="exactly one provider block must be set: mixpeek, flashback or scim"
// +kubebuilder:validation:XValidation:rule="has(self.auth.secretRef.__namespace__) && size(self.auth.secretRef.__namespace__) > 0",message="auth.secretRef.namespace is required on a ClusterOrgProvider"
type ClusterOrgProviderSpec struct {
	ProviderConfig `json:",inline"`

	// NamespaceSelector selects the namespaces whose OrgUsers may use this provider.
	// Absent means all namespaces; an empty selector also matches all namespaces.
	// +optional
	NamespaceSelector *metav1.LabelSelector `json:"namespaceSelector,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=cop,categories=orgsync
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// ClusterOrgProvider is an OrgProvider usable from many namespaces.
type ClusterOrgProvider struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ClusterOrgProviderSpec `json:"spec"`
	Status ProviderStatus         `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ClusterOrgProviderList contains a list of ClusterOrgProvider.
type ClusterOrgProviderList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ClusterOrgProvider `json:"items"`
}
