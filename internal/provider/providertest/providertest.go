// Package providertest holds what the provider clients' tests share: an HTTPS stand-in for an
// upstream that the client trusts through CABundle, and checks on the errors clients return.
package providertest

import (
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/orgsync/orgsync/internal/provider"
)

// TLSUpstream starts an HTTPS server answering with handler and returns it with a client
// configuration that trusts it through CABundle (never by skipping verification) and sends token.
func TLSUpstream(t *testing.T, handler http.Handler, token string) (*httptest.Server, provider.Config) {
	t.Helper()
	srv := httptest.NewTLSServer(handler)
	t.Cleanup(srv.Close)
	return srv, Config(srv, token)
}

// Config is a client configuration for srv with token. It allows private addresses, because srv
// listens on loopback.
func Config(srv *httptest.Server, token string) provider.Config {
	return provider.Config{
		BaseURL:               srv.URL,
		Token:                 token,
		CABundle:              pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}),
		Timeout:               5 * time.Second,
		AllowPrivateAddresses: true,
	}
}

// ServeJSON answers every request with 200 and body.
func ServeJSON(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprint(w, body)
	}
}

// RequireError checks that err is a *provider.Error of kind from providerName whose text never
// contains token.
func RequireError(t *testing.T, err error, kind provider.ErrorKind, providerName, token string) *provider.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", kind)
	}
	if strings.Contains(err.Error(), token) {
		t.Fatalf("error text leaks the token: %q", err.Error())
	}
	var perr *provider.Error
	if !errors.As(err, &perr) {
		t.Fatalf("error %v (%T) is not a *provider.Error", err, err)
	}
	if perr.Kind != kind {
		t.Fatalf("kind = %s (%v), want %s", perr.Kind, err, kind)
	}
	if perr.Provider != providerName {
		t.Errorf("provider = %q, want %q", perr.Provider, providerName)
	}
	return perr
}

// TimeRef parses an RFC 3339 time for expectations; it panics on a typo in a test table.
func TimeRef(s string) *time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	t = t.UTC()
	return &t
}

// SameTime compares optional times by instant.
func SameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}
