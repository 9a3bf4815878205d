package flashback

import (
	"context"
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

const testToken = "fb_access_7c1e9a44d2-do-not-leak"

// newUpstream starts an HTTPS stand-in for Flashback and a client that trusts it through CABundle.
func newUpstream(t *testing.T, handler http.HandlerFunc) (*httptest.Server, *Client) {
	t.Helper()
	srv := httptest.NewTLSServer(handler)
	t.Cleanup(srv.Close)
	c, err := NewClient(testConfig(srv))
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return srv, c
}

func testConfig(srv *httptest.Server) provider.Config {
	return provider.Config{
		BaseURL:  srv.URL,
		Token:    testToken,
		CABundle: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}),
		Timeout:  5 * time.Second,
	}
}

// serveJSON answers every request with 200 and body.
func serveJSON(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, body)
	}
}

// getUser fetches user u1 from an upstream that answers body.
func getUser(t *testing.T, body string) provider.User {
	t.Helper()
	_, c := newUpstream(t, serveJSON(body))
	user, err := c.GetUser(context.Background(), "u1")
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	return user
}

// requireError checks that err is a *provider.Error of kind whose text never contains the token.
func requireError(t *testing.T, err error, kind provider.ErrorKind) *provider.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", kind)
	}
	if strings.Contains(err.Error(), testToken) {
		t.Fatalf("error text leaks the token: %q", err.Error())
	}
	var perr *provider.Error
	if !errors.As(err, &perr) {
		t.Fatalf("error %v (%T) is not a *provider.Error", err, err)
	}
	if perr.Kind != kind {
		t.Fatalf("kind = %s (%v), want %s", perr.Kind, err, kind)
	}
	if perr.Provider != Name {
		t.Errorf("provider = %q, want %q", perr.Provider, Name)
	}
	return perr
}

func timeRef(s string) *time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	t = t.UTC()
	return &t
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}
