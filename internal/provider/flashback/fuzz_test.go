package flashback

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/orgsync/orgsync/internal/provider"
	"github.com/orgsync/orgsync/internal/provider/upstreamhttp"
)

// FuzzDecodeUser feeds arbitrary 200 bodies through the client's decoding and mapping: nothing may
// panic, and whatever is mirrored must be a user the status can hold.
func FuzzDecodeUser(f *testing.F) {
	for _, seed := range []string{
		// The 200 answer on the published reference page, verbatim (the page obfuscated the email).
		`{
  "id": "550e8400-e29b-41d4-a716-446655440000",
  "email": "[email protected]",
  "name": "John",
  "lastName": "Doe",
  "orgId": "123e4567-e89b-12d3-a456-426614174000",
  "orgRole": 2,
  "validated": true,
  "deletedAt": null,
  "orgRoleDescription": "WORKSPACES",
  "orgRoles": [0, 1, 2]
}`,
		documentedUser,
		`{"id":"u1","orgRole":255,"deletedAt":"2025-02-03T04:05:06.789Z","validated":false}`,
		`{"id":"u1","orgRole":3,"deletedAt":"","validated":"no"}`,
		`{"id":"u1","orgRole":-1.5e300,"orgRoleDescription":7,"deletedAt":{"a":1}}`,
		`{"id":"u1","orgRole":"0x03","name":" Al ","lastName":"` + strings.Repeat("é", 200) + `"}`,
		`{"success":false,"message":"User not found"}`, `{}`, `[]`, `null`, "{\"id\":\"\xff\"}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var wire userResponse
		if upstreamhttp.DecodeObject(body, &wire) != nil {
			return
		}
		u := toUser(wire).Bounded()
		if u.ID == "" {
			t.Errorf("a user without an id was accepted from %q", body)
		}
		for _, f := range []struct {
			name  string
			value string
			limit int
		}{
			{"id", u.ID, provider.MaxUserIDLength},
			{"email", u.Email, provider.MaxEmailLength},
			{"displayName", u.DisplayName, provider.MaxDisplayNameLength},
			{"providerRole", u.ProviderRole, provider.MaxProviderRoleLength},
		} {
			if len(f.value) > f.limit || !utf8.ValidString(f.value) {
				t.Errorf("%s %q: %d bytes (max %d), valid UTF-8 %v", f.name, f.value, len(f.value), f.limit, utf8.ValidString(f.value))
			}
		}
		switch u.State {
		case provider.StateActive, provider.StatePending, provider.StateDeleted:
		default:
			t.Errorf("state %q is not one Flashback maps to", u.State)
		}
		if u.DeletedAt != nil && u.State != provider.StateDeleted {
			t.Errorf("deletedAt %v but state %s", u.DeletedAt, u.State)
		}
		if u.CreatedAt != nil || u.UpdatedAt != nil || u.LastLoginAt != nil {
			t.Errorf("Flashback has no such timestamps, got %+v", u)
		}
	})
}
