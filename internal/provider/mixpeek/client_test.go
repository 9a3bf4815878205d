package mixpeek

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orgsync/orgsync/internal/provider"
)

func TestProviderIdentity(t *testing.T) {
	var p provider.Provider = Provider{}
	if p.Name() != "mixpeek" {
		t.Errorf("Name() = %q, want mixpeek", p.Name())
	}
}

// The example answer from the published reference page, with last_login added as null.
const documentedUser = `{
  "created_at": "2025-01-01T00:00:00Z",
  "email": "alice@example.com",
  "internal_id": "int_x1y2z3",
  "metadata": {"department": "ML"},
  "organization_id": "org_demo123",
  "role": "member",
  "status": "active",
  "updated_at": "2025-01-02T03:04:05.123456Z",
  "user_id": "usr_a1b2c3d4e5f6g7h",
  "user_name": "Alice Smith",
  "namespace_permissions": [{"namespace": "ns", "role": "viewer"}],
  "last_login": null
}`

func TestGetUserMapsDocumentedExample(t *testing.T) {
	got := getUser(t, documentedUser)
	want := provider.User{
		ID:           "usr_a1b2c3d4e5f6g7h",
		Email:        "alice@example.com",
		DisplayName:  "Alice Smith",
		Role:         provider.RoleMember,
		ProviderRole: "member",
		State:        provider.StateActive,
		CreatedAt:    timeRef("2025-01-01T00:00:00Z"),
		UpdatedAt:    timeRef("2025-01-02T03:04:05.123456Z"),
	}
	if got.ID != want.ID || got.Email != want.Email || got.DisplayName != want.DisplayName ||
		got.Role != want.Role || got.ProviderRole != want.ProviderRole || got.State != want.State {
		t.Errorf("user = %+v, want %+v", got, want)
	}
	if !sameTime(got.CreatedAt, want.CreatedAt) || !sameTime(got.UpdatedAt, want.UpdatedAt) {
		t.Errorf("createdAt/updatedAt = %v/%v, want %v/%v", got.CreatedAt, got.UpdatedAt, want.CreatedAt, want.UpdatedAt)
	}
	if got.LastLoginAt != nil || got.DeletedAt != nil {
		t.Errorf("lastLoginAt/deletedAt = %v/%v, want nil (null last_login, no deletion time)", got.LastLoginAt, got.DeletedAt)
	}
}

func TestGetUserRoles(t *testing.T) {
	tests := []struct {
		name             string
		roleJSON         string // the "role" member, or "" for absent
		wantRole         provider.Role
		wantProviderRole string
	}{
		{"admin", `"role":"admin",`, provider.RoleAdmin, "admin"},
		{"member", `"role":"member",`, provider.RoleMember, "member"},
		{"viewer", `"role":"viewer",`, provider.RoleViewer, "viewer"},
		{"undocumented value", `"role":"owner",`, provider.RoleUnknown, "owner"},
		{"different case", `"role":"Admin",`, provider.RoleUnknown, "Admin"},
		{"empty", `"role":"",`, provider.RoleUnknown, ""},
		{"null", `"role":null,`, provider.RoleUnknown, ""},
		{"not a string keeps its JSON text", `"role":7,`, provider.RoleUnknown, "7"},
		{"negative number", `"role":-1,`, provider.RoleUnknown, "-1"},
		{"fraction", `"role":2.5,`, provider.RoleUnknown, "2.5"},
		{"boolean", `"role":true,`, provider.RoleUnknown, "true"},
		{"object, compacted", `"role":{ "a" : 1 },`, provider.RoleUnknown, `{"a":1}`},
		{"array", `"role":["admin"],`, provider.RoleUnknown, `["admin"]`},
		{"absent", ``, provider.RoleUnknown, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user := getUser(t, `{`+tt.roleJSON+`"user_id":"u1","email":"alice@example.com","user_name":"A","status":"active"}`)
			if user.Role != tt.wantRole || user.ProviderRole != tt.wantProviderRole {
				t.Errorf("role, providerRole = %q, %q; want %q, %q", user.Role, user.ProviderRole, tt.wantRole, tt.wantProviderRole)
			}
			if user.ID != "u1" {
				t.Errorf("the rest of the user was lost: %+v", user)
			}
		})
	}
}

func TestGetUserStates(t *testing.T) {
	tests := []struct {
		name       string
		statusJSON string
		want       provider.State
	}{
		{"active", `"status":"active",`, provider.StateActive},
		{"suspended", `"status":"suspended",`, provider.StateSuspended},
		{"pending", `"status":"pending",`, provider.StatePending},
		{"undocumented value", `"status":"deleted",`, provider.StateUnknown},
		{"different case", `"status":"Active",`, provider.StateUnknown},
		{"null", `"status":null,`, provider.StateUnknown},
		{"not a string", `"status":true,`, provider.StateUnknown},
		{"absent", ``, provider.StateUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user := getUser(t, `{`+tt.statusJSON+`"user_id":"u1","email":"alice@example.com","role":"admin"}`)
			if user.State != tt.want {
				t.Errorf("state = %q, want %q", user.State, tt.want)
			}
		})
	}
}

func TestGetUserTimestamps(t *testing.T) {
	tests := []struct {
		name      string
		lastLogin string // JSON value of last_login, or "" for absent
		want      *time.Time
	}{
		{"null", `null`, nil},
		{"absent", ``, nil},
		{"UTC", `"2025-03-04T05:06:07Z"`, timeRef("2025-03-04T05:06:07Z")},
		{"fractional seconds", `"2025-03-04T05:06:07.123456789Z"`, timeRef("2025-03-04T05:06:07.123456789Z")},
		{"offset", `"2025-03-04T07:06:07+02:00"`, timeRef("2025-03-04T05:06:07Z")},
		{"no zone, documented as UTC", `"2025-03-04T05:06:07.5"`, timeRef("2025-03-04T05:06:07.5Z")},
		{"unparsable", `"yesterday"`, nil},
		{"not a string", `1741064767`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			field := ""
			if tt.lastLogin != "" {
				field = `"last_login":` + tt.lastLogin + `,`
			}
			user := getUser(t, `{`+field+`"user_id":"u1","email":"alice@example.com","status":"active","created_at":"2025-01-01T00:00:00Z"}`)
			if !sameTime(user.LastLoginAt, tt.want) {
				t.Errorf("lastLoginAt = %v, want %v", user.LastLoginAt, tt.want)
			}
			// One odd timestamp must not cost the rest of the user.
			if user.State != provider.StateActive || !sameTime(user.CreatedAt, timeRef("2025-01-01T00:00:00Z")) {
				t.Errorf("rest of the user damaged: %+v", user)
			}
		})
	}
}

func TestGetUserRequest(t *testing.T) {
	tests := []struct {
		key      string
		wantPath string
	}{
		{"alice@example.com", "/prefix/v1/organizations/users/alice@example.com"},
		{"alice+ops@example.com", "/prefix/v1/organizations/users/alice%2Bops@example.com"},
		{"a/b@example.com", "/prefix/v1/organizations/users/a%2Fb@example.com"},
		{"../admin@example.com", "/prefix/v1/organizations/users/..%2Fadmin@example.com"},
		{"a?b#c@example.com", "/prefix/v1/organizations/users/a%3Fb%23c@example.com"},
		{"50%@example.com", "/prefix/v1/organizations/users/50%25@example.com"},
		{"jörg@exämple.com", "/prefix/v1/organizations/users/j%C3%B6rg@ex%C3%A4mple.com"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			var requestURI, auth, accept, userAgent string
			srv, _ := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
				requestURI, auth, accept, userAgent = r.RequestURI, r.Header.Get("Authorization"), r.Header.Get("Accept"), r.UserAgent()
				fmt.Fprint(w, documentedUser)
			})
			cfg := testConfig(srv)
			cfg.BaseURL = srv.URL + "/prefix/"
			c, err := NewClient(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.GetUser(context.Background(), tt.key); err != nil {
				t.Fatalf("GetUser: %v", err)
			}
			if requestURI != tt.wantPath {
				t.Errorf("request URI = %q, want %q", requestURI, tt.wantPath)
			}
			if auth != "Bearer "+testToken || accept != "application/json" || userAgent != "orgsync" {
				t.Errorf("headers Authorization=%q Accept=%q User-Agent=%q", auth, accept, userAgent)
			}
		})
	}
}

func TestInvalidKeysAreRefusedWithoutRequest(t *testing.T) {
	var hits atomic.Int32
	_, c := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprint(w, documentedUser)
	})
	for _, key := range []string{
		"",
		"alice",
		"@example.com",
		"alice@",
		"@",
		"alice@example.com@evil.com",
		"alice@@example.com",
		"alice @example.com",
		" alice@example.com",
		"alice@example.com\n",
		"alice\t@example.com",
		"alice\x00@example.com",
		"alice\x7f@example.com",
		"alice\u00a0@example.com", // no-break space
		"alice\u2028@example.com", // line separator
		"alice\u3000@example.com", // ideographic space
		"alice\u0085@example.com", // C1 control (NEL)
		"alice\u009b@example.com", // C1 control (CSI)
		"alice\xff@example.com",   // invalid UTF-8
		"alice@example.com\xc3",   // truncated UTF-8 sequence
		"Alice <alice@example.com>",
		"alice@example.com, bob@example.com",
		"alice@example.com,bob@example.com",
	} {
		t.Run(fmt.Sprintf("%q", key), func(t *testing.T) {
			_ = requireError(t, Provider{}.ValidateKey(key), provider.KindInvalidKey)
			_, err := c.GetUser(context.Background(), key)
			perr := requireError(t, err, provider.KindInvalidKey)
			if perr.StatusCode != 0 {
				t.Errorf("status = %d, want none", perr.StatusCode)
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("upstream saw %d requests for invalid keys, want none", n)
	}
}

// TestValidKeys holds the contract's rule and nothing stricter: one "@", both sides non-empty, no
// whitespace or control characters. Other punctuation and invisible format characters are the
// upstream's business (it answers 404 for an address it does not know).
func TestValidKeys(t *testing.T) {
	for _, key := range []string{
		"alice@example.com",
		"alice+ops@example.com",
		"a@b",
		"o'brien@example.co.uk",
		"jörg@exämple.com",
		"a<b@example.com",
		"<alice@example.com>",
		"alice@example.com>",
		"al\u200dice@example.com", // zero-width joiner (Cf)
		"alice\u200b@example.com", // zero-width space (Cf, not whitespace to unicode.IsSpace)
		"alice\u202e@example.com", // right-to-left override (Cf)
		"\"a,b\"@example.com",
	} {
		if err := (Provider{}).ValidateKey(key); err != nil {
			t.Errorf("ValidateKey(%q) = %v, want nil", key, err)
		}
	}
}

func TestGetUserErrors(t *testing.T) {
	tests := []struct {
		name           string
		status         int
		retryAfter     string
		body           string
		wantKind       provider.ErrorKind
		wantInText     []string
		wantRetryAfter time.Duration
	}{
		{"401 echoing the credential", http.StatusUnauthorized, "", "bad key: ECHO", provider.KindUnauthorized, []string{"401", "bad key: Bearer [REDACTED]"}, 0},
		{"403", http.StatusForbidden, "", `{"detail":"not allowed"}`, provider.KindForbidden, []string{"403", `{"detail":"not allowed"}`}, 0},
		{"404", http.StatusNotFound, "", `{"detail":"User not found"}`, provider.KindNotFound, []string{"404", "User not found"}, 0},
		{"429 with seconds", http.StatusTooManyRequests, "30", "rate limited", provider.KindRateLimited, []string{"429", "rate limited"}, 30 * time.Second},
		{"500", http.StatusInternalServerError, "", "boom", provider.KindTransient, []string{"500", "boom"}, 0},
		{"502", http.StatusBadGateway, "", "<html>Bad Gateway</html>", provider.KindTransient, []string{"502", "<html>Bad Gateway</html>"}, 0},
		{"418 unexpected", http.StatusTeapot, "", "teapot", provider.KindTransient, []string{"418", "teapot"}, 0},
		{"malformed JSON 200", http.StatusOK, "", `{"user_id": "u1"`, provider.KindTransient, []string{"decode response"}, 0},
		{"identity field of the wrong type", http.StatusOK, "", `{"user_id": 42}`, provider.KindTransient, []string{"decode response"}, 0},
		{"empty object", http.StatusOK, "", `{}`, provider.KindTransient, []string{"200", "decode response: missing email"}, 0},
		{"email absent", http.StatusOK, "", `{"user_id":"u1","user_name":"A","role":"admin","status":"active"}`, provider.KindTransient, []string{"decode response: missing email"}, 0},
		{"email empty", http.StatusOK, "", `{"user_id":"u1","email":"","role":"admin","status":"active"}`, provider.KindTransient, []string{"decode response: missing email"}, 0},
		{"email null", http.StatusOK, "", `{"user_id":"u1","email":null,"role":"admin","status":"active"}`, provider.KindTransient, []string{"decode response: missing email"}, 0},
		{"body over 1 MiB", http.StatusOK, "", `{"user_name":"` + strings.Repeat("a", 1<<20) + `"}`, provider.KindTransient, []string{"response body exceeds 1 MiB"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				w.WriteHeader(tt.status)
				fmt.Fprint(w, strings.ReplaceAll(tt.body, "ECHO", r.Header.Get("Authorization")))
			})
			_, err := c.GetUser(context.Background(), "alice@example.com")
			perr := requireError(t, err, tt.wantKind)
			for _, want := range tt.wantInText {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err.Error(), want)
				}
			}
			if perr.RetryAfter != tt.wantRetryAfter {
				t.Errorf("RetryAfter = %v, want %v", perr.RetryAfter, tt.wantRetryAfter)
			}
		})
	}
}

func TestGetUserRateLimitedWithHTTPDate(t *testing.T) {
	_, c := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat))
		w.WriteHeader(http.StatusTooManyRequests)
	})
	_, err := c.GetUser(context.Background(), "alice@example.com")
	perr := requireError(t, err, provider.KindRateLimited)
	// HTTP-dates have whole seconds, so allow for the truncation and a slow machine.
	if perr.RetryAfter < 58*time.Minute || perr.RetryAfter > time.Hour {
		t.Errorf("RetryAfter = %v, want about 1h", perr.RetryAfter)
	}
}

func TestGetUserTimeout(t *testing.T) {
	release := make(chan struct{})
	srv, _ := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { <-release })
	t.Cleanup(func() { close(release) }) // before the server's Close, which waits for the handler
	cfg := testConfig(srv)
	cfg.Timeout = 50 * time.Millisecond
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetUser(context.Background(), "alice@example.com")
	_ = requireError(t, err, provider.KindTransient)
	if !strings.Contains(err.Error(), "Client.Timeout") {
		t.Errorf("error %q does not say the request timed out", err)
	}
}

func TestNewClientRefusesUnusableConfig(t *testing.T) {
	for name, cfg := range map[string]provider.Config{
		"plain http":        {BaseURL: "http://api.mixpeek.com", Token: testToken},
		"garbage CA bundle": {BaseURL: "https://api.mixpeek.com", Token: testToken, CABundle: []byte("-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n")},
	} {
		c, err := Provider{}.NewClient(cfg)
		if err == nil || c != nil {
			t.Errorf("%s: NewClient = %v, %v; want a nil client and an error", name, c, err)
			continue
		}
		if strings.Contains(err.Error(), testToken) {
			t.Errorf("%s: error leaks the token: %v", name, err)
		}
	}
}

func TestNewClientDefaultsBaseURL(t *testing.T) {
	// The CRD defaults baseURL; an empty one still means the public API rather than an error.
	if _, err := (Provider{}).NewClient(provider.Config{Token: testToken}); err != nil {
		t.Errorf("NewClient without BaseURL: %v", err)
	}
}
