package flashback

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
	if p.Name() != "flashback" {
		t.Errorf("Name() = %q, want flashback", p.Name())
	}
}

// The example answer from the published reference page.
const documentedUser = `{
  "id": "550e8400-e29b-41d4-a716-446655440000",
  "email": "john@example.com",
  "name": "John",
  "lastName": "Doe",
  "orgId": "123e4567-e89b-12d3-a456-426614174000",
  "orgRole": 2,
  "validated": true,
  "deletedAt": null,
  "orgRoleDescription": "WORKSPACES",
  "orgRoles": [0, 1, 2]
}`

func TestGetUserMapsDocumentedExample(t *testing.T) {
	got := getUser(t, documentedUser)
	want := provider.User{
		ID:           "550e8400-e29b-41d4-a716-446655440000",
		Email:        "john@example.com",
		DisplayName:  "John Doe",
		Role:         provider.RoleManager,
		ProviderRole: "WORKSPACES",
		State:        provider.StateActive,
	}
	if got != want {
		t.Errorf("user = %+v, want %+v", got, want)
	}
}

func TestGetUserRoles(t *testing.T) {
	tests := []struct {
		name             string
		fields           string // orgRole / orgRoleDescription members
		wantRole         provider.Role
		wantProviderRole string
	}{
		{"0xff owner", `"orgRole":255,"orgRoleDescription":"OWNER",`, provider.RoleOwner, "OWNER"},
		{"0xfe administrator", `"orgRole":254,"orgRoleDescription":"ADMINISTRATOR",`, provider.RoleAdmin, "ADMINISTRATOR"},
		{"0x02 workspaces", `"orgRole":2,"orgRoleDescription":"WORKSPACES",`, provider.RoleManager, "WORKSPACES"},
		{"0x01 billing", `"orgRole":1,"orgRoleDescription":"BILLING",`, provider.RoleBilling, "BILLING"},
		{"0x00 user", `"orgRole":0,"orgRoleDescription":"USER",`, provider.RoleMember, "USER"},
		{"0x00 without description", `"orgRole":0,`, provider.RoleMember, "0x00"},
		{"0xfe without description", `"orgRole":254,`, provider.RoleAdmin, "0xfe"},
		{"unknown code 0x03", `"orgRole":3,`, provider.RoleUnknown, "0x03"},
		{"unknown code with description", `"orgRole":16,"orgRoleDescription":"AUDITOR",`, provider.RoleUnknown, "AUDITOR"},
		{"empty description falls back to code", `"orgRole":255,"orgRoleDescription":"",`, provider.RoleOwner, "0xff"},
		{"code above one byte keeps its JSON text", `"orgRole":256,`, provider.RoleUnknown, "256"},
		{"code beyond uint64", `"orgRole":18446744073709551616,`, provider.RoleUnknown, "18446744073709551616"},
		{"description is taken verbatim", `"orgRole":1,"orgRoleDescription":"Billing Admin",`, provider.RoleBilling, "Billing Admin"},
		{"absent", ``, provider.RoleUnknown, ""},
		{"null", `"orgRole":null,`, provider.RoleUnknown, ""},
		{"string", `"orgRole":"2",`, provider.RoleUnknown, "2"},
		{"hex string", `"orgRole":"0x03",`, provider.RoleUnknown, "0x03"},
		{"empty string", `"orgRole":"",`, provider.RoleUnknown, ""},
		{"fraction", `"orgRole":2.5,`, provider.RoleUnknown, "2.5"},
		{"integral fraction", `"orgRole":2.0,`, provider.RoleUnknown, "2.0"},
		{"negative", `"orgRole":-1,`, provider.RoleUnknown, "-1"},
		{"boolean", `"orgRole":true,`, provider.RoleUnknown, "true"},
		{"object, compacted", `"orgRole":{ "code" : 2 },`, provider.RoleUnknown, `{"code":2}`},
		{"odd code with description", `"orgRole":"0x03","orgRoleDescription":"AUDITOR",`, provider.RoleUnknown, "AUDITOR"},
		{"odd code with empty description", `"orgRole":-1,"orgRoleDescription":"",`, provider.RoleUnknown, "-1"},
		{"odd code with non-string description", `"orgRole":-1,"orgRoleDescription":5,`, provider.RoleUnknown, "-1"},
		{"description without code", `"orgRoleDescription":"OWNER",`, provider.RoleUnknown, "OWNER"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user := getUser(t, `{`+tt.fields+`"id":"u1","validated":true,"deletedAt":null}`)
			if user.Role != tt.wantRole || user.ProviderRole != tt.wantProviderRole {
				t.Errorf("role, providerRole = %q, %q; want %q, %q", user.Role, user.ProviderRole, tt.wantRole, tt.wantProviderRole)
			}
			if user.ID != "u1" || user.State != provider.StateActive {
				t.Errorf("the rest of the user was lost: %+v", user)
			}
		})
	}
}

func TestGetUserStates(t *testing.T) {
	tests := []struct {
		name          string
		fields        string
		want          provider.State
		wantDeletedAt *time.Time
	}{
		{"validated, not deleted", `"validated":true,"deletedAt":null`, provider.StateActive, nil},
		{"validated absent", `"deletedAt":null`, provider.StateActive, nil},
		{"validated null", `"validated":null`, provider.StateActive, nil},
		{"validated not a boolean", `"validated":"no"`, provider.StateActive, nil},
		{"not validated", `"validated":false,"deletedAt":null`, provider.StatePending, nil},
		{"deleted", `"validated":true,"deletedAt":"2025-02-03T04:05:06.789Z"`, provider.StateDeleted, timeRef("2025-02-03T04:05:06.789Z")},
		{"deleted and not validated", `"validated":false,"deletedAt":"2025-02-03T04:05:06Z"`, provider.StateDeleted, timeRef("2025-02-03T04:05:06Z")},
		{"deleted with an unreadable time", `"validated":true,"deletedAt":"last week"`, provider.StateDeleted, nil},
		{"deleted with a non-string time", `"deletedAt":1738555506`, provider.StateDeleted, nil},
		{"deletedAt empty string is not deleted", `"validated":true,"deletedAt":""`, provider.StateActive, nil},
		{"deletedAt blank is not deleted", `"validated":false,"deletedAt":"  "`, provider.StatePending, nil},
		{"deletedAt absent is not deleted", `"validated":true`, provider.StateActive, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user := getUser(t, `{"id":"u1","orgRole":0,`+tt.fields+`}`)
			if user.State != tt.want {
				t.Errorf("state = %q, want %q", user.State, tt.want)
			}
			if !sameTime(user.DeletedAt, tt.wantDeletedAt) {
				t.Errorf("deletedAt = %v, want %v", user.DeletedAt, tt.wantDeletedAt)
			}
			// Flashback has no such timestamps; nothing may be invented.
			if user.CreatedAt != nil || user.UpdatedAt != nil || user.LastLoginAt != nil {
				t.Errorf("unexpected timestamps: %+v", user)
			}
		})
	}
}

func TestGetUserDisplayName(t *testing.T) {
	tests := []struct {
		fields string
		want   string
	}{
		{`"name":"John","lastName":"Doe"`, "John Doe"},
		{`"name":"John","lastName":""`, "John"},
		{`"name":"John"`, "John"},
		{`"name":"John","lastName":null`, "John"},
		{`"name":"","lastName":"Doe"`, "Doe"},
		{`"name":" John ","lastName":"Doe "`, "John Doe"},
		{`"name":"Al ","lastName":" Smith"`, "Al Smith"},
		{`"name":"Al","lastName":"  "`, "Al"},
		{`"name":"  ","lastName":"Smith"`, "Smith"},
		{`"name":"  ","lastName":"  "`, ""},
		{`"name":"Al\t","lastName":"\nSmith"`, "Al Smith"},
		{`"name":"Mary Ann","lastName":"van der Berg"`, "Mary Ann van der Berg"},
		{`"email":"x@example.com"`, ""},
	}
	for _, tt := range tests {
		user := getUser(t, `{"id":"u1",`+tt.fields+`}`)
		if user.DisplayName != tt.want {
			t.Errorf("%s: displayName = %q, want %q", tt.fields, user.DisplayName, tt.want)
		}
	}
}

func TestGetUserRequest(t *testing.T) {
	tests := []struct {
		key      string
		wantPath string
	}{
		{"550e8400-e29b-41d4-a716-446655440000", "/fb/organization/users/550e8400-e29b-41d4-a716-446655440000"},
		{"alice+ops@example.com", "/fb/organization/users/alice%2Bops@example.com"},
		{"a/b", "/fb/organization/users/a%2Fb"},
		{"..", "/fb/organization/users/%2E%2E"},
		{".", "/fb/organization/users/%2E"},
		{"../../admin", "/fb/organization/users/..%2F..%2Fadmin"},
		{"a?b#c", "/fb/organization/users/a%3Fb%23c"},
		{"50%", "/fb/organization/users/50%25"},
		{"%2e%2e", "/fb/organization/users/%252e%252e"},
		{"with space", "/fb/organization/users/with%20space"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			var requestURI, auth, accept, userAgent string
			srv, _ := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
				requestURI, auth, accept, userAgent = r.RequestURI, r.Header.Get("Authorization"), r.Header.Get("Accept"), r.UserAgent()
				fmt.Fprint(w, documentedUser)
			})
			cfg := testConfig(srv)
			cfg.BaseURL = srv.URL + "/fb/"
			cfg.UserAgent = "orgsync/v0.1.0"
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
			if auth != "Bearer "+testToken || accept != "application/json" || userAgent != "orgsync/v0.1.0" {
				t.Errorf("headers Authorization=%q Accept=%q User-Agent=%q", auth, accept, userAgent)
			}
		})
	}
}

func TestEmptyKeyIsRefusedWithoutRequest(t *testing.T) {
	var hits atomic.Int32
	_, c := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { hits.Add(1) })
	_ = requireError(t, Provider{}.ValidateKey(""), provider.KindInvalidKey)
	_, err := c.GetUser(context.Background(), "")
	_ = requireError(t, err, provider.KindInvalidKey)
	if hits.Load() != 0 {
		t.Errorf("upstream saw %d requests; an empty id would have asked for the whole collection", hits.Load())
	}
	for _, key := range []string{"u1", " ", "a/b", "..", "\x00"} {
		if err := (Provider{}).ValidateKey(key); err != nil {
			t.Errorf("ValidateKey(%q) = %v, want nil: any non-empty id is allowed", key, err)
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
		wantMessage    string
		wantRetryAfter time.Duration
	}{
		{"401", http.StatusUnauthorized, "", `{"success":false,"message":"Invalid token ECHO"}`, provider.KindUnauthorized, []string{"401"}, "Invalid token Bearer [REDACTED]", 0},
		{"403 documented body", http.StatusForbidden, "", `{"success": false, "message": "Insufficient permissions to view users"}`, provider.KindForbidden, []string{"403"}, "Insufficient permissions to view users", 0},
		{"404 documented body", http.StatusNotFound, "", `{"success": false, "message": "User not found"}`, provider.KindNotFound, []string{"404"}, "User not found", 0},
		{"429 with seconds", http.StatusTooManyRequests, "12", `{"success":false,"message":"Too many requests"}`, provider.KindRateLimited, []string{"429"}, "Too many requests", 12 * time.Second},
		{"500 documented body", http.StatusInternalServerError, "", `{"success": false, "message": "Internal server error"}`, provider.KindTransient, []string{"500"}, "Internal server error", 0},
		{"502 from a proxy, not JSON", http.StatusBadGateway, "", "upstream connect error\n", provider.KindTransient, []string{"502"}, "upstream connect error", 0},
		{"418 unexpected", http.StatusTeapot, "", `{"success":false,"message":"I'm a teapot"}`, provider.KindTransient, []string{"418"}, "I'm a teapot", 0},
		{"error JSON without message", http.StatusNotFound, "", `{"success":false}`, provider.KindNotFound, []string{"404"}, `{"success":false}`, 0},
		{"malformed JSON 200", http.StatusOK, "", `{"id": "u1",`, provider.KindTransient, []string{"200", "decode response"}, "decode response", 0},
		{"empty object", http.StatusOK, "", `{}`, provider.KindTransient, []string{"200", "decode response: missing id"}, "decode response", 0},
		{"id absent", http.StatusOK, "", `{"email":"john@example.com","name":"John","orgRole":2}`, provider.KindTransient, []string{"decode response: missing id"}, "decode response", 0},
		{"id empty", http.StatusOK, "", `{"id":"","email":"john@example.com","orgRole":2}`, provider.KindTransient, []string{"decode response: missing id"}, "decode response", 0},
		{"id null", http.StatusOK, "", `{"id":null,"email":"john@example.com","orgRole":2}`, provider.KindTransient, []string{"decode response: missing id"}, "decode response", 0},
		{"body over 1 MiB", http.StatusOK, "", `{"name":"` + strings.Repeat("x", 1<<20) + `"}`, provider.KindTransient, []string{"response body exceeds 1 MiB"}, "read response body", 0},
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
			_, err := c.GetUser(context.Background(), "u1")
			perr := requireError(t, err, tt.wantKind)
			if perr.Message != tt.wantMessage {
				t.Errorf("message = %q, want %q", perr.Message, tt.wantMessage)
			}
			for _, want := range append(tt.wantInText, tt.wantMessage) {
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
		w.Header().Set("Retry-After", time.Now().Add(10*time.Minute).UTC().Format(http.TimeFormat))
		w.WriteHeader(http.StatusTooManyRequests)
	})
	_, err := c.GetUser(context.Background(), "u1")
	perr := requireError(t, err, provider.KindRateLimited)
	if perr.RetryAfter < 8*time.Minute || perr.RetryAfter > 10*time.Minute {
		t.Errorf("RetryAfter = %v, want about 10m", perr.RetryAfter)
	}
}

func TestGetUserContextCancelled(t *testing.T) {
	reached, release := make(chan struct{}), make(chan struct{})
	_, c := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		close(reached)
		<-release
	})
	t.Cleanup(func() { close(release) }) // before the server's Close, which waits for the handler
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-reached; cancel() }()
	_, err := c.GetUser(ctx, "u1")
	_ = requireError(t, err, provider.KindTransient)
	if !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("error %q does not say the request was cancelled", err)
	}
}

func TestNewClientRefusesUnusableConfig(t *testing.T) {
	for name, cfg := range map[string]provider.Config{
		"plain http":        {BaseURL: "http://backend.flashback.tech", Token: testToken},
		"garbage CA bundle": {BaseURL: "https://backend.flashback.tech", Token: testToken, CABundle: []byte("garbage")},
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
