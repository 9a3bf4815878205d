package upstreamsim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
)

func TestClientTrustingOnlyCABundleConnects(t *testing.T) {
	s := startServer(t)
	s.PutFlashbackUser(FlashbackUser{ID: "u1"})

	if !strings.HasPrefix(s.URL(), "https://127.0.0.1:") {
		t.Fatalf("URL() = %q, want https://127.0.0.1:PORT", s.URL())
	}
	got := get(t, trustingClient(t, s), s, flashbackPath+"u1", testToken)
	wantStatus(t, got, http.StatusOK)
}

func TestClientWithoutCABundleIsRejected(t *testing.T) {
	s := startServer(t)
	clients := map[string]*http.Client{
		"system roots": {Transport: &http.Transport{}},
		"empty pool":   {Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: x509.NewCertPool()}}},
		"another simulator's CA": func() *http.Client {
			return trustingClient(t, New())
		}(),
	}
	for name, client := range clients {
		t.Run(name, func(t *testing.T) {
			_, err := send(t.Context(), client, http.MethodGet, s.URL()+flashbackPath+"u1", testToken)
			var unknownAuthority x509.UnknownAuthorityError
			if !errors.As(err, &unknownAuthority) {
				t.Fatalf("error = %v, want x509.UnknownAuthorityError", err)
			}
		})
	}
}

func TestServingCertificateNamesLoopbackAndChainsToP256CA(t *testing.T) {
	s := startServer(t)

	block, rest := pem.Decode(s.CABundle())
	if block == nil || block.Type != "CERTIFICATE" || len(strings.TrimSpace(string(rest))) != 0 {
		t.Fatalf("CABundle is not exactly one PEM certificate:\n%s", s.CABundle())
	}
	ca, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	caKey, ok := ca.PublicKey.(*ecdsa.PublicKey)
	if !ok || caKey.Curve != elliptic.P256() {
		t.Errorf("CA key is %T, want ECDSA P-256", ca.PublicKey)
	}
	if !ca.IsCA {
		t.Error("CA certificate is not marked as a CA")
	}

	conn, err := tls.Dial("tcp", strings.TrimPrefix(s.URL(), "https://"), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	leaf := conn.ConnectionState().PeerCertificates[0]

	verifiesOnlyFor(t, leaf, ca, []string{"127.0.0.1", "::1", "localhost"}, "example.com")
}

// verifiesOnlyFor checks that leaf, signed by ca, verifies for each of names and not for other.
func verifiesOnlyFor(t *testing.T, leaf, ca *x509.Certificate, names []string, other string) {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	for _, name := range names {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: roots}); err != nil {
			t.Errorf("serving certificate does not verify for %q: %v", name, err)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: other, Roots: roots}); err == nil {
		t.Errorf("serving certificate verifies for %s, which it must not name", other)
	}
}

func TestStartTwiceFailsAndURLIsEmptyBeforeStart(t *testing.T) {
	s := New()
	if s.URL() != "" {
		t.Errorf("URL() before Start = %q, want empty", s.URL())
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Start(); err == nil {
		t.Error("second Start succeeded, want an error")
	}
}

// A simulator that clients reach at another address (the e2e suite's pods, at the node's address)
// must present a certificate for that address, and still for loopback.
func TestNewWithIPsNamesTheGivenAddresses(t *testing.T) {
	extra := net.ParseIP("10.213.0.1")
	s := NewWithIPs(extra)
	leaf := s.authority.serving.Leaf
	block, _ := pem.Decode(s.CABundle())
	ca, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	verifiesOnlyFor(t, leaf, ca, []string{"10.213.0.1", "127.0.0.1", "localhost"}, "10.213.0.2")
}
