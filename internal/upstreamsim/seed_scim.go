package upstreamsim

import (
	"fmt"
	"strings"
	"time"
)

// DemoRoleMapping is one entry of the roles map an OrgProvider of the scim provider needs for the
// SCIM demo users to get the Role DemoUsers expects: value is a SCIM roles value, Role the
// normalized role it stands for.
type DemoRoleMapping struct {
	Value string
	Role  string
}

// DemoSCIMRoles is the roles map (attribute roles, no default) that the SCIM demo users' expected
// roles assume: GitHub Enterprise's roles. Without it no GitHub role equals a normalized role
// name, and every SCIM demo user would read Unknown.
func DemoSCIMRoles() []DemoRoleMapping {
	return []DemoRoleMapping{
		{Value: "enterprise_owner", Role: roleOwner},
		{Value: "billing_manager", Role: roleBilling},
		{Value: "user", Role: roleMember},
		{Value: "guest_collaborator", Role: roleViewer},
	}
}

// demoSCIMUser pairs a seeded SCIM user with its DemoUser description.
type demoSCIMUser struct {
	name, role, state string
	user              SCIMUser
}

// demoSCIMUsers are GitHub Enterprise style: every GitHub enterprise role, a suspended user, an
// undocumented role, and a userName in mixed case that needs escaping in a filter.
func demoSCIMUsers() []demoSCIMUser {
	scimUser := func(n int, userName, given, family, role string, active bool, created string) SCIMUser {
		return SCIMUser{
			ID:           fmt.Sprintf("7fce0092-d52e-4f76-b727-3955bd72c9%02d", n),
			ExternalID:   "ext-" + given,
			UserName:     userName,
			DisplayName:  given + " " + family,
			Name:         SCIMName{GivenName: given, FamilyName: family, Formatted: given + " " + family},
			Emails:       []SCIMEmail{{Value: strings.ToLower(userName), Type: "work", Primary: true}},
			Active:       active,
			Roles:        []string{role},
			Groups:       []SCIMGroup{{Value: "b1e4c2a0-0000-4000-8000-000000000001", Display: "everyone"}},
			Created:      demoTime(created),
			LastModified: demoTime(created).Add(14 * 24 * time.Hour),
		}
	}
	mona := scimUser(1, "mona@example.com", "Mona", "Octocat", "enterprise_owner", true, "2025-01-02T09:00:00Z")
	mona.Title, mona.Department = "Enterprise owner", "Engineering"
	guest := scimUser(4, "gus@example.com", "Gus", "Guest", "guest_collaborator", true, "2025-04-01T10:30:00Z")
	guest.UserType = "Guest"
	return []demoSCIMUser{
		{"scim-mona", roleOwner, stateActive, mona},
		{"scim-hubot", roleBilling, stateActive,
			scimUser(2, "hubot@example.com", "Hubot", "Robot", "billing_manager", true, "2025-01-10T12:00:00Z")},
		{"scim-lin", roleMember, stateActive, scimUser(3, "lin@example.com", "Lin", "Chen", "user", true, "2025-02-14T08:45:00Z")},
		{"scim-gus", roleViewer, stateActive, guest},
		{"scim-sam", roleMember, stateSuspended, scimUser(5, "sam@example.com", "Sam", "Stone", "user", false, "2024-12-01T16:20:00Z")},
		{"scim-nico-ops", roleUnknown, stateActive,
			scimUser(6, "Nico.Ops+scim@Example.com", "Nico", "Ops", "security_manager", true, "2025-03-03T07:00:00Z")},
	}
}
