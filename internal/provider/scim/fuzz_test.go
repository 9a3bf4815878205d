package scim

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/orgsync/orgsync/internal/provider"
	"github.com/orgsync/orgsync/internal/provider/upstreamhttp"
)

// FuzzDecodeUser feeds arbitrary 200 bodies through decoding, the re-check and mapping, with and
// without a roles block: nothing may panic, and whatever is mirrored must be a user the status can
// hold.
func FuzzDecodeUser(f *testing.F) {
	for _, seed := range []string{
		list(alice), list(hostileUser), list(alice, alice), `{"Resources":null}`, `{}`, `[]`, `null`, list(`"x"`),
		list(`{"id":"u1","userName":"k","active":"True","roles":"admin","emails":"k@x","meta":{"created":"2025-03-25T16:17:00"}}`),
		list(`{"ID":"u1","USERNAME":"K","Roles":[{"Value":"enterprise_owner"},"Billing",7,null,[1]],"Emails":[{"Primary":"true"}]}`),
		list(`{"id":"u1","userName":"k","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Finance"}}`),
		list("{\"id\":\"u\xff\",\"userName\":\"k\",\"displayName\":\"" + strings.Repeat("x", 300) + "\"}"),
	} {
		f.Add([]byte(seed))
	}
	roleMaps := []*RoleMapping{nil, {
		Attribute: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
		Map:       []RoleMapEntry{{Value: "finance", Role: provider.RoleBilling}},
		Default:   provider.RoleMember,
	}, {Attribute: "roles", Map: githubRoles.Map}}
	f.Fuzz(func(t *testing.T, body []byte) {
		var answer listResponse
		if upstreamhttp.DecodeObject(body, &answer) != nil {
			return
		}
		c := &Client{keyAttribute: KeyUserName}
		user, err := c.pick(answer.resources, "k")
		if err != nil {
			if kind := provider.KindOf(err); kind != provider.KindNotFound && kind != provider.KindAmbiguousKey {
				t.Errorf("pick: %v, want NotFound or AmbiguousKey", err)
			}
			return
		}
		if name, _ := user.attrs.str("userName"); !strings.EqualFold(name, "k") {
			t.Errorf("picked a user whose userName is %q for key k", name)
		}
		for _, roles := range roleMaps {
			checkMirrorable(t, toUser(user, roles).Bounded(), roles)
		}
	})
}

// checkMirrorable asserts what the status and the CRD need of a user.
func checkMirrorable(t *testing.T, u provider.User, roles *RoleMapping) {
	t.Helper()
	if u.ID == "" {
		t.Errorf("a user without an id was mirrored")
	}
	for _, field := range []struct {
		name  string
		value string
		limit int
	}{
		{"id", u.ID, provider.MaxUserIDLength},
		{"email", u.Email, provider.MaxEmailLength},
		{"displayName", u.DisplayName, provider.MaxDisplayNameLength},
		{"providerRole", u.ProviderRole, provider.MaxProviderRoleLength},
	} {
		if len(field.value) > field.limit || !utf8.ValidString(field.value) {
			t.Errorf("%s: %d bytes (max %d), valid UTF-8 %v", field.name, len(field.value), field.limit, utf8.ValidString(field.value))
		}
	}
	if !isRole(u.Role) {
		t.Errorf("role %q is not a normalized role", u.Role)
	}
	if roles != nil && roles.Default == provider.RoleMember && u.Role == provider.RoleUnknown {
		t.Errorf("role Unknown although the roles block defaults to Member")
	}
	switch u.State {
	case provider.StateActive, provider.StateSuspended, provider.StateUnknown:
	default:
		t.Errorf("state %q is not one SCIM maps to", u.State)
	}
	if u.LastLoginAt != nil || u.DeletedAt != nil {
		t.Errorf("SCIM has no login or deletion time, got %v, %v", u.LastLoginAt, u.DeletedAt)
	}
}

// FuzzFilter checks that for any key the filter is one clause, `attr eq "<JSON string>"`, whose
// string is the whole rest of the filter and decodes back to exactly the key (invalid UTF-8 bytes
// each becoming U+FFFD, as JSON cannot carry them), and that the query sent decodes back to it.
func FuzzFilter(f *testing.F) {
	for _, seed := range []string{
		"alice@example.com", "erin+ops@example.com", `a"b\c`, `" or userName pr or "`, `\"`, `\`, "a\x00b\nc\x1f\x7f",
		"<b>&amp;", "jürgen", "\u2028\u2029", "\xff\xfe", "", `") or (userName eq "x`, "a b", "%22",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, key string) {
		for _, attribute := range []string{KeyUserName, KeyExternalID} {
			filter := Filter(attribute, key)
			value, ok := parseEqFilter(filter, attribute)
			if !ok {
				t.Fatalf("Filter(%q) = %s is not one clause `%s eq \"...\"`", key, filter, attribute)
			}
			if want := replaceInvalidBytes(key); value != want {
				t.Errorf("Filter(%q) = %s carries %q", key, filter, value)
			}
			if strings.ContainsAny(filter[len(attribute):], "\x00\n\r") {
				t.Errorf("Filter(%q) = %s holds a raw control character", key, filter)
			}
		}
	})
}

// parseEqFilter is a tiny parser of `attr eq "<json string>"`: the value must be one complete JSON
// string that ends the filter, so no second clause can follow it.
func parseEqFilter(filter, attribute string) (string, bool) {
	rest, ok := strings.CutPrefix(filter, attribute+" eq ")
	if !ok || !strings.HasPrefix(rest, `"`) {
		return "", false
	}
	dec := json.NewDecoder(strings.NewReader(rest))
	var value string
	if dec.Decode(&value) != nil || dec.InputOffset() != int64(len(rest)) {
		return "", false
	}
	return value, true
}

func replaceInvalidBytes(s string) string {
	var b strings.Builder
	for _, r := range s { // ranging over a string yields U+FFFD for each invalid byte
		b.WriteRune(r)
	}
	return b.String()
}
