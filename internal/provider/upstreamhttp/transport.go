package upstreamhttp

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/orgsync/orgsync/internal/provider"
)

// maxRedirects matches net/http's default, which a custom CheckRedirect replaces.
const maxRedirects = 10

// newHTTPClient builds the *http.Client for one provider configuration: its own transport (so
// connections are reused between requests of this client, and its TLS settings affect no one else),
// the system roots plus cfg.CABundle, TLS 1.2 or newer, and a per-request timeout.
func newHTTPClient(cfg provider.Config) (*http.Client, error) {
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
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &http.Client{
		Transport:     transport,
		Timeout:       timeout,
		CheckRedirect: refuseInsecureRedirect,
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

// refuseInsecureRedirect follows redirects only to https URLs, so the bearer token and the answer
// never travel in clear text. (net/http already drops Authorization on redirects to other hosts.)
func refuseInsecureRedirect(req *http.Request, via []*http.Request) error {
	if req.URL.Scheme != "https" {
		return errors.New("refused redirect to a non-https URL")
	}
	if len(via) >= maxRedirects {
		return errors.New("stopped after 10 redirects")
	}
	return nil
}
