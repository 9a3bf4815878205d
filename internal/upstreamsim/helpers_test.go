package upstreamsim

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"
)

const (
	testToken      = "sk_test_allowed"
	testForbidden  = "sk_test_forbidden"
	mixpeekPath    = "/v1/organizations/users/"
	flashbackPath  = "/organization/users/"
	requestTimeout = 10 * time.Second
)

// startServer starts a simulator over real TLS with one allowed and one forbidden token.
func startServer(t *testing.T) *Server {
	t.Helper()
	s := New()
	if err := s.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(s.Close)
	s.AllowToken(testToken)
	s.ForbidToken(testForbidden)
	return s
}

// trustingClient trusts the simulator's CA and nothing else.
func trustingClient(t *testing.T, s *Server) *http.Client {
	t.Helper()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(s.CABundle()) {
		t.Fatal("CABundle holds no PEM certificate")
	}
	transport := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}
	t.Cleanup(transport.CloseIdleConnections)
	return &http.Client{Transport: transport, Timeout: requestTimeout}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// get sends GET base+path with the token ("" sends no Authorization header). path is used as an
// already escaped path, so "a%2Fb" stays one segment on the wire.
func get(t *testing.T, client *http.Client, s *Server, path, token string) response {
	t.Helper()
	return do(t, context.Background(), client, http.MethodGet, s.URL()+path, token)
}

func do(t *testing.T, ctx context.Context, client *http.Client, method, url, token string) response {
	t.Helper()
	resp, err := send(ctx, client, method, url, token)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return resp
}

func send(ctx context.Context, client *http.Client, method, url, token string) (response, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return response{}, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	return response{status: resp.StatusCode, header: resp.Header, body: body}, nil
}

// decodeObject decodes a JSON object keeping numbers as json.Number, so an integer stays
// distinguishable from a float or a string.
func decodeObject(t *testing.T, body []byte) map[string]any {
	t.Helper()
	decoder := json.NewDecoder(bytes.NewReader(body))
	decoder.UseNumber()
	var object map[string]any
	if err := decoder.Decode(&object); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, body)
	}
	return object
}

// compactJSON normalizes a JSON text for byte comparison; it keeps field order.
func compactJSON(t *testing.T, text string) string {
	t.Helper()
	var buffer bytes.Buffer
	if err := json.Compact(&buffer, []byte(text)); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, text)
	}
	return buffer.String()
}

func wantStatus(t *testing.T, got response, want int) {
	t.Helper()
	if got.status != want {
		t.Fatalf("status = %d, want %d; body %s", got.status, want, got.body)
	}
}

func wantJSONBody(t *testing.T, got response, want string) {
	t.Helper()
	if ct := got.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	if string(got.body) != compactJSON(t, want) {
		t.Errorf("body =\n%s\nwant\n%s", got.body, compactJSON(t, want))
	}
}

func timePtr(t time.Time) *time.Time { return &t }

func mustTime(t *testing.T, value string) time.Time {
	t.Helper()
	parsed, err := time.Parse(time.RFC3339, value)
	if err != nil {
		t.Fatal(err)
	}
	return parsed
}
