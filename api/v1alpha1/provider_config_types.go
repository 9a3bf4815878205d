package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ProviderConfig is what OrgProvider and ClusterOrgProvider share: which API, where, which credential,
// and how gently to call it. Exactly one provider block is set (validated on the embedding spec).
type ProviderConfig struct {
	// Mixpeek connects to the Mixpeek organizations API; keys are email addresses.
	// +optional
	Mixpeek *MixpeekProvider `json:"mixpeek,omitempty"`

	// Flashback connects to the Flashback organization API; keys are user ids.
	// +optional
	Flashback *FlashbackProvider `json:"flashback,omitempty"`

	// SCIM connects to any SCIM 2.0 service's /Users endpoint (GitHub Enterprise, Slack, Zoom,
	// Atlassian, Entra); keys hold the attribute keyAttribute names.
	// +optional
	SCIM *SCIMProvider `json:"scim,omitempty"`

	// Auth names the Secret that holds the API token.
	Auth ProviderAuth `json:"auth"`

	// CABundle holds extra PEM-encoded CA certificates to trust for baseURL, in addition to the
	// system roots.
	// +optional
	CABundle []byte `json:"caBundle,omitempty"`

	// RefreshInterval is how often each OrgUser of this provider is read again: 10s..720h.
	// +kubebuilder:default="1h"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('10s') && duration(self) <= duration('720h')",message="refreshInterval must be at least 10s and at most 720h"
	// +optional
	RefreshInterval *metav1.Duration `json:"refreshInterval,omitempty"`

	// Timeout bounds each request to the upstream API.
	// +kubebuilder:default="10s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s') && duration(self) <= duration('5m')",message="timeout must be more than 0s and at most 5m"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// RateLimit is a client-side token bucket shared by every OrgUser of this provider.
	// +kubebuilder:default={}
	// +optional
	RateLimit *RateLimit `json:"rateLimit,omitempty"`
}

// MixpeekProvider selects the Mixpeek API.
type MixpeekProvider struct {
	// BaseURL is the API root.
	// +kubebuilder:default="https://api.mixpeek.com"
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() == 'https' && url(self).getHostname() != ''",message="baseURL must be an https:// URL with a host"
	// +optional
	BaseURL string `json:"baseURL,omitempty"`
}

// FlashbackProvider selects the Flashback API.
type FlashbackProvider struct {
	// BaseURL is the API root.
	// +kubebuilder:default="https://backend.flashback.tech"
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() == 'https' && url(self).getHostname() != ''",message="baseURL must be an https:// URL with a host"
	// +optional
	BaseURL string `json:"baseURL,omitempty"`
}

// SCIMProvider selects a SCIM 2.0 service (RFC 7643, RFC 7644).
type SCIMProvider struct {
	// BaseURL is the SCIM base URL, e.g. https://api.example.com/scim/v2; /Users is appended.
	// SCIM has no default server, so it is required.
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() == 'https' && url(self).getHostname() != ''",message="baseURL must be an https:// URL with a host"
	BaseURL string `json:"baseURL"`

	// KeyAttribute is the SCIM attribute OrgUser.spec.key holds: userName (looked up with a filter,
	// compared ignoring case), externalId (a filter, compared exactly) or id (GET /Users/{id}).
	// +kubebuilder:validation:Enum=userName;externalId;id
	// +kubebuilder:default=userName
	// +optional
	KeyAttribute string `json:"keyAttribute,omitempty"`

	// Roles says how status.role is derived. Absent: a roles value equal, ignoring case, to a
	// normalized role name (Owner, Admin, Manager, Billing, Member, Viewer), else Unknown.
	// +optional
	Roles *SCIMRoles `json:"roles,omitempty"`
}

// SCIMRoles derives the normalized role from one attribute of the SCIM user.
type SCIMRoles struct {
	// Attribute is the SCIM attribute whose values are matched: roles, groups, entitlements,
	// userType, title, or a full URN path such as
	// urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department.
	// +kubebuilder:default=roles
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	// +optional
	Attribute string `json:"attribute,omitempty"`

	// Map is ordered: the first entry matching any of the user's values (ignoring case) wins.
	// +kubebuilder:validation:MaxItems=64
	// +listType=atomic
	// +optional
	Map []SCIMRoleMapEntry `json:"map,omitempty"`

	// Default is the role when no entry matches.
	// +kubebuilder:validation:Enum=Owner;Admin;Manager;Billing;Member;Viewer;Unknown
	// +kubebuilder:default=Unknown
	// +optional
	Default string `json:"default,omitempty"`
}

// SCIMRoleMapEntry maps one upstream value to a normalized role.
type SCIMRoleMapEntry struct {
	// Value is a value (or display) of the attribute, matched ignoring case.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	Value string `json:"value"`

	// Role is the normalized role the value stands for.
	// +kubebuilder:validation:Enum=Owner;Admin;Manager;Billing;Member;Viewer;Unknown
	Role string `json:"role"`
}

// ProviderAuth says where the API token is.
type ProviderAuth struct {
	// SecretRef names the Secret and the key within it that hold the bearer token.
	SecretRef SecretKeyReference `json:"secretRef"`
}

// SecretKeyReference names one key of one Secret.
type SecretKeyReference struct {
	// Name of the Secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// Key within the Secret's data.
	// +kubebuilder:default="token"
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +optional
	Key string `json:"key,omitempty"`

	// Namespace of the Secret. Required for a ClusterOrgProvider; not allowed for an OrgProvider,
	// which always reads the Secret from its own namespace.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// RateLimit is a token bucket: at most Burst requests at once, refilled at RequestsPerSecond.
type RateLimit struct {
	// RequestsPerSecond is the sustained request rate to the upstream API.
	// +kubebuilder:default=5
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	// +optional
	RequestsPerSecond int32 `json:"requestsPerSecond,omitempty"`

	// Burst is how many requests may be sent at once after a quiet period.
	// +kubebuilder:default=10
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	// +optional
	Burst int32 `json:"burst,omitempty"`
}

// ProviderStatus is what OrgProvider and ClusterOrgProvider report.
type ProviderStatus struct {
	// ObservedGeneration is the generation the conditions describe.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready is True when the configuration is valid and the credential Secret resolves.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// RateLimitedUntil is set while the upstream has asked us to back off (429 with Retry-After);
	// every OrgUser of this provider waits until then.
	// +optional
	RateLimitedUntil *metav1.Time `json:"rateLimitedUntil,omitempty"`
}
