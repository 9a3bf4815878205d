package providertest

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orgsync/orgsync/internal/provider"
)

// Target is one provider client under attack by RunHostileAnswers.
type Target struct {
	// Name is the provider's name, as errors carry it.
	Name      string
	Token     string
	NewClient func(provider.Config) (provider.Client, error)
	// Key is a valid key; ValidBody a complete 200 answer for it, whose user id is WantID.
	Key       string
	ValidBody string
	WantID    string
	// WrapUser puts one user object into the shape of a 200 answer, for an upstream whose lookup
	// answers a list (a SCIM filter answers a ListResponse); nil means the user is the answer.
	WrapUser func(user string) string
}

// answer is the 200 body carrying user in tg's answer shape.
func (tg Target) answer(user string) string {
	if tg.WrapUser == nil {
		return user
	}
	return tg.WrapUser(user)
}

// hostileRow is one row of the README's "Hostile upstream answers" table: what the upstream does,
// and what the client must make of it.
type hostileRow struct {
	name string
	// start starts the hostile upstream and returns a configuration pointing at it.
	start func(t *testing.T, tg Target) provider.Config
	// wantKind is the error kind, or "" when the answer must be mirrored as a user.
	wantKind provider.ErrorKind
	// wantText must appear in the error's text (the condition message).
	wantText string
	// check makes further assertions on the error, if any.
	check func(t *testing.T, perr *provider.Error)
}

// RunHostileAnswers runs every hostile-answer row against tg. Each row must end in the documented
// error kind and message, or in the documented user; none may panic or put the token in an error.
func RunHostileAnswers(t *testing.T, tg Target) {
	for _, row := range hostileRows() {
		t.Run(row.name, func(t *testing.T) {
			cfg := row.start(t, tg)
			client, err := tg.NewClient(cfg)
			if err != nil {
				t.Fatalf("NewClient: %v", err)
			}
			user, err := client.GetUser(context.Background(), tg.Key)
			if row.wantKind == "" {
				if err != nil {
					t.Fatalf("GetUser: %v; want the user mirrored", err)
				}
				if user.ID != tg.WantID {
					t.Errorf("user id %q, want %q", user.ID, tg.WantID)
				}
				return
			}
			perr := RequireError(t, err, row.wantKind, tg.Name, tg.Token)
			t.Logf("%s: %s", perr.Kind, perr)
			if !strings.Contains(perr.Error(), row.wantText) {
				t.Errorf("error %q does not say %q", perr.Error(), row.wantText)
			}
			if row.check != nil {
				row.check(t, perr)
			}
		})
	}
}

// notAnObject is what the client says of a 200 body that is not one JSON object.
const notAnObject = "decode response: expected a JSON object"

func hostileRows() []hostileRow {
	return []hostileRow{
		{name: "non-JSON 200", start: serve(200, "text/html", "<html><body>It works!</body></html>"),
			wantKind: provider.KindTransient, wantText: notAnObject},
		{name: "JSON array instead of an object", start: serveValid(func(v string) string { return "[" + v + "]" }),
			wantKind: provider.KindTransient, wantText: notAnObject},
		{name: "JSON null", start: serve(200, "application/json", "null"),
			wantKind: provider.KindTransient, wantText: notAnObject},
		{name: "identity fields of the wrong type",
			start:    serveUser(`{"user_id":{"a":1},"id":{"a":1},"email":{"a":1}}`),
			wantKind: provider.KindTransient, wantText: "decode response: json: cannot unmarshal object"},
		{name: "second object after the first", start: serveValid(func(v string) string { return v + `{"id":"evil"}` }),
			wantKind: provider.KindTransient, wantText: "decode response: invalid character"},
		{name: "huge number in an ignored field",
			start: serveValid(func(v string) string { return `{"x":1` + strings.Repeat("0", 100_000) + `e999999,` + v[1:] })},
		{name: "deeply nested body",
			start: serveValid(func(v string) string {
				return `{"x":` + strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000) + "," + v[1:]
			}),
			wantKind: provider.KindTransient, wantText: "exceeded max depth"},
		{name: "body over the 1 MiB cap", start: serveValid(func(v string) string { return v + strings.Repeat(" ", 2<<20) }),
			wantKind: provider.KindTransient, wantText: "response body exceeds 1 MiB"},
		{name: "endless body", start: endlessBody,
			wantKind: provider.KindTransient, wantText: "response body exceeds 1 MiB"},
		{name: "5 MiB error page", start: serve(500, "text/html", "<html>"+strings.Repeat("error ", 5<<20/6)+"</html>"),
			wantKind: provider.KindTransient, wantText: "500 Internal Server Error: <html>error error",
			check: func(t *testing.T, perr *provider.Error) {
				if len(perr.Error()) > 400 {
					t.Errorf("error text is %d bytes; the upstream's message must be cut short", len(perr.Error()))
				}
			}},
		{name: "1 MiB of response headers", start: hugeHeaders,
			wantKind: provider.KindTransient, wantText: "server response headers exceeded 65536 bytes"},
		{name: "body trickling past the timeout", start: trickle,
			wantKind: provider.KindTransient, wantText: "read response body",
			check: func(t *testing.T, perr *provider.Error) {
				if !errors.Is(perr, context.DeadlineExceeded) {
					t.Errorf("error %q is not the request deadline", perr)
				}
			}},
		{name: "wrong Content-Type on a valid answer", start: serveValid(nil, "text/html; charset=iso-8859-1")},
		{name: "no Content-Type on a valid answer", start: serveValid(nil, "")},
		{name: "HTTP/1.0 answer ended by closing the connection", start: http10Close},
		{name: "connection reset mid-body", start: resetMidBody,
			wantKind: provider.KindTransient, wantText: "read response body"},
		{name: "connection closed before an answer", start: closeBeforeAnswer,
			wantKind: provider.KindTransient, wantText: "EOF"},
		{name: "TLS certificate for another name", start: tlsWith(wrongName),
			wantKind: provider.KindTransient, wantText: "tls: failed to verify certificate", check: certificateRefused},
		{name: "TLS certificate expired", start: tlsWith(expired),
			wantKind: provider.KindTransient, wantText: "certificate has expired", check: certificateRefused},
		{name: "self-signed TLS certificate", start: tlsWith(selfSigned),
			wantKind: provider.KindTransient, wantText: "certificate signed by unknown authority", check: certificateRefused},
		{name: "redirect loop", start: redirectLoop,
			wantKind: provider.KindTransient, wantText: "stopped after 10 redirects"},
		{name: "redirect to another host", start: redirectElsewhere(false),
			wantKind: provider.KindTransient, wantText: "refused a redirect to another host than baseURL's"},
		{name: "redirect to plain http", start: redirectElsewhere(true),
			wantKind: provider.KindTransient, wantText: "refused a redirect to a non-https URL"},
		{name: "503 with Retry-After", start: retryAfter(503, "120"),
			wantKind: provider.KindRateLimited, wantText: "503 Service Unavailable", check: waits(2 * time.Minute)},
		{name: "429 with Retry-After", start: retryAfter(429, "7"),
			wantKind: provider.KindRateLimited, wantText: "429 Too Many Requests", check: waits(7 * time.Second)},
		{name: "token echoed in an error body", start: echoToken,
			wantKind: provider.KindUnauthorized, wantText: "401 Unauthorized: rejected Bearer [REDACTED]"},
	}
}

// start starts handler as an HTTPS upstream the client trusts, quieting the server's own log of
// the failures these rows provoke on purpose.
func start(t *testing.T, tg Target, handler http.HandlerFunc) provider.Config {
	t.Helper()
	srv, cfg := TLSUpstream(t, handler, tg.Token)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	return cfg
}

func serve(status int, contentType, body string) func(*testing.T, Target) provider.Config {
	return func(t *testing.T, tg Target) provider.Config {
		return start(t, tg, func(w http.ResponseWriter, _ *http.Request) {
			if contentType != "" {
				w.Header().Set("Content-Type", contentType)
			}
			w.WriteHeader(status)
			_, _ = io.WriteString(w, body)
		})
	}
}

// serveUser answers 200 with user in the target's answer shape.
func serveUser(user string) func(*testing.T, Target) provider.Config {
	return func(t *testing.T, tg Target) provider.Config {
		return serve(200, "application/json", tg.answer(user))(t, tg)
	}
}

// serveValid answers 200 with the target's valid body, changed by edit when given, and with the
// Content-Type given (by default application/json; "" sends none).
func serveValid(edit func(valid string) string, contentType ...string) func(*testing.T, Target) provider.Config {
	return func(t *testing.T, tg Target) provider.Config {
		body := tg.ValidBody
		if edit != nil {
			body = edit(body)
		}
		ct := "application/json"
		if len(contentType) > 0 {
			ct = contentType[0]
		}
		return start(t, tg, func(w http.ResponseWriter, _ *http.Request) {
			// Without any Content-Type, net/http would sniff one; an empty value suppresses that.
			w.Header()["Content-Type"] = nil
			if ct != "" {
				w.Header().Set("Content-Type", ct)
			}
			_, _ = io.WriteString(w, body)
		})
	}
}

func endlessBody(t *testing.T, tg Target) provider.Config {
	return start(t, tg, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		chunk := []byte(`{"id":"` + strings.Repeat("x", 64<<10))
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
}

func hugeHeaders(t *testing.T, tg Target) provider.Config {
	return start(t, tg, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Padding", strings.Repeat("a", 1<<20))
		_, _ = io.WriteString(w, tg.ValidBody)
	})
}

// trickle sends a valid start and then one byte at a time, far slower than the client's timeout.
func trickle(t *testing.T, tg Target) provider.Config {
	cfg := start(t, tg, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		flusher := w.(http.Flusher)
		_, _ = io.WriteString(w, "{")
		flusher.Flush()
		ticker := time.NewTicker(100 * time.Millisecond)
		defer ticker.Stop()
		for {
			select {
			case <-r.Context().Done():
				// Returning would end the chunked body cleanly, and a client that has just given
				// up may still read that end; a hostile upstream never finishes.
				panic(http.ErrAbortHandler)
			case <-ticker.C:
				if _, err := io.WriteString(w, " "); err != nil {
					panic(http.ErrAbortHandler)
				}
				flusher.Flush()
			}
		}
	})
	cfg.Timeout = time.Second
	return cfg
}

// hijack answers by writing raw bytes on the connection; httptest's TLS server speaks HTTP/1.1.
func hijack(t *testing.T, tg Target, answer func(conn net.Conn, rw *bufio.ReadWriter, body string)) provider.Config {
	return start(t, tg, func(w http.ResponseWriter, _ *http.Request) {
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		defer conn.Close()
		answer(conn, rw, tg.ValidBody)
	})
}

func http10Close(t *testing.T, tg Target) provider.Config {
	return hijack(t, tg, func(_ net.Conn, rw *bufio.ReadWriter, body string) {
		// No Content-Length: the body ends when the connection does.
		_, _ = fmt.Fprintf(rw, "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n%s", body)
		_ = rw.Flush()
	})
}

func resetMidBody(t *testing.T, tg Target) provider.Config {
	return hijack(t, tg, func(conn net.Conn, rw *bufio.ReadWriter, body string) {
		_, _ = fmt.Fprintf(rw, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
			len(body)+1000, body[:len(body)/2])
		_ = rw.Flush()
		if tlsConn, ok := conn.(*tls.Conn); ok {
			if tcp, ok := tlsConn.NetConn().(*net.TCPConn); ok {
				_ = tcp.SetLinger(0) // close with a TCP reset, not an orderly shutdown
			}
		}
	})
}

func closeBeforeAnswer(t *testing.T, tg Target) provider.Config {
	return hijack(t, tg, func(net.Conn, *bufio.ReadWriter, string) {})
}

// Certificate defects: the CA the client trusts, and the certificate the server shows.
func wrongName(t *testing.T, trusted *testCA) tls.Certificate {
	spec := loopbackLeaf()
	spec.ips, spec.dnsNames = nil, []string{"other.example.com"}
	return trusted.issue(t, spec)
}

func expired(t *testing.T, trusted *testCA) tls.Certificate {
	spec := loopbackLeaf()
	spec.notBefore, spec.notAfter = time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour)
	return trusted.issue(t, spec)
}

func selfSigned(t *testing.T, _ *testCA) tls.Certificate {
	return (*testCA)(nil).issue(t, loopbackLeaf())
}

func tlsWith(serving func(t *testing.T, trusted *testCA) tls.Certificate) func(*testing.T, Target) provider.Config {
	return func(t *testing.T, tg Target) provider.Config {
		trusted := newTestCA(t)
		var hits atomic.Int32
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			hits.Add(1)
			_, _ = io.WriteString(w, tg.ValidBody)
		}))
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{serving(t, trusted)}}
		srv.Config.ErrorLog = log.New(io.Discard, "", 0)
		srv.StartTLS()
		t.Cleanup(func() {
			srv.Close()
			if hits.Load() != 0 {
				t.Errorf("a request reached a server whose certificate should have been refused")
			}
		})
		cfg := Config(srv, tg.Token)
		cfg.CABundle = trusted.pem
		return cfg
	}
}

func certificateRefused(t *testing.T, perr *provider.Error) {
	var certErr *tls.CertificateVerificationError
	if !errors.As(perr, &certErr) {
		t.Errorf("error %q is not a certificate verification failure", perr)
	}
}

func redirectLoop(t *testing.T, tg Target) provider.Config {
	return start(t, tg, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Path, http.StatusFound)
	})
}

// redirectElsewhere redirects to another server that must never be asked: another https host, or
// a plain http one.
func redirectElsewhere(plain bool) func(*testing.T, Target) provider.Config {
	return func(t *testing.T, tg Target) provider.Config {
		var hits atomic.Int32
		handler := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			hits.Add(1)
			_, _ = io.WriteString(w, tg.ValidBody)
		})
		other := httptest.NewUnstartedServer(handler)
		if plain {
			other.Start()
		} else {
			other.StartTLS()
		}
		t.Cleanup(func() {
			other.Close()
			if hits.Load() != 0 {
				t.Errorf("the redirect was followed to %s", other.URL)
			}
		})
		return start(t, tg, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
		})
	}
}

func retryAfter(status int, value string) func(*testing.T, Target) provider.Config {
	return func(t *testing.T, tg Target) provider.Config {
		return start(t, tg, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", value)
			w.WriteHeader(status)
		})
	}
}

func waits(want time.Duration) func(*testing.T, *provider.Error) {
	return func(t *testing.T, perr *provider.Error) {
		if perr.RetryAfter != want {
			t.Errorf("RetryAfter = %v, want %v", perr.RetryAfter, want)
		}
	}
}

func echoToken(t *testing.T, tg Target) provider.Config {
	return start(t, tg, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, "rejected "+r.Header.Get("Authorization"))
	})
}
