package mixpeek

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/orgsync/orgsync/internal/provider"
	"github.com/orgsync/orgsync/internal/provider/providertest"
)

func TestHostileAnswers(t *testing.T) {
	providertest.RunHostileAnswers(t, providertest.Target{
		Name:      Name,
		Token:     testToken,
		NewClient: Provider{}.NewClient,
		Key:       "alice@example.com",
		ValidBody: documentedUser,
		WantID:    "usr_a1b2c3d4e5f6g7h",
	})
}

// TestHostileValues covers answers that decode but carry values no real user has.
func TestHostileValues(t *testing.T) {
	huge := strings.Repeat("é", 120<<10) // 240 KiB of two-byte characters per field, under the body cap together
	tests := []struct {
		name  string
		body  string
		check func(t *testing.T, u provider.User)
	}{
		{"duplicate keys: the last one wins, as in encoding/json",
			`{"user_id":"usr_1","email":"alice@example.com","role":"admin","role":"viewer","status":"active"}`,
			func(t *testing.T, u provider.User) {
				if u.Role != provider.RoleViewer || u.ProviderRole != "viewer" {
					t.Errorf("role %s (%q), want the last duplicate, Viewer", u.Role, u.ProviderRole)
				}
			}},
		{"huge numbers where strings belong",
			`{"user_id":"usr_1","email":"alice@example.com","role":1e999999,"status":123456789012345678901234567890,` +
				`"created_at":-1e400}`,
			func(t *testing.T, u provider.User) {
				if u.Role != provider.RoleUnknown || u.ProviderRole != "1e999999" || u.State != provider.StateUnknown || u.CreatedAt != nil {
					t.Errorf("got %+v, want Unknown role and state, the number kept as providerRole, no createdAt", u)
				}
			}},
		{"huge values are cut to the documented maxima",
			`{"user_id":"` + huge + `","email":"` + huge + `","user_name":"` + huge + `","role":"` + huge[:60<<10] + `"}`,
			func(t *testing.T, u provider.User) {
				size := len(u.ID) + len(u.Email) + len(u.DisplayName) + len(u.ProviderRole)
				if size > provider.MaxUserIDLength+provider.MaxEmailLength+provider.MaxDisplayNameLength+provider.MaxProviderRoleLength {
					t.Errorf("mirrored strings hold %d bytes from a near-1 MiB answer", size)
				}
				for _, s := range []string{u.ID, u.Email, u.DisplayName, u.ProviderRole} {
					if !utf8.ValidString(s) || !strings.HasPrefix(huge, s) || s == "" {
						t.Errorf("%d bytes, valid UTF-8 %v: want a non-empty prefix of the value cut on a character boundary",
							len(s), utf8.ValidString(s))
					}
				}
			}},
		{"invalid UTF-8 is replaced, not passed on",
			"{\"user_id\":\"usr_\xff\",\"email\":\"alice@example.com\",\"user_name\":\"A\xc3\"}",
			func(t *testing.T, u provider.User) {
				if !utf8.ValidString(u.ID) || !utf8.ValidString(u.DisplayName) {
					t.Errorf("id %q, display name %q: want valid UTF-8", u.ID, u.DisplayName)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, getUser(t, tt.body))
		})
	}
}
