package upstreamhttp

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/orgsync/orgsync/internal/provider"
)

const (
	// maxRedirects matches net/http's default, which a custom CheckRedirect replaces.
	maxRedirects = 10
	// maxResponseHeaderBytes bounds the headers an upstream may send (net/http allows 10 MiB);
	// a user lookup's answer has a handful of short headers.
	maxResponseHeaderBytes = 64 << 10
	// dialTimeout and keepAlive are net/http's defaults, restated because the dialer is our own.
	dialTimeout = 30 * time.Second
	keepAlive   = 30 * time.Second
)

// newHTTPClient builds the *http.Client for one provider configuration: its own transport (so
// connections are reused between requests of this client, and its TLS settings affect no one else),
// the system roots plus cfg.CABundle, TLS 1.2 or newer, the egress guard on every dial, redirects
// only within base's host, and a per-request timeout that also bounds reading the body.
func newHTTPClient(cfg provider.Config, base *url.URL) (*http.Client, error) {
	roots, err := rootCAs(cfg.CABundle)
	if err != nil {
		return nil, err
	}
	transport := cloneDefaultTransport()
	// InsecureSkipVerify is deliberately never set: a private CA goes in CABundle instead.
	transport.TLSClientConfig = &tls.Config{
		MinVersion: tls.VersionTLS12,
		RootCAs:    roots,
	}
	transport.DialContext = (&net.Dialer{
		Timeout:   dialTimeout,
		KeepAlive: keepAlive,
		Control:   dialControl(cfg.AllowPrivateAddresses),
	}).DialContext
	// A proxy would resolve and connect to the upstream itself, out of reach of the egress guard,
	// so HTTPS_PROXY and friends are not honoured.
	transport.Proxy = nil
	transport.MaxResponseHeaderBytes = maxResponseHeaderBytes
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &http.Client{
		Transport:     transport,
		Timeout:       timeout,
		CheckRedirect: sameHostRedirectsOnly(base),
	}, nil
}

// rootCAs returns the system roots with the PEM certificates of caBundle added.
func rootCAs(caBundle []byte) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil {
		// No system store (e.g. a scratch image): the CA bundle alone must do.
		pool = x509.NewCertPool()
	}
	if len(bytes.TrimSpace(caBundle)) == 0 {
		return pool, nil
	}
	if !pool.AppendCertsFromPEM(caBundle) {
		return nil, errors.New("caBundle holds no PEM certificate")
	}
	return pool, nil
}

// cloneDefaultTransport copies net/http's tuned defaults (proxy from environment, keep-alives,
// HTTP/2, idle limits) rather than restating them.
func cloneDefaultTransport() *http.Transport {
	if t, ok := http.DefaultTransport.(*http.Transport); ok {
		return t.Clone()
	}
	// Someone replaced http.DefaultTransport; rebuild the same defaults by hand.
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: 1 * time.Second,
	}
}

// sameHostRedirectsOnly follows redirects only to https URLs on base's own host and port, so the
// bearer token and the answer never travel in clear text, the token is never sent to another host
// (net/http would forward it to a subdomain), and a redirect cannot turn the manager into a probe of
// other addresses. The refusal does not repeat the Location, which the upstream chose.
func sameHostRedirectsOnly(base *url.URL) func(req *http.Request, via []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		switch {
		case req.URL.Scheme != "https":
			return errRedirectNotHTTPS
		case !sameHost(req.URL, base):
			return errRedirectOtherHost
		case len(via) >= maxRedirects:
			return errTooManyRedirects
		}
		return nil
	}
}

var (
	errRedirectNotHTTPS  = errors.New("refused a redirect to a non-https URL")
	errRedirectOtherHost = errors.New("refused a redirect to another host than baseURL's")
	errTooManyRedirects  = fmt.Errorf("stopped after %d redirects", maxRedirects)
)

// sameHost compares host names case-insensitively and ports with https' default filled in.
func sameHost(a, b *url.URL) bool {
	return strings.EqualFold(a.Hostname(), b.Hostname()) && effectivePort(a) == effectivePort(b)
}

func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	return "443"
}
