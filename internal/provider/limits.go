package provider

import (
	"strings"
	"unicode/utf8"
)

// The longest mirrored strings, as the API contract documents them and the CRD enforces with
// maxLength: an upstream that answers a megabyte of display name must not grow the OrgUser, the
// manager's cache or every watcher's by as much.
const (
	MaxUserIDLength       = 256
	MaxEmailLength        = 320
	MaxDisplayNameLength  = 256
	MaxProviderRoleLength = 64
)

// Bounded returns u with every mirrored string made valid UTF-8 and cut to its maximum. Clients
// return bounded users, so nothing downstream has to remember the limits. Invalid UTF-8 would be
// replaced on its way through the API server anyway, and then the status read back would never
// equal the status computed, so every refresh would write.
func (u User) Bounded() User {
	u.ID = bound(u.ID, MaxUserIDLength)
	u.Email = bound(u.Email, MaxEmailLength)
	u.DisplayName = bound(u.DisplayName, MaxDisplayNameLength)
	u.ProviderRole = bound(u.ProviderRole, MaxProviderRoleLength)
	return u
}

func bound(s string, limit int) string {
	return TruncateUTF8(strings.ToValidUTF8(s, "\uFFFD"), limit)
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
