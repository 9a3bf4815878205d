package provider

import "unicode/utf8"

// The longest mirrored strings, as the API contract documents them and the CRD enforces with
// maxLength: an upstream that answers a megabyte of display name must not grow the OrgUser, the
// manager's cache or every watcher's by as much.
const (
	MaxUserIDLength       = 256
	MaxEmailLength        = 320
	MaxDisplayNameLength  = 256
	MaxProviderRoleLength = 64
)

// Bounded returns u with every mirrored string cut to its maximum. Clients return bounded users,
// so nothing downstream has to remember the limits.
func (u User) Bounded() User {
	u.ID = TruncateUTF8(u.ID, MaxUserIDLength)
	u.Email = TruncateUTF8(u.Email, MaxEmailLength)
	u.DisplayName = TruncateUTF8(u.DisplayName, MaxDisplayNameLength)
	u.ProviderRole = TruncateUTF8(u.ProviderRole, MaxProviderRoleLength)
	return u
}

// TruncateUTF8 cuts s to at most limit bytes without splitting a character, so the result is still
// valid UTF-8 when s was. Counting bytes rather than characters keeps the result within a CRD
// maxLength (which counts characters) as well.
func TruncateUTF8(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	if limit <= 0 {
		return ""
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
