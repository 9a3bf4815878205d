package upstreamsim

import (
	"slices"
	"time"
)

// DemoToken is the bearer token SeedDemo registers. It is a well-known test value, not a secret.
const DemoToken = "sk_test_orgsync_demo"

// The normalized roles and states of the API contract, as DemoUsers expects them.
const (
	roleOwner   = "Owner"
	roleAdmin   = "Admin"
	roleManager = "Manager"
	roleBilling = "Billing"
	roleMember  = "Member"
	roleViewer  = "Viewer"
	roleUnknown = "Unknown"

	stateActive    = "Active"
	stateSuspended = "Suspended"
	statePending   = "Pending"
	stateDeleted   = "Deleted"
)

// DemoUser names one user SeedDemo creates, with what the operator should report for it according
// to the API contract, so the demo can create an OrgUser per entry and check the outcome.
type DemoUser struct {
	Provider string // ProviderMixpeek, ProviderFlashback or ProviderSCIM
	// Key is the OrgUser's spec.key: an email for Mixpeek, an id for Flashback, a userName for SCIM
	// (keyAttribute userName, the default).
	Key  string
	Name string // a suggested OrgUser metadata.name
	// Role is the expected normalized status.role; for SCIM with the roles map of DemoSCIMRoles.
	Role  string
	State string // the expected normalized status.state
}

// demoMixpeekUser and demoFlashbackUser pair a seeded user with its DemoUser description, so the
// data and the list handed to the demo cannot drift apart.
type demoMixpeekUser struct {
	name, role, state string
	user              MixpeekUser
}

type demoFlashbackUser struct {
	name, role, state string
	user              FlashbackUser
}

const (
	demoMixpeekOrganization = "org_demo123"
	demoMixpeekInternalID   = "int_x1y2z3"
	demoFlashbackOrgID      = "123e4567-e89b-12d3-a456-426614174000"
)

// demoMixpeekUsers covers every documented role and status, a null last_login, an undocumented
// role and a key that needs escaping.
func demoMixpeekUsers() []demoMixpeekUser {
	mixpeek := func(userID, email, userName, role, status string, created string, lastLogin *time.Time) MixpeekUser {
		return MixpeekUser{
			UserID:         userID,
			Email:          email,
			UserName:       userName,
			Role:           role,
			Status:         status,
			InternalID:     demoMixpeekInternalID,
			OrganizationID: demoMixpeekOrganization,
			CreatedAt:      demoTime(created),
			UpdatedAt:      demoTime(created).Add(30 * 24 * time.Hour),
			LastLogin:      lastLogin,
		}
	}
	return []demoMixpeekUser{
		{"mixpeek-alice", roleAdmin, stateActive,
			mixpeek("usr_a1b2c3d4e5f6g7h", "alice@example.com", "Alice Smith", "admin", "active", "2025-01-01T00:00:00Z", demoTimePtr("2025-06-02T08:15:00Z"))},
		{"mixpeek-bob", roleMember, stateSuspended,
			mixpeek("usr_b2c3d4e5f6g7h8i", "bob@example.com", "Bob Jones", "member", "suspended", "2025-01-15T09:30:00Z", demoTimePtr("2025-03-20T17:45:00Z"))},
		{"mixpeek-carol", roleViewer, statePending,
			mixpeek("usr_c3d4e5f6g7h8i9j", "carol@example.com", "Carol White", "viewer", "pending", "2025-05-30T12:00:00Z", nil)},
		{"mixpeek-dave", roleUnknown, stateActive,
			mixpeek("usr_d4e5f6g7h8i9j0k", "dave@example.com", "Dave Brown", "owner", "active", "2024-11-03T10:00:00Z", demoTimePtr("2025-06-01T21:05:00Z"))},
		{"mixpeek-erin-ops", roleMember, stateActive,
			mixpeek("usr_e5f6g7h8i9j0k1l", "erin+ops@example.com", "Erin Ops", "member", "active", "2025-02-10T14:20:00Z", demoTimePtr("2025-06-03T06:00:00Z"))},
	}
}

// demoFlashbackUsers covers every documented role code, an undocumented code without a
// description, an unvalidated user and a deleted (also unvalidated) one.
func demoFlashbackUsers() []demoFlashbackUser {
	flashback := func(id, email, name, lastName string, role int, validated bool, deletedAt *time.Time) FlashbackUser {
		return FlashbackUser{
			ID:        id,
			Email:     email,
			Name:      name,
			LastName:  lastName,
			OrgID:     demoFlashbackOrgID,
			OrgRole:   role,
			Validated: validated,
			DeletedAt: deletedAt,
			OrgRoles:  demoAvailableRoles(role),
		}
	}
	return []demoFlashbackUser{
		{"flashback-frank", roleOwner, stateActive,
			flashback("550e8400-e29b-41d4-a716-446655440000", "frank@example.com", "Frank", "Miller", FlashbackRoleOwner, true, nil)},
		{"flashback-grace", roleAdmin, stateActive,
			flashback("550e8400-e29b-41d4-a716-446655440001", "grace@example.com", "Grace", "Hopper", FlashbackRoleAdministrator, true, nil)},
		{"flashback-heidi", roleManager, stateActive,
			flashback("550e8400-e29b-41d4-a716-446655440002", "heidi@example.com", "Heidi", "Klum", FlashbackRoleWorkspaces, true, nil)},
		{"flashback-ivan", roleBilling, stateActive,
			flashback("550e8400-e29b-41d4-a716-446655440003", "ivan@example.com", "Ivan", "Petrov", FlashbackRoleBilling, true, nil)},
		{"flashback-judy", roleMember, stateActive,
			flashback("550e8400-e29b-41d4-a716-446655440004", "judy@example.com", "Judy", "", FlashbackRoleUser, true, nil)},
		{"flashback-mallory", roleUnknown, stateActive,
			flashback("550e8400-e29b-41d4-a716-446655440005", "mallory@example.com", "Mallory", "Reyes", 0x03, true, nil)},
		{"flashback-niaj", roleMember, statePending,
			flashback("550e8400-e29b-41d4-a716-446655440006", "niaj@example.com", "Niaj", "Patel", FlashbackRoleUser, false, nil)},
		{"flashback-oscar", roleMember, stateDeleted,
			flashback("550e8400-e29b-41d4-a716-446655440007", "oscar@example.com", "Oscar", "Diaz", FlashbackRoleUser, false, demoTimePtr("2025-04-18T16:40:00Z"))},
	}
}

// SeedDemo registers DemoToken with full access and the users listed by DemoUsers, and returns
// the token.
func SeedDemo(s *Server) (token string) {
	s.AllowToken(DemoToken)
	for _, demo := range demoMixpeekUsers() {
		s.PutMixpeekUser(demo.user)
	}
	for _, demo := range demoFlashbackUsers() {
		s.PutFlashbackUser(demo.user)
	}
	for _, demo := range demoSCIMUsers() {
		s.PutSCIMUser(demo.user)
	}
	return DemoToken
}

// DemoUsers lists the users SeedDemo creates, Mixpeek first, then Flashback, then SCIM, in a fixed
// order.
func DemoUsers() []DemoUser {
	mixpeekUsers, flashbackUsers, scimUsers := demoMixpeekUsers(), demoFlashbackUsers(), demoSCIMUsers()
	users := make([]DemoUser, 0, len(mixpeekUsers)+len(flashbackUsers)+len(scimUsers))
	for _, demo := range mixpeekUsers {
		users = append(users, DemoUser{ProviderMixpeek, demo.user.Email, demo.name, demo.role, demo.state})
	}
	for _, demo := range flashbackUsers {
		users = append(users, DemoUser{ProviderFlashback, demo.user.ID, demo.name, demo.role, demo.state})
	}
	for _, demo := range scimUsers {
		users = append(users, DemoUser{ProviderSCIM, demo.user.UserName, demo.name, demo.role, demo.state})
	}
	return users
}

// DemoUsersOf lists the users of DemoUsers whose provider is one of providers, in the same order,
// for a consumer that serves only some providers.
func DemoUsersOf(providers ...string) []DemoUser {
	var users []DemoUser
	for _, user := range DemoUsers() {
		if slices.Contains(providers, user.Provider) {
			users = append(users, user)
		}
	}
	return users
}

// demoAvailableRoles lists the documented codes up to role, like the reference example where a
// WORKSPACES user has orgRoles [0, 1, 2].
func demoAvailableRoles(role int) []int {
	var roles []int
	for _, code := range []int{FlashbackRoleUser, FlashbackRoleBilling, FlashbackRoleWorkspaces, FlashbackRoleAdministrator, FlashbackRoleOwner} {
		if code <= role {
			roles = append(roles, code)
		}
	}
	return roles
}

func demoTime(value string) time.Time {
	t, err := time.Parse(time.RFC3339, value)
	if err != nil {
		panic("upstreamsim: bad demo timestamp " + value)
	}
	return t
}

func demoTimePtr(value string) *time.Time {
	t := demoTime(value)
	return &t
}
