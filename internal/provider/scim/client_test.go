package scim

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orgsync/orgsync/internal/provider"
	"github.com/orgsync/orgsync/internal/provider/providertest"
)

const alice = `{"id":"u-alice","userName":"alice@example.com","displayName":"Alice Smith","active":true}`

func TestProviderIdentityAndKeys(t *testing.T) {
	var p provider.Provider = Provider{}
	if p.Name() != "scim" {
		t.Errorf("Name() = %q, want scim", p.Name())
	}
	tests := []struct {
		key   string
		valid bool
	}{
		{"alice@example.com", true},
		{"E012345", true},
		{"a b+c\"d\\e", true},
		{"jürgen", true},
		{strings.Repeat("é", 320), true}, // 640 bytes, but 320 characters
		{"", false},
		{strings.Repeat("a", 321), false},
		{"a\nb", false},
		{"a\x00b", false},
		{"a\u0085b", false}, // C1 control
		{"\xffab", false},
	}
	for _, tt := range tests {
		err := p.ValidateKey(tt.key)
		if (err == nil) != tt.valid {
			t.Errorf("ValidateKey(%.40q) = %v, want valid %v", tt.key, err, tt.valid)
		}
		if err != nil {
			_ = requireError(t, err, provider.KindInvalidKey)
		}
	}
}

func TestInvalidKeySendsNoRequest(t *testing.T) {
	var hits atomic.Int32
	_, c := newUpstream(t, nil, func(w http.ResponseWriter, r *http.Request) { hits.Add(1) })
	_, err := c.GetUser(context.Background(), "a\tb")
	_ = requireError(t, err, provider.KindInvalidKey)
	if hits.Load() != 0 {
		t.Errorf("server saw %d requests for an invalid key", hits.Load())
	}
}

func TestNewClientOptions(t *testing.T) {
	_, base := providertest.TLSUpstream(t, providertest.ServeJSON(list(alice)), testToken)
	tests := []struct {
		name    string
		mutate  func(cfg *provider.Config)
		wantErr string
	}{
		{"nil options are the defaults", func(cfg *provider.Config) {}, ""},
		{"options by value", func(cfg *provider.Config) { cfg.Options = Options{KeyAttribute: KeyExternalID} }, ""},
		{"options by pointer", func(cfg *provider.Config) { cfg.Options = &Options{KeyAttribute: KeyID} }, ""},
		{"nil pointer", func(cfg *provider.Config) { cfg.Options = (*Options)(nil) }, ""},
		{"no baseURL", func(cfg *provider.Config) { cfg.BaseURL = "" }, "scim: baseURL is required"},
		{"plain http", func(cfg *provider.Config) { cfg.BaseURL = "http://scim.example.com" }, "scim: baseURL must use https"},
		{"another type", func(cfg *provider.Config) { cfg.Options = map[string]string{} }, "options must be scim.Options, not map[string]string"},
		{"unknown key attribute", func(cfg *provider.Config) { cfg.Options = Options{KeyAttribute: "email"} },
			`keyAttribute "email" is not one of userName, externalId, id`},
		{"key attribute in another case", func(cfg *provider.Config) { cfg.Options = Options{KeyAttribute: "username"} },
			`keyAttribute "username" is not one of`},
		{"role map to an unknown role", func(cfg *provider.Config) {
			cfg.Options = Options{Roles: &RoleMapping{Map: []RoleMapEntry{{Value: "x", Role: "Superuser"}}}}
		}, `roles.map[0] maps "x" to "Superuser", which is not a normalized role`},
		{"role map entry without a value", func(cfg *provider.Config) {
			cfg.Options = Options{Roles: &RoleMapping{Map: []RoleMapEntry{{Value: " ", Role: provider.RoleAdmin}}}}
		}, "roles.map[0] has no value"},
		{"unknown default role", func(cfg *provider.Config) { cfg.Options = Options{Roles: &RoleMapping{Default: "root"}} },
			`roles.default "root" is not a normalized role`},
		{"extension URN without an attribute", func(cfg *provider.Config) {
			cfg.Options = Options{Roles: &RoleMapping{Attribute: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:"}}
		}, "names an extension but no attribute inside it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			tt.mutate(&cfg)
			c, err := Provider{}.NewClient(cfg)
			if tt.wantErr == "" {
				if err != nil || c == nil {
					t.Fatalf("NewClient: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("NewClient error %v, want %q", err, tt.wantErr)
			}
			if c != nil {
				t.Errorf("NewClient returned a client with its error")
			}
		})
	}
}

func TestRoleMappingIsCopied(t *testing.T) {
	opts := &Options{Roles: &RoleMapping{Attribute: "groups", Map: []RoleMapEntry{{Value: "admins", Role: provider.RoleAdmin}}}}
	_, c := newUpstream(t, opts, providertest.ServeJSON(list(`{"id":"u1","userName":"k","groups":["admins"]}`)))
	opts.Roles.Map[0].Role = provider.RoleViewer // the caller's later edit must not reach the running client
	user, err := c.GetUser(context.Background(), "k")
	if err != nil || user.Role != provider.RoleAdmin {
		t.Errorf("user %+v, %v: want Admin from the mapping as configured", user, err)
	}
}

func TestFilterLookupSendsTheRFCFilterAndHeaders(t *testing.T) {
	tests := []struct {
		attribute  string
		key        string
		wantFilter string
		wantRaw    string // must appear in the raw query
	}{
		{KeyUserName, `a"b\c`, `userName eq "a\"b\\c"`, "filter=userName%20eq%20%22a%5C%22b%5C%5Cc%22"},
		{KeyUserName, "erin+ops@example.com", `userName eq "erin+ops@example.com"`, "erin%2Bops%40example.com"},
		{KeyUserName, "Jürgen Groß", `userName eq "Jürgen Groß"`, "J%C3%BCrgen%20Gro%C3%9F"},
		{KeyUserName, "<b>&amp;", `userName eq "<b>&amp;"`, "%3Cb%3E%26amp%3B"},
		{KeyExternalID, "0a21f0f2-8d2a-4f8e", `externalId eq "0a21f0f2-8d2a-4f8e"`, "externalId%20eq%20"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			var got *http.Request
			_, c := newUpstream(t, Options{KeyAttribute: tt.attribute}, func(w http.ResponseWriter, r *http.Request) {
				got = r.Clone(context.Background())
				resource := fmt.Sprintf(`{"id":"u1",%q:%q}`, tt.attribute, tt.key)
				fmt.Fprint(w, list(resource))
			})
			if _, err := c.GetUser(context.Background(), tt.key); err != nil {
				t.Fatalf("GetUser: %v", err)
			}
			if got.URL.Path != "/scim/v2/Users" {
				t.Errorf("path = %q, want /scim/v2/Users", got.URL.Path)
			}
			query := got.URL.Query()
			if len(query) != 1 || len(query["filter"]) != 1 {
				t.Errorf("query %q: want exactly one filter", got.URL.RawQuery)
			}
			if f := query.Get("filter"); f != tt.wantFilter {
				t.Errorf("server decoded filter %s, want %s", f, tt.wantFilter)
			}
			if !strings.Contains(got.URL.RawQuery, tt.wantRaw) || strings.ContainsAny(got.URL.RawQuery, "+ ") {
				t.Errorf("raw query %q: want %q and no + or space", got.URL.RawQuery, tt.wantRaw)
			}
			checkHeaders(t, got)
		})
	}
}

func checkHeaders(t *testing.T, r *http.Request) {
	t.Helper()
	for name, want := range map[string]string{
		"Accept":        "application/scim+json, application/json",
		"Authorization": "Bearer " + testToken,
		"User-Agent":    testUserAgent,
	} {
		if got := r.Header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}

func TestIDLookupRequestsOneEscapedPathSegment(t *testing.T) {
	var got *http.Request
	_, c := newUpstream(t, Options{KeyAttribute: KeyID}, func(w http.ResponseWriter, r *http.Request) {
		got = r.Clone(context.Background())
		w.Header().Set("Content-Type", "application/scim+json") // SCIM's own media type is read like JSON
		fmt.Fprint(w, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"a/b+c d","userName":"bob"}`)
	})
	user, err := c.GetUser(context.Background(), "a/b+c d")
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if user.ID != "a/b+c d" || user.DisplayName != "bob" {
		t.Errorf("user = %+v", user)
	}
	if got.RequestURI != "/scim/v2/Users/a%2Fb%2Bc%20d" {
		t.Errorf("request URI = %q, want the key as one escaped segment and no query", got.RequestURI)
	}
	checkHeaders(t, got)
}

func TestIDLookup404IsNotFound(t *testing.T) {
	_, c := newUpstream(t, Options{KeyAttribute: KeyID}, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/scim+json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"detail":"Resource 42 not found","status":"404"}`)
	})
	_, err := c.GetUser(context.Background(), "42")
	perr := requireError(t, err, provider.KindNotFound)
	if perr.Message != "Resource 42 not found" || perr.StatusCode != http.StatusNotFound {
		t.Errorf("error %q (status %d), want the SCIM detail and 404", perr.Message, perr.StatusCode)
	}
}

func TestFilterAnswersAreReChecked(t *testing.T) {
	tests := []struct {
		name     string
		opts     Options
		key      string
		body     string
		wantID   string
		wantKind provider.ErrorKind
		wantText string
	}{
		{"userName equal ignoring case", Options{}, "Alice@Example.COM", list(alice), "u-alice", "", ""},
		{"externalId must be exact", Options{KeyAttribute: KeyExternalID}, "E012345",
			list(`{"id":"u1","externalId":"e012345"}`), "", provider.KindNotFound, `no user has externalId "E012345"`},
		{"exact externalId", Options{KeyAttribute: KeyExternalID}, "E012345",
			list(`{"id":"u1","externalId":"e012345"}`, `{"id":"u2","externalId":"E012345"}`), "u2", "", ""},
		{"filter ignored: a page of other users", Options{}, "carol@example.com",
			list(alice, `{"id":"u-bob","userName":"bob@example.com"}`), "", provider.KindNotFound, `no user has userName "carol@example.com"`},
		{"filter ignored, the user among others", Options{}, "bob@example.com",
			list(alice, `{"id":"u-bob","userName":"bob@example.com"}`), "u-bob", "", ""},
		{"two users match", Options{}, "alice@example.com",
			list(alice, `{"id":"u-alice-2","userName":"ALICE@example.com"}`), "", provider.KindAmbiguousKey,
			`2 users have userName "alice@example.com": ids "u-alice", "u-alice-2"`},
		{"no Resources", Options{}, "alice@example.com", `{"totalResults":0}`, "", provider.KindNotFound, "no user has userName"},
		{"null Resources", Options{}, "alice@example.com", `{"totalResults":0,"Resources":null}`, "", provider.KindNotFound, "no user has"},
		{"empty Resources", Options{}, "alice@example.com", `{"totalResults":0,"Resources":[]}`, "", provider.KindNotFound, "no user has"},
		{"resources in lower case", Options{}, "alice@example.com", `{"resources":[` + alice + `]}`, "u-alice", "", ""},
		{"userName of another type does not match", Options{}, "7", list(`{"id":"u1","userName":7}`), "", provider.KindNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user, err := lookup(t, tt.opts, tt.key, tt.body)
			if tt.wantKind == "" {
				if err != nil || user.ID != tt.wantID {
					t.Fatalf("GetUser = %+v, %v; want user %s", user, err, tt.wantID)
				}
				return
			}
			perr := requireError(t, err, tt.wantKind)
			if !strings.Contains(perr.Error(), tt.wantText) {
				t.Errorf("error %q does not say %q", perr, tt.wantText)
			}
		})
	}
}

func TestAmbiguousMessageIsBounded(t *testing.T) {
	users := make([]string, 0, 40)
	for i := range 40 {
		users = append(users, fmt.Sprintf(`{"id":"%d-%s","userName":"k"}`, i, strings.Repeat("x", 500)))
	}
	_, err := lookup(t, nil, "k", list(users...))
	perr := requireError(t, err, provider.KindAmbiguousKey)
	if len(perr.Error()) > 600 || !strings.Contains(perr.Message, "40 users") || !strings.Contains(perr.Message, "and 35 more") {
		t.Errorf("message of %d bytes: %q; want the count, five cut ids and how many more", len(perr.Error()), perr.Message)
	}
}

func TestErrorAnswers(t *testing.T) {
	tests := []struct {
		name           string
		status         int
		retryAfter     string
		body           string
		wantKind       provider.ErrorKind
		wantMessage    string
		wantRetryAfter time.Duration
	}{
		{"status as a string", 401, "", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"detail":"Bad token","status":"401"}`,
			provider.KindUnauthorized, "Bad token", 0},
		{"status as a number", 403, "", `{"detail":"Not allowed","status":403}`, provider.KindForbidden, "Not allowed", 0},
		{"wrapped in an error object", 403, "", `{"error":{"Detail":"Scope missing","Status":403}}`,
			provider.KindForbidden, "Scope missing", 0},
		{"wrapped in an Errors array", 500, "", `{"Errors":[{"description":"x","detail":"Boom","code":500}]}`,
			provider.KindTransient, "Boom", 0},
		{"not SCIM: the text", 502, "", "<html>Bad gateway</html>", provider.KindTransient, "<html>Bad gateway</html>", 0},
		{"429 with Retry-After", 429, "30", `{"detail":"Too many requests","status":"429"}`,
			provider.KindRateLimited, "Too many requests", 30 * time.Second},
		{"503 with Retry-After", 503, "5", `{"detail":"Maintenance"}`, provider.KindRateLimited, "Maintenance", 5 * time.Second},
		{"invalidFilter", 400, "", `{"scimType":"invalidFilter","detail":"Filter not supported","status":"400"}`,
			provider.KindInvalidConfig, "the server cannot filter users by userName: invalidFilter: Filter not supported", 0},
		{"invalidSyntax in another case", 400, "", `{"SCIMTYPE":"InvalidSyntax","status":400}`,
			provider.KindInvalidConfig, "the server cannot filter users by userName: InvalidSyntax", 0},
		{"other 400", 400, "", `{"scimType":"tooMany","detail":"Too many results"}`, provider.KindTransient, "tooMany: Too many results", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c := newUpstream(t, nil, func(w http.ResponseWriter, r *http.Request) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			})
			_, err := c.GetUser(context.Background(), "alice@example.com")
			perr := requireError(t, err, tt.wantKind)
			if perr.Message != tt.wantMessage || perr.StatusCode != tt.status || perr.RetryAfter != tt.wantRetryAfter {
				t.Errorf("got %d %q retry %v, want %d %q retry %v", perr.StatusCode, perr.Message, perr.RetryAfter,
					tt.status, tt.wantMessage, tt.wantRetryAfter)
			}
		})
	}
}

func TestInvalidFilterNamesTheConfiguredAttribute(t *testing.T) {
	body := `{"scimType":"invalidFilter","detail":"externalId is not filterable"}`
	_, c := newUpstream(t, Options{KeyAttribute: KeyExternalID}, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, body, http.StatusBadRequest)
	})
	_, err := c.GetUser(context.Background(), "E1")
	perr := requireError(t, err, provider.KindInvalidConfig)
	if want := "the server cannot filter users by externalId: invalidFilter: externalId is not filterable"; perr.Message != want {
		t.Errorf("message %q, want %q", perr.Message, want)
	}
}
