package scim

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/orgsync/orgsync/internal/provider"
	"github.com/orgsync/orgsync/internal/provider/providertest"
)

const (
	testToken = "scim_tok_7c1e9a55b3-do-not-leak"
	// testUserAgent is what the controller passes: orgsync and its version.
	testUserAgent = "orgsync/1.2.3"
)

// newUpstream starts an HTTPS stand-in for a SCIM service below /scim/v2 and a client for it
// configured with opts.
func newUpstream(t *testing.T, opts any, handler http.HandlerFunc) (*httptest.Server, *Client) {
	t.Helper()
	srv, cfg := providertest.TLSUpstream(t, handler, testToken)
	cfg.BaseURL = srv.URL + "/scim/v2"
	cfg.Options = opts
	cfg.UserAgent = testUserAgent
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return srv, c
}

// list wraps users in a ListResponse, as a server answers a filter.
func list(users ...string) string {
	return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":` +
		strconv.Itoa(len(users)) + `,"Resources":[` + strings.Join(users, ",") + "]}"
}

// lookup asks a server that answers body for key with opts.
func lookup(t *testing.T, opts any, key, body string) (provider.User, error) {
	t.Helper()
	_, c := newUpstream(t, opts, providertest.ServeJSON(body))
	return c.GetUser(context.Background(), key)
}

// mustLookup is lookup that must succeed.
func mustLookup(t *testing.T, opts any, key, body string) provider.User {
	t.Helper()
	user, err := lookup(t, opts, key, body)
	if err != nil {
		t.Fatalf("GetUser(%q): %v", key, err)
	}
	return user
}

// requireError checks that err is a *provider.Error of kind from scim that never contains the token.
func requireError(t *testing.T, err error, kind provider.ErrorKind) *provider.Error {
	t.Helper()
	return providertest.RequireError(t, err, kind, Name, testToken)
}

func timeRef(s string) *time.Time { return providertest.TimeRef(s) }

// sameUser compares users field by field, times by instant.
func sameUser(a, b provider.User) bool {
	return a.ID == b.ID && a.Email == b.Email && a.DisplayName == b.DisplayName && a.Role == b.Role &&
		a.ProviderRole == b.ProviderRole && a.State == b.State &&
		providertest.SameTime(a.CreatedAt, b.CreatedAt) && providertest.SameTime(a.UpdatedAt, b.UpdatedAt) &&
		a.LastLoginAt == nil && b.LastLoginAt == nil && a.DeletedAt == nil && b.DeletedAt == nil
}
