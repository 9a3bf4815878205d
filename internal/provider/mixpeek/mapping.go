package mixpeek

import (
	"time"

	"github.com/orgsync/orgsync/internal/provider"
	"github.com/orgsync/orgsync/internal/provider/upstreamhttp"
)

// roles maps Mixpeek's documented role values; anything else is provider.RoleUnknown.
var roles = map[string]provider.Role{
	"admin":  provider.RoleAdmin,
	"member": provider.RoleMember,
	"viewer": provider.RoleViewer,
}

// states maps Mixpeek's documented status values; anything else is provider.StateUnknown.
var states = map[string]provider.State{
	"active":    provider.StateActive,
	"suspended": provider.StateSuspended,
	"pending":   provider.StatePending,
}

// toUser normalizes a Mixpeek user. It cannot fail: unknown values map to Unknown, odd timestamps
// to nil.
func toUser(w userResponse) provider.User {
	return provider.User{
		ID:           w.UserID,
		Email:        w.Email,
		DisplayName:  w.UserName,
		Role:         lookup(roles, w.Role, provider.RoleUnknown),
		ProviderRole: w.Role.Raw, // verbatim, even when not a string: "7", {"a":1}
		State:        lookup(states, w.Status, provider.StateUnknown),
		CreatedAt:    parseTimestamp(w.CreatedAt),
		UpdatedAt:    parseTimestamp(w.UpdatedAt),
		LastLoginAt:  parseTimestamp(w.LastLogin),
	}
}

// lookup matches exactly: the documented values are lowercase, and guessing at other spellings
// could grant a role the upstream did not mean.
func lookup[V any](table map[string]V, field upstreamhttp.OptionalString, unknown V) V {
	if v, ok := table[field.Value]; ok && field.IsString {
		return v
	}
	return unknown
}

// naiveUTCLayout is an ISO 8601 timestamp without a zone. The page documents every Mixpeek
// timestamp as UTC, and Python backends often drop the zone, so such a value is read as UTC rather
// than discarded.
const naiveUTCLayout = "2006-01-02T15:04:05"

func parseTimestamp(field upstreamhttp.OptionalString) *time.Time {
	if t := upstreamhttp.ParseTimestamp(field); t != nil {
		return t
	}
	if !field.IsString {
		return nil
	}
	// Parsing accepts fractional seconds even though the layout has none.
	t, err := time.ParseInLocation(naiveUTCLayout, field.Value, time.UTC)
	if err != nil {
		return nil
	}
	return &t
}
