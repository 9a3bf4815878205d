package flashback

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
		Key:       "550e8400-e29b-41d4-a716-446655440000",
		ValidBody: documentedUser,
		WantID:    "550e8400-e29b-41d4-a716-446655440000",
	})
}

// TestHostileValues covers answers that decode but carry values no real user has.
func TestHostileValues(t *testing.T) {
	huge := strings.Repeat("日", 80<<10) // 240 KiB of three-byte characters per field, under the body cap together
	tests := []struct {
		name  string
		body  string
		check func(t *testing.T, u provider.User)
	}{
		{"duplicate keys: the last one wins, as in encoding/json",
			`{"id":"u1","orgRole":255,"orgRole":0,"deletedAt":"2025-01-01T00:00:00Z","deletedAt":null}`,
			func(t *testing.T, u provider.User) {
				if u.Role != provider.RoleMember || u.State != provider.StateActive {
					t.Errorf("role %s, state %s; want the last duplicates: Member, Active", u.Role, u.State)
				}
			}},
		{"huge numbers",
			`{"id":"u1","orgRole":1` + strings.Repeat("0", 5000) + `,"validated":1e999999}`,
			func(t *testing.T, u provider.User) {
				if u.Role != provider.RoleUnknown || len(u.ProviderRole) != provider.MaxProviderRoleLength || u.State != provider.StateActive {
					t.Errorf("role %s, providerRole %d bytes, state %s; want Unknown, cut to %d bytes, Active",
						u.Role, len(u.ProviderRole), u.State, provider.MaxProviderRoleLength)
				}
			}},
		{"negative and fractional role codes", `{"id":"u1","orgRole":-255.5}`,
			func(t *testing.T, u provider.User) {
				if u.Role != provider.RoleUnknown || u.ProviderRole != "-255.5" {
					t.Errorf("role %s (%q), want Unknown with the raw value", u.Role, u.ProviderRole)
				}
			}},
		{`deletedAt "" is not deleted`, `{"id":"u1","validated":true,"deletedAt":""}`,
			func(t *testing.T, u provider.User) {
				if u.State != provider.StateActive || u.DeletedAt != nil {
					t.Errorf("state %s, deletedAt %v; want Active and none", u.State, u.DeletedAt)
				}
			}},
		{"deletedAt null is not deleted", `{"id":"u1","validated":true,"deletedAt":null}`,
			func(t *testing.T, u provider.User) {
				if u.State != provider.StateActive || u.DeletedAt != nil {
					t.Errorf("state %s, deletedAt %v; want Active and none", u.State, u.DeletedAt)
				}
			}},
		{"huge values are cut to the documented maxima",
			`{"id":"` + huge + `","email":"` + huge + `","name":"` + huge + `","lastName":"x","orgRoleDescription":"` + huge[:30<<10] + `"}`,
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, getUser(t, tt.body))
		})
	}
}
