// Package provider defines what every upstream API client offers the controller: one user read by
// key, normalized, or a typed error. It has no Kubernetes imports on purpose.
package provider

import "time"

// Role is the normalized organization role that admission policies read from status.role.
type Role string

// The normalized roles of the API contract; RoleUnknown stands for any value not in its table.
const (
	RoleOwner   Role = "Owner"
	RoleAdmin   Role = "Admin"
	RoleManager Role = "Manager"
	RoleBilling Role = "Billing"
	RoleMember  Role = "Member"
	RoleViewer  Role = "Viewer"
	RoleUnknown Role = "Unknown"
)

// State is the normalized lifecycle state of an upstream user.
type State string

// The normalized states of the API contract; StateNotFound is a 404, StateUnknown any unlisted value.
const (
	StateActive    State = "Active"
	StateSuspended State = "Suspended"
	StatePending   State = "Pending"
	StateDeleted   State = "Deleted"
	StateNotFound  State = "NotFound"
	StateUnknown   State = "Unknown"
)

// User is one upstream user after normalization. Timestamps are nil when the upstream has none.
type User struct {
	ID string
	// Key is the user's value of the provider's key attribute, what OrgUser.spec.key would hold to
	// name this user. A Lister sets it on every listed user ("" when the user has no value); GetUser
	// may leave it empty, since its caller already holds the key. Bounded never cuts it: a cut key
	// would name another user, so the caller checks it with Provider.ValidateKey instead.
	Key         string
	Email       string
	DisplayName string
	Role        Role
	// ProviderRole is the upstream's own role value, verbatim.
	ProviderRole string
	State        State
	CreatedAt    *time.Time
	UpdatedAt    *time.Time
	LastLoginAt  *time.Time
	DeletedAt    *time.Time
}

// Same reports whether u and o say the same of a user, their Key aside (GetUser may leave it empty).
func (u User) Same(o User) bool {
	return u.ID == o.ID && u.Email == o.Email && u.DisplayName == o.DisplayName && u.Role == o.Role &&
		u.ProviderRole == o.ProviderRole && u.State == o.State && sameTime(u.CreatedAt, o.CreatedAt) &&
		sameTime(u.UpdatedAt, o.UpdatedAt) && sameTime(u.LastLoginAt, o.LastLoginAt) && sameTime(u.DeletedAt, o.DeletedAt)
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}
