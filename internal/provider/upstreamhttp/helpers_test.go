package upstreamhttp

import (
	"context"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/orgsync/orgsync/internal/provider"
)

const (
	testProvider = "testapi"
	testToken    = "tok_live_9f8e7d6c5b4a-s3cret"
)

// newTLSServer starts an HTTPS test server and returns a config that trusts it through CABundle.
func newTLSServer(t *testing.T, handler http.HandlerFunc) (*httptest.Server, provider.Config) {
	t.Helper()
	srv := httptest.NewTLSServer(handler)
	t.Cleanup(srv.Close)
	return srv, provider.Config{
		BaseURL:  srv.URL,
		Token:    testToken,
		CABundle: certPEM(srv),
		Timeout:  5 * time.Second,
		// The test server listens on loopback.
		AllowPrivateAddresses: true,
	}
}

func certPEM(srv *httptest.Server) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
}

func mustNew(t *testing.T, cfg provider.Config, opts Options) *Client {
	t.Helper()
	c, err := New(testProvider, cfg, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// getError performs one lookup that must fail and returns the *provider.Error after checking that
// the token appears nowhere in its text.
func getError(t *testing.T, ctx context.Context, c *Client, segments ...string) *provider.Error {
	t.Helper()
	var out map[string]any
	err := c.GetJSON(ctx, &out, segments...)
	if err == nil {
		t.Fatalf("GetJSON succeeded with %v, want an error", out)
	}
	assertNoToken(t, err)
	var perr *provider.Error
	if !errors.As(err, &perr) {
		t.Fatalf("error %v (%T) is not a *provider.Error", err, err)
	}
	return perr
}

func assertNoToken(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), testToken) {
		t.Fatalf("error text leaks the token: %q", err.Error())
	}
}
