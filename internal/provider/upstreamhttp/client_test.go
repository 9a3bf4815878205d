package upstreamhttp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/orgsync/orgsync/internal/provider"
)

func TestGetJSONSendsHeadersAndOneEscapedSegmentPerKey(t *testing.T) {
	tests := []struct {
		key      string
		wantPath string
	}{
		{"alice@example.com", "/api/users/alice@example.com"},
		{"alice+ops@example.com", "/api/users/alice%2Bops@example.com"},
		{"a/b", "/api/users/a%2Fb"},
		{"..", "/api/users/%2E%2E"},
		{".", "/api/users/%2E"},
		{"../admin", "/api/users/..%2Fadmin"},
		{"a?b#c", "/api/users/a%3Fb%23c"},
		{"50%", "/api/users/50%25"},
		{"a b", "/api/users/a%20b"},
		{"jürgen", "/api/users/j%C3%BCrgen"},
		{"550e8400-e29b-41d4-a716-446655440000", "/api/users/550e8400-e29b-41d4-a716-446655440000"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			var got *http.Request
			srv, cfg := newTLSServer(t, func(w http.ResponseWriter, r *http.Request) {
				got = r.Clone(context.Background())
				fmt.Fprint(w, `{"ok":true}`)
			})
			// A path prefix with a trailing slash must not produce "//".
			cfg.BaseURL = srv.URL + "/api/"
			cfg.UserAgent = "orgsync-test/1.0"
			c := mustNew(t, cfg, Options{})

			var out struct{ OK bool }
			if err := c.GetJSON(context.Background(), &out, "users", tt.key); err != nil {
				t.Fatalf("GetJSON: %v", err)
			}
			if !out.OK {
				t.Errorf("body not decoded: %+v", out)
			}
			if got.Method != http.MethodGet {
				t.Errorf("method = %s, want GET", got.Method)
			}
			if got.RequestURI != tt.wantPath {
				t.Errorf("request URI = %q, want %q", got.RequestURI, tt.wantPath)
			}
			if h := got.Header.Get("Authorization"); h != "Bearer "+testToken {
				t.Errorf("Authorization = %q, want the bearer token", h)
			}
			if h := got.Header.Get("Accept"); h != "application/json" {
				t.Errorf("Accept = %q", h)
			}
			if h := got.Header.Get("User-Agent"); h != "orgsync-test/1.0" {
				t.Errorf("User-Agent = %q", h)
			}
		})
	}
}

func TestGetJSONDefaultUserAgent(t *testing.T) {
	var userAgent string
	_, cfg := newTLSServer(t, func(w http.ResponseWriter, r *http.Request) {
		userAgent = r.UserAgent()
		fmt.Fprint(w, `{}`)
	})
	var out map[string]any
	if err := mustNew(t, cfg, Options{}).GetJSON(context.Background(), &out, "x"); err != nil {
		t.Fatalf("GetJSON: %v", err)
	}
	if userAgent != DefaultUserAgent {
		t.Errorf("User-Agent = %q, want %q", userAgent, DefaultUserAgent)
	}
}

func TestGetJSONRefusesEmptyKeyWithoutRequest(t *testing.T) {
	var hits atomic.Int32
	_, cfg := newTLSServer(t, func(w http.ResponseWriter, r *http.Request) { hits.Add(1) })
	perr := getError(t, context.Background(), mustNew(t, cfg, Options{}), "users", "")
	if perr.Kind != provider.KindInvalidKey {
		t.Errorf("kind = %s, want InvalidKey", perr.Kind)
	}
	if hits.Load() != 0 {
		t.Errorf("server saw %d requests; an empty key would have listed the collection", hits.Load())
	}
}

func TestGetJSONClassifiesStatuses(t *testing.T) {
	fixedNow := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name           string
		status         int
		retryAfter     string
		body           string
		wantKind       provider.ErrorKind
		wantRetryAfter time.Duration
	}{
		{"401", http.StatusUnauthorized, "", "invalid api key", provider.KindUnauthorized, 0},
		{"403", http.StatusForbidden, "", "Insufficient permissions to view users", provider.KindForbidden, 0},
		{"404", http.StatusNotFound, "", "User not found", provider.KindNotFound, 0},
		{"429 delta seconds", http.StatusTooManyRequests, "7", "slow down", provider.KindRateLimited, 7 * time.Second},
		{"429 HTTP-date", http.StatusTooManyRequests, fixedNow.Add(90 * time.Second).Format(http.TimeFormat), "slow down", provider.KindRateLimited, 90 * time.Second},
		{"429 date in the past", http.StatusTooManyRequests, fixedNow.Add(-time.Minute).Format(http.TimeFormat), "slow down", provider.KindRateLimited, 0},
		{"429 invalid Retry-After", http.StatusTooManyRequests, "soon", "slow down", provider.KindRateLimited, 0},
		{"429 without Retry-After", http.StatusTooManyRequests, "", "slow down", provider.KindRateLimited, 0},
		{"500", http.StatusInternalServerError, "", "Internal server error", provider.KindTransient, 0},
		{"502", http.StatusBadGateway, "", "bad gateway from proxy", provider.KindTransient, 0},
		{"503 with Retry-After", http.StatusServiceUnavailable, "120", "maintenance", provider.KindRateLimited, 2 * time.Minute},
		{"503 with HTTP-date Retry-After", http.StatusServiceUnavailable, fixedNow.Add(time.Minute).Format(http.TimeFormat), "maintenance",
			provider.KindRateLimited, time.Minute},
		{"503 without Retry-After", http.StatusServiceUnavailable, "", "maintenance", provider.KindTransient, 0},
		{"503 with unusable Retry-After", http.StatusServiceUnavailable, "soon", "maintenance", provider.KindTransient, 0},
		{"503 with Retry-After 0", http.StatusServiceUnavailable, "0", "maintenance", provider.KindTransient, 0},
		{"418 unexpected", http.StatusTeapot, "", "short and stout", provider.KindTransient, 0},
		{"400 unexpected", http.StatusBadRequest, "", "bad request", provider.KindTransient, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, cfg := newTLSServer(t, func(w http.ResponseWriter, r *http.Request) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			})
			c := mustNew(t, cfg, Options{Now: func() time.Time { return fixedNow }})
			perr := getError(t, context.Background(), c, "users", "u1")

			if perr.Kind != tt.wantKind {
				t.Errorf("kind = %s, want %s", perr.Kind, tt.wantKind)
			}
			if perr.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", perr.StatusCode, tt.status)
			}
			if perr.RetryAfter != tt.wantRetryAfter {
				t.Errorf("RetryAfter = %v, want %v", perr.RetryAfter, tt.wantRetryAfter)
			}
			if perr.Provider != testProvider {
				t.Errorf("provider = %q", perr.Provider)
			}
			text := perr.Error()
			for _, want := range []string{testProvider, fmt.Sprint(tt.status), tt.body} {
				if !strings.Contains(text, want) {
					t.Errorf("error %q does not mention %q", text, want)
				}
			}
		})
	}
}

func TestGetJSONUsesErrorMessageHookAndFallsBackToText(t *testing.T) {
	hook := func(body []byte) string {
		if s, ok := strings.CutPrefix(string(body), "msg="); ok {
			return s
		}
		return ""
	}
	for body, want := range map[string]string{
		"msg=User not found": "User not found",
		"<html>nope</html>":  "<html>nope</html>",
	} {
		_, cfg := newTLSServer(t, func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, body, http.StatusNotFound)
		})
		perr := getError(t, context.Background(), mustNew(t, cfg, Options{ErrorMessage: hook}), "u")
		if perr.Message != want {
			t.Errorf("body %q: message = %q, want %q", body, perr.Message, want)
		}
	}
}

func TestGetJSONSanitizesUpstreamMessage(t *testing.T) {
	body := "line one\r\n\tline\x00two \u202Eevil\u200b " + string([]byte{0xff, 0xfe}) + strings.Repeat("é", 300)
	_, cfg := newTLSServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, body)
	})
	perr := getError(t, context.Background(), mustNew(t, cfg, Options{}), "u")
	msg := perr.Message
	if !strings.HasPrefix(msg, "line one linetwo evil \uFFFDé") {
		t.Errorf("message = %q, want control and invisible characters removed, lines joined", msg)
	}
	if !utf8.ValidString(msg) {
		t.Errorf("message is not valid UTF-8: %q", msg)
	}
	if len(msg) > maxMessageBytes+len("...") || !strings.HasSuffix(msg, "...") {
		t.Errorf("message is %d bytes (%q), want it truncated to %d plus an ellipsis", len(msg), msg, maxMessageBytes)
	}
}

func TestGetJSONRedactsTokenEchoedByUpstream(t *testing.T) {
	_, cfg := newTLSServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, "token rejected: %s", r.Header.Get("Authorization"))
	})
	perr := getError(t, context.Background(), mustNew(t, cfg, Options{}), "u")
	if perr.Kind != provider.KindUnauthorized {
		t.Errorf("kind = %s", perr.Kind)
	}
	if want := "token rejected: Bearer " + redactedPlaceholder; perr.Message != want {
		t.Errorf("message = %q, want %q", perr.Message, want)
	}
}

func TestGetJSONUndecodableOKBodyIsTransient(t *testing.T) {
	for _, body := range []string{`{"user_id": `, `not json`, ``, `null`, `[]`, `"a string"`, `{"a":1} trailing`} {
		t.Run(body, func(t *testing.T) {
			_, cfg := newTLSServer(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, body) })
			perr := getError(t, context.Background(), mustNew(t, cfg, Options{}), "u")
			if perr.Kind != provider.KindTransient {
				t.Errorf("kind = %s, want Transient", perr.Kind)
			}
			if !strings.Contains(perr.Error(), "decode response") {
				t.Errorf("error %q does not say the response could not be decoded", perr.Error())
			}
		})
	}
}

// identified is a response type that insists on its identity field.
type identified struct {
	ID string `json:"id"`
}

func (v *identified) Validate() error {
	if v.ID == "" {
		return errors.New("missing id")
	}
	return nil
}

func TestGetJSONRunsValidatorAfterDecoding(t *testing.T) {
	for _, body := range []string{`{}`, `{"id":""}`, `{"name":"x"}`, `{"id":null}`} {
		t.Run(body, func(t *testing.T) {
			_, cfg := newTLSServer(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, body) })
			var out identified
			err := mustNew(t, cfg, Options{}).GetJSON(context.Background(), &out, "u")
			var perr *provider.Error
			if !errors.As(err, &perr) {
				t.Fatalf("GetJSON = %v (%+v), want a *provider.Error", err, out)
			}
			if perr.Kind != provider.KindTransient || perr.StatusCode != http.StatusOK {
				t.Errorf("kind, status = %s, %d; want Transient, 200", perr.Kind, perr.StatusCode)
			}
			if !strings.Contains(perr.Error(), "decode response: missing id") {
				t.Errorf("error %q does not say the identity is missing", perr.Error())
			}
		})
	}
	_, cfg := newTLSServer(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"id":"u1"}`) })
	var out identified
	if err := mustNew(t, cfg, Options{}).GetJSON(context.Background(), &out, "u"); err != nil || out.ID != "u1" {
		t.Errorf("GetJSON = %v, %+v; want u1 and no error", err, out)
	}
}

func TestGetJSONBodyCap(t *testing.T) {
	// A JSON object padded with spaces to exactly size bytes.
	object := func(size int) string {
		const core = `{"name":"x"}`
		return core + strings.Repeat(" ", size-len(core))
	}
	t.Run("exactly 1 MiB is read", func(t *testing.T) {
		_, cfg := newTLSServer(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, object(MaxBodyBytes)) })
		var out struct{ Name string }
		if err := mustNew(t, cfg, Options{}).GetJSON(context.Background(), &out, "u"); err != nil {
			t.Fatalf("GetJSON: %v", err)
		}
		if out.Name != "x" {
			t.Errorf("name = %q", out.Name)
		}
	})
	t.Run("one byte more is refused", func(t *testing.T) {
		_, cfg := newTLSServer(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, object(MaxBodyBytes+1)) })
		perr := getError(t, context.Background(), mustNew(t, cfg, Options{}), "u")
		if perr.Kind != provider.KindTransient {
			t.Errorf("kind = %s, want Transient", perr.Kind)
		}
		if !strings.Contains(perr.Error(), "response body exceeds 1 MiB") {
			t.Errorf("error = %q", perr.Error())
		}
	})
}

func TestGetJSONTransportFailuresAreTransient(t *testing.T) {
	t.Run("connection refused", func(t *testing.T) {
		listener, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := listener.Addr().String()
		listener.Close()
		c := mustNew(t, provider.Config{BaseURL: "https://" + addr, Token: testToken, AllowPrivateAddresses: true}, Options{})
		perr := getError(t, context.Background(), c, "u")
		if perr.Kind != provider.KindTransient || perr.Err == nil {
			t.Errorf("got %s with cause %v, want Transient with the cause", perr.Kind, perr.Err)
		}
		var opErr *net.OpError
		if !errors.As(perr, &opErr) {
			t.Errorf("cause %v does not unwrap to a *net.OpError", perr.Err)
		}
	})

	t.Run("server certificate not trusted", func(t *testing.T) {
		var hits atomic.Int32
		srv, cfg := newTLSServer(t, func(w http.ResponseWriter, r *http.Request) { hits.Add(1) })
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake failure is expected
		cfg.CABundle = nil
		perr := getError(t, context.Background(), mustNew(t, cfg, Options{}), "u")
		if perr.Kind != provider.KindTransient {
			t.Errorf("kind = %s, want Transient", perr.Kind)
		}
		var certErr *tls.CertificateVerificationError
		if !errors.As(perr, &certErr) {
			t.Errorf("cause %v is not a certificate verification error", perr.Err)
		}
		if hits.Load() != 0 {
			t.Errorf("request reached an untrusted server")
		}
	})

	t.Run("timeout from cfg.Timeout", func(t *testing.T) {
		handler, release := hangingHandler(nil)
		_, cfg := newTLSServer(t, handler)
		t.Cleanup(release) // registered after the server, so it runs before the server's Close
		cfg.Timeout = 50 * time.Millisecond
		start := time.Now()
		perr := getError(t, context.Background(), mustNew(t, cfg, Options{}), "u")
		if elapsed := time.Since(start); elapsed > time.Second {
			t.Errorf("request took %v; cfg.Timeout was not applied", elapsed)
		}
		if perr.Kind != provider.KindTransient || !errors.Is(perr, context.DeadlineExceeded) {
			t.Errorf("got %s %v, want Transient wrapping context.DeadlineExceeded", perr.Kind, perr)
		}
	})

	t.Run("context cancelled", func(t *testing.T) {
		reached := make(chan struct{})
		handler, release := hangingHandler(reached)
		_, cfg := newTLSServer(t, handler)
		t.Cleanup(release) // registered after the server, so it runs before the server's Close
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-reached; cancel() }()
		perr := getError(t, ctx, mustNew(t, cfg, Options{}), "u")
		if perr.Kind != provider.KindTransient || !errors.Is(perr, context.Canceled) {
			t.Errorf("got %s %v, want Transient wrapping context.Canceled", perr.Kind, perr)
		}
	})

	t.Run("redirect to plain http is refused", func(t *testing.T) {
		var plainHits atomic.Int32
		plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			plainHits.Add(1)
			fmt.Fprint(w, `{}`)
		}))
		t.Cleanup(plain.Close)
		_, cfg := newTLSServer(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, plain.URL+"/stolen", http.StatusFound)
		})
		perr := getError(t, context.Background(), mustNew(t, cfg, Options{}), "u")
		if perr.Kind != provider.KindTransient {
			t.Errorf("kind = %s, want Transient", perr.Kind)
		}
		if plainHits.Load() != 0 {
			t.Errorf("client followed a redirect to plain http")
		}
	})
}

func TestGetJSONFollowsHTTPSRedirect(t *testing.T) {
	_, cfg := newTLSServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved" {
			fmt.Fprint(w, `{"name":"moved"}`)
			return
		}
		http.Redirect(w, r, "/moved", http.StatusMovedPermanently)
	})
	var out struct{ Name string }
	if err := mustNew(t, cfg, Options{}).GetJSON(context.Background(), &out, "u"); err != nil {
		t.Fatalf("GetJSON: %v", err)
	}
	if out.Name != "moved" {
		t.Errorf("name = %q", out.Name)
	}
}

func TestNewRefusesUnusableConfig(t *testing.T) {
	keyPEM := []byte("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF\n-----END PRIVATE KEY-----\n")
	tests := []struct {
		name string
		cfg  provider.Config
	}{
		{"plain http", provider.Config{BaseURL: "http://api.example.com"}},
		{"other scheme", provider.Config{BaseURL: "ftp://api.example.com"}},
		{"empty", provider.Config{BaseURL: ""}},
		{"relative", provider.Config{BaseURL: "api.example.com/v1"}},
		{"no host", provider.Config{BaseURL: "https:///v1"}},
		{"opaque", provider.Config{BaseURL: "https:api.example.com"}},
		{"port only", provider.Config{BaseURL: "https://:443"}},
		{"credentials", provider.Config{BaseURL: "https://user:pw@api.example.com"}},
		{"query", provider.Config{BaseURL: "https://api.example.com/?tenant=a"}},
		{"fragment", provider.Config{BaseURL: "https://api.example.com/#x"}},
		{"unparsable", provider.Config{BaseURL: "https://api.example.com:port"}},
		{"garbage CA bundle", provider.Config{BaseURL: "https://api.example.com", CABundle: []byte("not a certificate")}},
		{"CA bundle without a certificate", provider.Config{BaseURL: "https://api.example.com", CABundle: keyPEM}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Token = testToken
			c, err := New(testProvider, tt.cfg, Options{})
			if err == nil {
				t.Fatalf("New(%+v) = %v, want an error", tt.cfg.BaseURL, c)
			}
			assertNoToken(t, err)
		})
	}
}

func TestNewHTTPClientIsHardened(t *testing.T) {
	base, _ := url.Parse("https://api.example.com")
	hc, err := newHTTPClient(provider.Config{Timeout: 3 * time.Second}, base)
	if err != nil {
		t.Fatal(err)
	}
	tlsConfig := hc.Transport.(*http.Transport).TLSClientConfig
	if tlsConfig.MinVersion < tls.VersionTLS12 || tlsConfig.InsecureSkipVerify {
		t.Errorf("TLS config min=%x insecure=%v, want TLS>=1.2 and verification on", tlsConfig.MinVersion, tlsConfig.InsecureSkipVerify)
	}
	if hc.Timeout != 3*time.Second {
		t.Errorf("timeout = %v", hc.Timeout)
	}
	if transport := hc.Transport.(*http.Transport); transport.Proxy != nil {
		t.Errorf("the transport honours a proxy, which would resolve names out of the egress guard's reach")
	}
	if hc.Transport == http.DefaultTransport {
		t.Errorf("shares http.DefaultTransport; its TLS settings would leak to other users")
	}
	hc, err = newHTTPClient(provider.Config{}, base)
	if err != nil {
		t.Fatal(err)
	}
	if hc.Timeout != DefaultTimeout {
		t.Errorf("timeout without cfg.Timeout = %v, want %v", hc.Timeout, DefaultTimeout)
	}
}

// hangingHandler returns a handler that does not answer until release is called: answering once
// the client gives up would race a (valid) late response against the client's own cancellation. It
// closes reached, if given, when the request arrives. httptest.Server.Close waits for handlers, so
// release must run before it.
func hangingHandler(reached chan struct{}) (handler http.HandlerFunc, release func()) {
	released := make(chan struct{})
	return func(w http.ResponseWriter, r *http.Request) {
		if reached != nil {
			close(reached)
		}
		<-released
	}, func() { close(released) }
}
