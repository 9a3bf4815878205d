package mixpeek

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/orgsync/orgsync/internal/provider"
	"github.com/orgsync/orgsync/internal/provider/upstreamhttp"
)

// pageExample is the 200 answer on the published Mixpeek reference page, verbatim.
const pageExample = `{
  "created_at": "2025-01-01T00:00:00Z",
  "email": "alice@example.com",
  "internal_id": "int_x1y2z3",
  "metadata": {
    "department": "ML"
  },
  "organization_id": "org_demo123",
  "role": "member",
  "status": "active",
  "updated_at": "2025-01-01T00:00:00Z",
  "user_id": "usr_a1b2c3d4e5f6g7h",
  "user_name": "Alice Smith"
}`

// FuzzDecodeUser feeds arbitrary 200 bodies through the client's decoding and mapping: nothing may
// panic, and whatever is mirrored must be a user the status can hold.
func FuzzDecodeUser(f *testing.F) {
	for _, seed := range []string{
		pageExample,
		documentedUser,
		`{"email":"a@b","role":"admin","status":"suspended","last_login":null}`,
		`{"email":"a@b","role":7,"status":{"x":[1,2]},"created_at":"2025-01-01T00:00:00"}`,
		`{"email":"a@b","role":"\u00ff\ud800","user_name":"` + strings.Repeat("x", 300) + `"}`,
		`{"email":""}`, `{}`, `[]`, `null`, `{"email":"a@b"} {}`, "{\"email\":\"a@b\xff\"}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var wire userResponse
		if upstreamhttp.DecodeObject(body, &wire) != nil {
			return
		}
		u := toUser(wire).Bounded()
		if u.Email == "" {
			t.Errorf("a user without an email was accepted from %q", body)
		}
		checkMirrorable(t, u)
	})
}

// checkMirrorable asserts what the status and the CRD need of a user.
func checkMirrorable(t *testing.T, u provider.User) {
	t.Helper()
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
	switch u.Role {
	case provider.RoleAdmin, provider.RoleMember, provider.RoleViewer, provider.RoleUnknown:
	default:
		t.Errorf("role %q is not one Mixpeek maps to", u.Role)
	}
	switch u.State {
	case provider.StateActive, provider.StateSuspended, provider.StatePending, provider.StateUnknown:
	default:
		t.Errorf("state %q is not one Mixpeek maps to", u.State)
	}
	if u.DeletedAt != nil {
		t.Errorf("Mixpeek has no deletion time, got %v", u.DeletedAt)
	}
}

// FuzzValidateKey checks that a key is accepted exactly when the contract's rule says so.
func FuzzValidateKey(f *testing.F) {
	for _, seed := range []string{
		"alice@example.com", "erin+ops@example.com", "a@b", "@", "a@@b", "a@b@c", "a b@c", "a\x00@b", "a@b\n",
		"jörg@exämple.com", "alice\u200b@example.com", "alice\u00a0@example.com", "\xff@b", "user_email",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, key string) {
		err := validateKey(key)
		if want := contractEmail(key); (err == nil) != want {
			t.Errorf("validateKey(%q) = %v, contract says valid = %v", key, err, want)
		}
		if err != nil && !provider.IsKind(err, provider.KindInvalidKey) {
			t.Errorf("validateKey(%q) = %v, want an InvalidKey error", key, err)
		}
	})
}

// contractEmail restates api.md: one "@", neither part empty, no whitespace or control characters.
func contractEmail(key string) bool {
	if !utf8.ValidString(key) || strings.Count(key, "@") != 1 {
		return false
	}
	local, domain, _ := strings.Cut(key, "@")
	return local != "" && domain != "" && !strings.ContainsFunc(key, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	})
}
