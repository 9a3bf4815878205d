package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// OrgDirectoryKind is the kind a directory's OrgUsers name in their controller ownerReference.
const OrgDirectoryKind = "OrgDirectory"

// LabelDirectory is set on every OrgUser a directory keeps, to the directory's name.
const LabelDirectory = "identity.orgsync.io/directory"

// OrgDirectory reasons of the Ready condition, besides the provider reasons it shares with OrgUser.
const (
	ReasonListed             = "Listed"
	ReasonListFailed         = "ListFailed"
	ReasonProviderCannotList = "ProviderCannotList"
)

// OrgUserTemplate is what a directory copies onto every OrgUser it keeps.
type OrgUserTemplate struct {
	// Metadata: labels and annotations for every OrgUser.
	// +optional
	Metadata OrgUserTemplateMetadata `json:"metadata,omitempty"`

	// Spec: the OrgUser fields a directory does not set itself.
	// +optional
	Spec OrgUserTemplateSpec `json:"spec,omitempty"`
}

// OrgUserTemplateMetadata are the labels and annotations of a directory's OrgUsers.
type OrgUserTemplateMetadata struct {
	// Labels for every OrgUser. The directory sets identity.orgsync.io/directory itself, and the
	// OrgUser controller mirrors identity.orgsync.io/role and identity.orgsync.io/state from status,
	// so a template cannot set them.
	// +kubebuilder:validation:XValidation:rule="!('identity.orgsync.io/directory' in self) && !('identity.orgsync.io/role' in self) && !('identity.orgsync.io/state' in self)",message="identity.orgsync.io/directory, identity.orgsync.io/role and identity.orgsync.io/state are set by orgsync, not by a template"
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
}

// OrgUserTemplateSpec are the OrgUser spec fields a template may set.
type OrgUserTemplateSpec struct {
	// RefreshInterval of every OrgUser: 10s..720h; absent, the provider's.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('10s') && duration(self) <= duration('720h')",message="refreshInterval must be at least 10s and at most 720h"
	// +optional
	RefreshInterval *metav1.Duration `json:"refreshInterval,omitempty"`

	// Suspend every OrgUser.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// OrgDirectorySpec names an organization to list.
type OrgDirectorySpec struct {
	// ProviderRef names the provider object to list through, as in OrgUser.
	ProviderRef ProviderReference `json:"providerRef"`

	// Filter is a SCIM filter for the listing, passed to the server as written.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Filter string `json:"filter,omitempty"`

	// ListInterval is how often the organization is listed: 1m..720h, default 1h.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:default="1h"
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1m') && duration(self) <= duration('720h')",message="listInterval must be at least 1m and at most 720h"
	// +optional
	ListInterval *metav1.Duration `json:"listInterval,omitempty"`

	// PageSize is how many users one listing request asks for: 1..1000, default 100 (a server may
	// return fewer).
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	// +kubebuilder:default=100
	// +optional
	PageSize int32 `json:"pageSize,omitempty"`

	// UserTemplate is copied onto every OrgUser the directory keeps.
	// +optional
	UserTemplate OrgUserTemplate `json:"userTemplate,omitempty"`

	// PruneAfter, when set, deletes an OrgUser the directory owns once that OrgUser has itself read
	// NotFound for this long; absent, the directory never deletes.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('0s')",message="pruneAfter must not be negative"
	// +optional
	PruneAfter *metav1.Duration `json:"pruneAfter,omitempty"`
}

// OrgDirectoryStatus reports the last listing.
type OrgDirectoryStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// ListedUsers is how many users the last complete listing held.
	// +optional
	ListedUsers int32 `json:"listedUsers,omitempty"`

	// Users is how many OrgUsers the directory owns now.
	// +optional
	Users int32 `json:"users,omitempty"`

	// Conflicts counts listed users whose OrgUser name is taken by an object the directory does not own.
	// +optional
	Conflicts int32 `json:"conflicts,omitempty"`

	// LastListedAt is when the last complete listing ended.
	// +optional
	LastListedAt *metav1.Time `json:"lastListedAt,omitempty"`

	// Conditions: Ready (True Listed; False ListFailed, ProviderCannotList or a provider reason).
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=od,categories=orgsync
// +kubebuilder:printcolumn:name="Provider",type=string,JSONPath=`.spec.providerRef.name`
// +kubebuilder:printcolumn:name="Listed",type=integer,JSONPath=`.status.listedUsers`
// +kubebuilder:printcolumn:name="Users",type=integer,JSONPath=`.status.users`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// OrgDirectory keeps one OrgUser per user of an organization that its provider can list.
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 63",message="an OrgDirectory's name is the value of its OrgUsers' identity.orgsync.io/directory label, so at most 63 characters"
type OrgDirectory struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec OrgDirectorySpec `json:"spec"`

	// Status reports the last listing. Defaulted to observedGeneration 0, so a directory not yet
	// listed reads InProgress to kstatus.
	// +kubebuilder:default={observedGeneration: 0}
	Status OrgDirectoryStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// OrgDirectoryList contains a list of OrgDirectory.
type OrgDirectoryList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []OrgDirectory `json:"items"`
}
