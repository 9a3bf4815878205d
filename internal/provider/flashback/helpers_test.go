package flashback

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/orgsync/orgsync/internal/provider"
	"github.com/orgsync/orgsync/internal/provider/providertest"
)

const testToken = "fb_access_7c1e9a44d2-do-not-leak"

// newUpstream starts an HTTPS stand-in for Flashback and a client that trusts it through CABundle.
func newUpstream(t *testing.T, handler http.HandlerFunc) (*httptest.Server, *Client) {
	t.Helper()
	srv, cfg := providertest.TLSUpstream(t, handler, testToken)
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return srv, c
}

func testConfig(srv *httptest.Server) provider.Config { return providertest.Config(srv, testToken) }

func serveJSON(body string) http.HandlerFunc { return providertest.ServeJSON(body) }

// getUser fetches u1 from an upstream that answers body.
func getUser(t *testing.T, body string) provider.User {
	t.Helper()
	_, c := newUpstream(t, serveJSON(body))
	user, err := c.GetUser(context.Background(), "u1")
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	return user
}

// requireError checks that err is a *provider.Error of kind from Flashback that never contains the token.
func requireError(t *testing.T, err error, kind provider.ErrorKind) *provider.Error {
	t.Helper()
	return providertest.RequireError(t, err, kind, Name, testToken)
}

func timeRef(s string) *time.Time { return providertest.TimeRef(s) }

func sameTime(a, b *time.Time) bool { return providertest.SameTime(a, b) }
