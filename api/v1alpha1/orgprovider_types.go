package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// OrgProviderSpec is a connection to one upstream organization, usable by OrgUsers of its namespace.
// +kubebuilder:validation:XValidation:rule="(has(self.mixpeek) ? 1 : 0) + (has(self.flashback) ? 1 : 0) + (has(self.scim) ? 1 : 0) == 1",message="exactly one provider block must be set: mixpeek, flashback or scim"
// +kubebuilder:validation:XValidation:rule="!has(self.auth.secretRef.__namespace__)",message="auth.secretRef.namespace is not allowed on an OrgProvider: the Secret must be in the provider's own namespace"
type OrgProviderSpec struct {
	ProviderConfig `json:",inline"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=op,categories=orgsync
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// OrgProvider is a connection to one upstream organization: which API, where, which credential.
type OrgProvider struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   OrgProviderSpec `json:"spec"`
	Status ProviderStatus  `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// OrgProviderList contains a list of OrgProvider.
type OrgProviderList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []OrgProvider `json:"items"`
}
