package upstreamsim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"time"
)

// authority is the simulator's private CA and the serving certificate it signed. Both live in
// memory only; clients trust the server through CABundle, never through the system roots, which is
// exactly the path a caBundle on an OrgProvider takes.
type authority struct {
	caPEM   []byte
	serving tls.Certificate
}

// certificateLifetime is long enough for any demo session; the certificates die with the process.
const certificateLifetime = 365 * 24 * time.Hour

// newAuthority creates the CA and the serving certificate. It panics on failure because the only
// possible cause is a broken crypto/rand or crypto library, which no caller could recover from.
func newAuthority(extraIPs ...net.IP) *authority {
	a, err := generateAuthority(time.Now(), extraIPs...)
	if err != nil {
		panic("upstreamsim: generate certificates: " + err.Error())
	}
	return a
}

func generateAuthority(now time.Time, extraIPs ...net.IP) (*authority, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTemplate := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{CommonName: "orgsync upstreamsim CA", Organization: []string{"orgsync"}},
		NotBefore:             now.Add(-time.Hour), // tolerate small clock skew between processes
		NotAfter:              now.Add(certificateLifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}

	servingKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	servingTemplate := &x509.Certificate{
		SerialNumber: randomSerial(),
		Subject:      pkix.Name{CommonName: "localhost", Organization: []string{"orgsync"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(certificateLifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  append([]net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, extraIPs...),
	}
	servingDER, err := x509.CreateCertificate(rand.Reader, servingTemplate, caCert, &servingKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	servingLeaf, err := x509.ParseCertificate(servingDER)
	if err != nil {
		return nil, err
	}

	return &authority{
		caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		serving: tls.Certificate{
			// Only the leaf: the CA is a root, and a client must already trust it through CABundle.
			Certificate: [][]byte{servingDER},
			PrivateKey:  servingKey,
			Leaf:        servingLeaf,
		},
	}, nil
}

// randomSerial returns a 128-bit serial number; RFC 5280 asks for unique, positive serials.
func randomSerial() *big.Int {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		panic("upstreamsim: random serial: " + err.Error())
	}
	return serial.Add(serial, big.NewInt(1))
}

// discardLogger silences http.Server's own log: tests provoke failed handshakes on purpose, and a
// library must not write to the process's standard logger.
func discardLogger() *log.Logger { return log.New(io.Discard, "", 0) }
