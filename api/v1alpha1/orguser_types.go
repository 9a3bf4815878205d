package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ReconcileRequestedAnnotation forces the next reconcile to read the user upstream now; its value is
// echoed into status.lastHandledReconcileAt once handled.
const ReconcileRequestedAnnotation = "identity.orgsync.io/reconcile-requested-at"

// Labels the controller keeps equal to status.role and status.state (absent while the field is empty),
// so label selectors and policy bindings can use them. Anyone who may edit the OrgUser may also edit
// these labels: decisions that must be trusted read status instead.
const (
	LabelRole  = "identity.orgsync.io/role"
	LabelState = "identity.orgsync.io/state"
)

// Provider reference kinds.
const (
	OrgProviderKind        = "OrgProvider"
	ClusterOrgProviderKind = "ClusterOrgProvider"
)

// ProviderReference names the OrgProvider or ClusterOrgProvider that answers for an OrgUser.
type ProviderReference struct {
	// Kind of the provider object.
	// +kubebuilder:validation:Enum=OrgProvider;ClusterOrgProvider
	// +kubebuilder:default=OrgProvider
	// +optional
	Kind string `json:"kind,omitempty"`

	// Name of the provider object. An OrgProvider must be in the OrgUser's namespace.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// OrgUserSpec names one upstream user.
type OrgUserSpec struct {
	// ProviderRef names the provider object to read the user through.
	ProviderRef ProviderReference `json:"providerRef"`

	// Key identifies the user upstream: an email for Mixpeek, a user id for Flashback, the value of
	// the provider's keyAttribute (userName by default) for SCIM.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=320
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="key is immutable; create a new OrgUser for another user"
	Key string `json:"key"`

	// RefreshInterval overrides the provider's refreshInterval for this user: 10s..720h.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('10s') && duration(self) <= duration('720h')",message="refreshInterval must be at least 10s and at most 720h"
	// +optional
	RefreshInterval *metav1.Duration `json:"refreshInterval,omitempty"`

	// Suspend stops all upstream calls for this user; status keeps its values.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// OrgUserStatus mirrors the upstream user.
type OrgUserStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Provider is the API that answered: mixpeek, flashback or scim.
	// +kubebuilder:validation:Enum=mixpeek;flashback;scim
	// +optional
	Provider string `json:"provider,omitempty"`

	// UserID is the upstream's id of the user (Mixpeek user_id, Flashback id, SCIM id), cut to 256 bytes.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	UserID string `json:"userID,omitempty"`

	// Email of the user upstream, cut to 320 bytes.
	// +kubebuilder:validation:MaxLength=320
	// +optional
	Email string `json:"email,omitempty"`

	// DisplayName of the user upstream, cut to 256 bytes.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	DisplayName string `json:"displayName,omitempty"`

	// Role is the normalized role: Owner, Admin, Manager, Billing, Member, Viewer or Unknown.
	// +kubebuilder:validation:Enum=Owner;Admin;Manager;Billing;Member;Viewer;Unknown
	// +optional
	Role string `json:"role,omitempty"`

	// ProviderRole is the upstream's own role value, verbatim up to 64 bytes.
	// +kubebuilder:validation:MaxLength=64
	// +optional
	ProviderRole string `json:"providerRole,omitempty"`

	// State is the normalized state: Active, Suspended, Pending, Deleted, NotFound or Unknown.
	// +kubebuilder:validation:Enum=Active;Suspended;Pending;Deleted;NotFound;Unknown
	// +optional
	State string `json:"state,omitempty"`

	// CreatedAt is when the user was created upstream.
	// +optional
	CreatedAt *metav1.Time `json:"createdAt,omitempty"`

	// UpdatedAt is when the user was last updated upstream.
	// +optional
	UpdatedAt *metav1.Time `json:"updatedAt,omitempty"`

	// LastLoginAt is when the user last logged in upstream.
	// +optional
	LastLoginAt *metav1.Time `json:"lastLoginAt,omitempty"`

	// DeletedAt is when the user was deleted upstream.
	// +optional
	DeletedAt *metav1.Time `json:"deletedAt,omitempty"`

	// LastHandledReconcileAt echoes the reconcile-requested-at annotation once it has been handled.
	// +optional
	LastHandledReconcileAt string `json:"lastHandledReconcileAt,omitempty"`

	// Conditions: Ready (the mirror is usable), Synced (the most recent upstream call succeeded) and
	// Stalled (a terminal problem that retrying will not fix).
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ou,categories=orgsync
// +kubebuilder:printcolumn:name="Provider",type=string,JSONPath=`.status.provider`
// +kubebuilder:printcolumn:name="Key",type=string,JSONPath=`.spec.key`
// +kubebuilder:printcolumn:name="Role",type=string,JSONPath=`.status.role`
// +kubebuilder:printcolumn:name="State",type=string,JSONPath=`.status.state`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Display Name",type=string,JSONPath=`.status.displayName`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:selectablefield:JSONPath=`.spec.key`
// +kubebuilder:selectablefield:JSONPath=`.spec.providerRef.name`
// +kubebuilder:selectablefield:JSONPath=`.status.role`
// +kubebuilder:selectablefield:JSONPath=`.status.state`
// +kubebuilder:selectablefield:JSONPath=`.status.provider`

// OrgUser is one upstream user, mirrored into .status.
type OrgUser struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec OrgUserSpec `json:"spec"`

	// Status mirrors the upstream user. The API server defaults it to observedGeneration 0, so an
	// OrgUser the controller has not synced yet reads InProgress to kstatus (Flux), not Current.
	// +kubebuilder:default={observedGeneration: 0}
	Status OrgUserStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// OrgUserList contains a list of OrgUser.
type OrgUserList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []OrgUser `json:"items"`
}
