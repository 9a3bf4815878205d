package flashback

import (
	"fmt"
	"strings"

	"github.com/orgsync/orgsync/internal/provider"
	"github.com/orgsync/orgsync/internal/provider/upstreamhttp"
)

// roles maps Flashback's documented orgRole codes; any other code is provider.RoleUnknown.
var roles = map[uint64]provider.Role{
	0xff: provider.RoleOwner,   // OWNER
	0xfe: provider.RoleAdmin,   // ADMINISTRATOR
	0x02: provider.RoleManager, // WORKSPACES
	0x01: provider.RoleBilling, // BILLING
	0x00: provider.RoleMember,  // USER
}

// toUser normalizes a Flashback user. It cannot fail. Flashback has no created, updated or last
// login times, so those stay nil.
func toUser(w userResponse) provider.User {
	return provider.User{
		ID:           w.ID,
		Email:        w.Email,
		DisplayName:  displayName(w.Name, w.LastName),
		Role:         role(w.OrgRole),
		ProviderRole: providerRole(w.OrgRole, w.OrgRoleDescription),
		State:        state(w),
		DeletedAt:    upstreamhttp.ParseTimestamp(w.DeletedAt),
	}
}

func role(code roleCode) provider.Role {
	if r, ok := roles[code.Value]; ok && code.Valid {
		return r
	}
	return provider.RoleUnknown
}

// providerRole prefers the upstream's own name for the role; without one, a one-byte code is shown
// the way the API documents it (0x03), and any other value verbatim ("256", "-1", "0x03" sent as a
// string, {"a":1}), so an unknown role is still identifiable. Absent or null gives "".
func providerRole(code roleCode, description upstreamhttp.OptionalString) string {
	switch {
	case description.IsString && description.Value != "":
		return description.Value
	case code.Valid && code.Value <= 0xff:
		return fmt.Sprintf("0x%02x", code.Value)
	default:
		return code.Raw
	}
}

// state: deletion wins over everything, because a deleted user must never read as Pending or
// Active; an explicit validated:false is Pending; otherwise (validated true or absent) Active.
func state(w userResponse) provider.State {
	switch {
	case deleted(w.DeletedAt):
		return provider.StateDeleted
	case w.Validated.Valid && !w.Validated.Value:
		return provider.StatePending
	default:
		return provider.StateActive
	}
}

// deleted reads deletedAt as the contract says: absent, null and "" (or only blanks) mean not
// deleted; any other value, even one that is not a readable time, means deleted.
func deleted(deletedAt upstreamhttp.OptionalString) bool {
	if deletedAt.IsString {
		return strings.TrimSpace(deletedAt.Value) != ""
	}
	return deletedAt.Set
}

// displayName trims each part and joins the non-empty ones with exactly one space, so stray
// padding in either field ("Al ", " Smith") cannot leave a double space or a trailing one.
func displayName(name, lastName string) string {
	parts := make([]string, 0, 2)
	for _, part := range []string{name, lastName} {
		if part = strings.TrimSpace(part); part != "" {
			parts = append(parts, part)
		}
	}
	return strings.Join(parts, " ")
}
