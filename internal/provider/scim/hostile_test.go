package scim

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/orgsync/orgsync/internal/provider"
	"github.com/orgsync/orgsync/internal/provider/providertest"
)

const hostileUser = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"2819c223-7f76-453a-919d-413861904646",` +
	`"userName":"bjensen@example.com","name":{"givenName":"Barbara","familyName":"Jensen"},` +
	`"emails":[{"value":"bjensen@example.com","primary":true}],"active":true,` +
	`"meta":{"resourceType":"User","created":"2010-01-23T04:56:22Z","lastModified":"2011-05-13T04:42:34Z"}}`

// TestHostileAnswers runs the shared suite against both request shapes: a filter answered by a
// ListResponse, and an id lookup answered by the user itself.
func TestHostileAnswers(t *testing.T) {
	t.Run("filter by userName", func(t *testing.T) {
		providertest.RunHostileAnswers(t, providertest.Target{
			Name:      Name,
			Token:     testToken,
			NewClient: Provider{}.NewClient,
			Key:       "bjensen@example.com",
			ValidBody: list(hostileUser),
			WantID:    "2819c223-7f76-453a-919d-413861904646",
			WrapUser:  func(user string) string { return list(user) },
		})
	})
	t.Run("id", func(t *testing.T) {
		providertest.RunHostileAnswers(t, providertest.Target{
			Name:  Name,
			Token: testToken,
			NewClient: func(cfg provider.Config) (provider.Client, error) {
				cfg.Options = Options{KeyAttribute: KeyID}
				return Provider{}.NewClient(cfg)
			},
			Key:       "2819c223-7f76-453a-919d-413861904646",
			ValidBody: hostileUser,
			WantID:    "2819c223-7f76-453a-919d-413861904646",
		})
	})
}

// TestHostileSCIMAnswers covers SCIM-shaped answers no honest server sends.
func TestHostileSCIMAnswers(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		wantKind provider.ErrorKind
		wantText string
	}{
		{"Resources not an array", `{"Resources":{"id":"u1","userName":"k"}}`, provider.KindTransient,
			"decode response: json: cannot unmarshal object into Go value of type []json.RawMessage (Resources)"},
		{"a resource that is not an object", list(`"u1"`), provider.KindTransient,
			"decode response: expected a JSON object, got a string (resource 1 of Resources)"},
		{"a resource without an id", list(`{"userName":"k"}`), provider.KindTransient,
			"decode response: missing id (resource 1 of Resources)"},
		{"an id that is a number", list(`{"id":7,"userName":"k"}`), provider.KindTransient,
			"decode response: json: cannot unmarshal number into Go value of type string (resource 1 of Resources)"},
		{"an unreadable resource beside the match", list(`{"id":"u1","userName":"k"}`, `{"userName":"k"}`), provider.KindTransient,
			"missing id (resource 2 of Resources)"},
		{"an empty id", list(`{"id":"","userName":"k"}`), provider.KindTransient, "missing id"},
		{"the same user twice", list(`{"id":"u1","userName":"k"}`, `{"id":"u1","userName":"K"}`), provider.KindAmbiguousKey,
			`2 users have userName "k": ids "u1", "u1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := lookup(t, nil, "k", tt.body)
			perr := requireError(t, err, tt.wantKind)
			if !strings.Contains(perr.Error(), tt.wantText) {
				t.Errorf("error %q does not say %q", perr, tt.wantText)
			}
		})
	}
}

// TestHostileSCIMValues covers answers that decode but carry values no real user has.
func TestHostileSCIMValues(t *testing.T) {
	huge := strings.Repeat("日", 40<<10)
	tests := []struct {
		name  string
		user  string
		check func(t *testing.T, u provider.User)
	}{
		{"huge values are cut to the documented maxima",
			`{"id":"` + huge + `","userName":"k","displayName":"` + huge + `","emails":["` + huge + `"],"roles":["` + huge + `"]}`,
			func(t *testing.T, u provider.User) {
				for _, s := range []string{u.ID, u.Email, u.DisplayName, u.ProviderRole} {
					if s == "" || !utf8.ValidString(s) || !strings.HasPrefix(huge, s) || len(s) > provider.MaxEmailLength {
						t.Errorf("%d bytes: want a non-empty prefix cut on a character boundary", len(s))
					}
				}
			}},
		{"invalid UTF-8 is replaced",
			"{\"id\":\"u\xff\",\"userName\":\"k\",\"displayName\":\"A\xc3\"}",
			func(t *testing.T, u provider.User) {
				if !utf8.ValidString(u.ID) || !utf8.ValidString(u.DisplayName) {
					t.Errorf("id %q, display name %q: want valid UTF-8", u.ID, u.DisplayName)
				}
			}},
		{"every attribute of the wrong type",
			`{"id":"u1","userName":"k","displayName":7,"name":[1],"emails":{"value":3},"active":{},"roles":[[1],null,{"value":{}}],` +
				`"meta":[],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":"x"}`,
			func(t *testing.T, u provider.User) {
				want := provider.User{ID: "u1", DisplayName: "k", Role: provider.RoleUnknown, State: provider.StateUnknown}
				if !sameUser(u, want) {
					t.Errorf("user %+v, want %+v", u, want)
				}
			}},
		{"thousands of roles",
			`{"id":"u1","userName":"k","roles":[` + strings.Repeat(`{"value":"x"},`, 20000) + `{"value":"owner"}]}`,
			func(t *testing.T, u provider.User) {
				if u.Role != provider.RoleOwner || u.ProviderRole != "owner" {
					t.Errorf("role %s (%q), want Owner from the last value", u.Role, u.ProviderRole)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, mustLookup(t, nil, "k", list(tt.user)))
		})
	}
}
