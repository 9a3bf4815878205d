package scim

import (
	"testing"

	"github.com/orgsync/orgsync/internal/provider"
)

// TestMappingRows checks each row of the contract's mapping table, one user at a time.
func TestMappingRows(t *testing.T) {
	tests := []struct {
		name string
		user string // fields after "id"
		want provider.User
	}{
		{"email: the primary entry",
			`"emails":[{"value":"work@x.io"},{"value":"home@x.io","primary":true}]`,
			provider.User{Email: "home@x.io"}},
		{"email: primary as a string",
			`"emails":[{"value":"work@x.io"},{"value":"home@x.io","primary":"True"}]`,
			provider.User{Email: "home@x.io"}},
		{"email: else the first entry",
			`"emails":[{"value":"work@x.io","type":"work"},{"value":"home@x.io"}]`,
			provider.User{Email: "work@x.io"}},
		{"email: bare strings", `"emails":["a@x.io","b@x.io"]`, provider.User{Email: "a@x.io"}},
		{"email: one bare string", `"emails":"a@x.io"`, provider.User{Email: "a@x.io"}},
		{"email: else userName when it is an email",
			`"userName":"u@x.io","emails":[{"type":"work"}]`, provider.User{Email: "u@x.io", DisplayName: "u@x.io"}},
		{"email: userName that is no email", `"userName":"jdoe"`, provider.User{DisplayName: "jdoe"}},
		{"displayName", `"displayName":"D","name":{"formatted":"F","givenName":"G","familyName":"L"},"userName":"U"`,
			provider.User{DisplayName: "D"}},
		{"displayName: else name.formatted", `"displayName":" ","name":{"formatted":"F","givenName":"G"},"userName":"U"`,
			provider.User{DisplayName: "F"}},
		{"displayName: else given and family name", `"name":{"givenName":" Mona ","familyName":"Octocat"},"userName":"U"`,
			provider.User{DisplayName: "Mona Octocat"}},
		{"displayName: given name alone", `"name":{"givenName":"Mona"},"userName":"U"`, provider.User{DisplayName: "Mona"}},
		{"displayName: else userName", `"name":{},"userName":"U"`, provider.User{DisplayName: "U"}},
		{"attribute names in any case", `"DISPLAYNAME":"D","Emails":[{"VALUE":"e@x.io","Primary":true}],"Active":false`,
			provider.User{DisplayName: "D", Email: "e@x.io", State: provider.StateSuspended}},
		{"names differing in case: the later wins", `"displayName":"first","DisplayName":"second"`,
			provider.User{DisplayName: "second"}},
		{"active false", `"active":false`, provider.User{State: provider.StateSuspended}},
		{"active \"False\"", `"active":"False"`, provider.User{State: provider.StateSuspended}},
		{"active \"TRUE\"", `"active":"TRUE"`, provider.User{}},
		{"active null is absent", `"active":null`, provider.User{}},
		{"active garbage is Unknown", `"active":"disabled"`, provider.User{State: provider.StateUnknown}},
		{"active as a number is Unknown", `"active":0`, provider.User{State: provider.StateUnknown}},
		{"role: a roles value naming a normalized role", `"roles":[{"value":"guest"},{"value":"admin"}]`,
			provider.User{Role: provider.RoleAdmin, ProviderRole: "admin"}},
		{"role: display counts too", `"roles":[{"value":"r-17","display":"Billing"}]`,
			provider.User{Role: provider.RoleBilling, ProviderRole: "Billing"}},
		{"role: bare strings", `"roles":["OWNER"]`, provider.User{Role: provider.RoleOwner, ProviderRole: "OWNER"}},
		{"role: one bare string", `"roles":"viewer"`, provider.User{Role: provider.RoleViewer, ProviderRole: "viewer"}},
		{"role: joined values are one value", `"roles":"admin,user"`, provider.User{Role: provider.RoleUnknown, ProviderRole: "admin,user"}},
		{"role: else Unknown with the first value", `"roles":[{"value":"enterprise_owner"},{"value":"x"}]`,
			provider.User{Role: provider.RoleUnknown, ProviderRole: "enterprise_owner"}},
		{"role: none", `"roles":[]`, provider.User{Role: provider.RoleUnknown}},
		{"meta times", `"meta":{"created":"2024-01-02T03:04:05.5+02:00","lastModified":"2024-02-03T04:05:06Z"}`,
			provider.User{CreatedAt: timeRef("2024-01-02T01:04:05.5Z"), UpdatedAt: timeRef("2024-02-03T04:05:06Z")}},
		{"meta times without an offset are UTC", `"Meta":{"Created":"2025-03-25T16:17:00","LASTMODIFIED":"2025-03-25T16:17:00.25"}`,
			provider.User{CreatedAt: timeRef("2025-03-25T16:17:00Z"), UpdatedAt: timeRef("2025-03-25T16:17:00.25Z")}},
		{"unreadable times are absent", `"meta":{"created":"yesterday","lastModified":1700000000}`, provider.User{}},
		{"meta not an object", `"meta":"none"`, provider.User{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.want
			want.ID = "u1"
			if want.State == "" {
				want.State = provider.StateActive
			}
			if want.Role == "" {
				want.Role = provider.RoleUnknown
			}
			got := mustLookup(t, Options{KeyAttribute: KeyID}, "u1", `{"id":"u1",`+tt.user+`}`)
			if !sameUser(got, want) {
				t.Errorf("user = %+v\nwant   %+v", got, want)
			}
		})
	}
}

// TestRoleMapping checks the roles block: ordered entries, case, defaults and attribute paths.
func TestRoleMapping(t *testing.T) {
	github := &RoleMapping{Map: []RoleMapEntry{
		{Value: "enterprise_owner", Role: provider.RoleOwner},
		{Value: "billing_manager", Role: provider.RoleBilling},
		{Value: "user", Role: provider.RoleMember},
		{Value: "guest_collaborator", Role: provider.RoleViewer},
	}}
	department := "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"
	tests := []struct {
		name             string
		roles            *RoleMapping
		user             string
		wantRole         provider.Role
		wantProviderRole string
	}{
		{"the first entry matching any value wins", github, `"roles":[{"value":"user"},{"value":"enterprise_owner"}]`,
			provider.RoleOwner, "enterprise_owner"},
		{"values match ignoring case", github, `"roles":[{"value":"Billing_Manager"}]`, provider.RoleBilling, "Billing_Manager"},
		{"no match, no default", github, `"roles":[{"value":"auditor"}]`, provider.RoleUnknown, "auditor"},
		{"no match, the default", &RoleMapping{Map: github.Map, Default: provider.RoleMember}, `"roles":[{"value":"auditor"}]`,
			provider.RoleMember, "auditor"},
		{"no values, the default", &RoleMapping{Default: provider.RoleViewer}, `"userName":"x"`, provider.RoleViewer, ""},
		{"a mapped normalized name is not special", github, `"roles":["admin"]`, provider.RoleUnknown, "admin"},
		{"groups by display", &RoleMapping{Attribute: "groups", Map: []RoleMapEntry{{Value: "Admins", Role: provider.RoleAdmin}}},
			`"groups":[{"value":"g-1","display":"admins"}]`, provider.RoleAdmin, "admins"},
		{"single-valued userType", &RoleMapping{Attribute: "userType", Map: []RoleMapEntry{{Value: "Licensed", Role: provider.RoleMember}}},
			`"userType":"Licensed"`, provider.RoleMember, "Licensed"},
		{"title, no match, first value", &RoleMapping{Attribute: "title"}, `"title":"Engineer"`, provider.RoleUnknown, "Engineer"},
		{"extension attribute by URN path", &RoleMapping{Attribute: department, Map: []RoleMapEntry{{Value: "finance", Role: provider.RoleBilling}}},
			`"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Finance"}`, provider.RoleBilling, "Finance"},
		{"extension URN in another case", &RoleMapping{Attribute: department, Map: []RoleMapEntry{{Value: "Finance", Role: provider.RoleBilling}}},
			`"URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER":{"Department":"Finance"}`, provider.RoleBilling, "Finance"},
		{"extension sub-attribute", &RoleMapping{Attribute: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"},
			`"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"m-1"}}`, provider.RoleUnknown, "m-1"},
		{"dotted core path", &RoleMapping{Attribute: "name.givenName", Map: []RoleMapEntry{{Value: "Mona", Role: provider.RoleOwner}}},
			`"name":{"givenName":"Mona"}`, provider.RoleOwner, "Mona"},
		{"through a multi-valued attribute", &RoleMapping{Attribute: "emails.type", Map: []RoleMapEntry{{Value: "admin", Role: provider.RoleAdmin}}},
			`"emails":[{"type":"work"},{"type":"admin"}]`, provider.RoleAdmin, "admin"},
		{"entitlements as strings", &RoleMapping{Attribute: "entitlements", Map: []RoleMapEntry{{Value: "e2", Role: provider.RoleManager}}},
			`"entitlements":["e1","e2"]`, provider.RoleManager, "e2"},
		{"a value that is a number", &RoleMapping{Attribute: "title", Map: []RoleMapEntry{{Value: "7", Role: provider.RoleViewer}}},
			`"title":7`, provider.RoleViewer, "7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustLookup(t, Options{KeyAttribute: KeyID, Roles: tt.roles}, "u1", `{"id":"u1",`+tt.user+`}`)
			if got.Role != tt.wantRole || got.ProviderRole != tt.wantProviderRole {
				t.Errorf("role %s (%q), want %s (%q)", got.Role, got.ProviderRole, tt.wantRole, tt.wantProviderRole)
			}
		})
	}
}
