package upstreamhttp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/orgsync/orgsync/internal/provider"
)

func TestCheckAddress(t *testing.T) {
	tests := []struct {
		addr string
		// wantPrivate is the outcome without --allow-private-addresses, wantAllowed with it:
		// "" allowed, otherwise a word the refusal must contain.
		wantDefault, wantAllowed string
	}{
		{"93.184.215.14", "", ""},
		{"2606:2800:21f:cb07:6820:80da:af6b:8b2c", "", ""},
		{"8.8.8.8", "", ""},

		{"169.254.169.254", "metadata", "metadata"},
		{"169.254.170.2", "metadata", "metadata"},
		{"169.254.0.1", "link-local", "link-local"},
		{"fe80::1", "link-local", "link-local"},
		{"fd00:ec2::254", "metadata", "metadata"},
		{"fd20:ce::254", "metadata", "metadata"},
		{"100.100.100.200", "metadata", "metadata"},
		{"192.0.0.192", "metadata", "metadata"},
		{"168.63.129.16", "metadata", "metadata"},
		{"::ffff:169.254.169.254", "metadata", "metadata"},
		{"64:ff9b::a9fe:a9fe", "NAT64", "NAT64"},

		{"127.0.0.1", "loopback", ""},
		{"127.255.255.254", "loopback", ""},
		{"::1", "loopback", ""},
		{"::ffff:127.0.0.1", "loopback", ""},
		{"10.96.0.1", "private", ""},
		{"172.16.0.1", "private", ""},
		{"172.31.255.255", "private", ""},
		{"192.168.1.1", "private", ""},
		{"fd12:3456::1", "private", ""},
		{"100.64.0.1", "private", ""},
		{"64:ff9b::a00:1", "NAT64", ""},
		{"0.0.0.0", "special", ""},
		{"::", "special", ""},
		{"224.0.0.1", "special", ""},
		{"ff02::1", "special", ""},
		{"255.255.255.255", "special", ""},
		{"198.18.0.1", "special", ""},

		{"172.32.0.1", "", ""},       // just outside 172.16.0.0/12
		{"100.128.0.1", "", ""},      // just outside carrier-grade NAT
		{"64:ff9b::808:808", "", ""}, // 8.8.8.8 behind NAT64
	}
	for _, tt := range tests {
		addr := netip.MustParseAddr(tt.addr)
		for _, allow := range []bool{false, true} {
			want := tt.wantDefault
			if allow {
				want = tt.wantAllowed
			}
			err := checkAddress(addr, allow)
			switch {
			case want == "" && err != nil:
				t.Errorf("checkAddress(%s, allowPrivate=%v) = %v, want allowed", tt.addr, allow, err)
			case want != "" && err == nil:
				t.Errorf("checkAddress(%s, allowPrivate=%v) allowed it, want a refusal naming %q", tt.addr, allow, want)
			case want != "" && !strings.Contains(err.Error(), want):
				t.Errorf("checkAddress(%s, allowPrivate=%v) = %q, want it to name %q", tt.addr, allow, err, want)
			}
		}
	}
}

func TestDialControlRefusesUnreadableAddress(t *testing.T) {
	if err := dialControl(true)("tcp", "not-an-address", nil); err == nil {
		t.Error("dialControl accepted an address it cannot read")
	}
}

// refusedTarget asserts that a lookup failed at the egress guard, as a transient error naming the
// address, without the server having seen a request.
func refusedTarget(t *testing.T, perr *provider.Error, hits *atomic.Int32, wantText string) {
	t.Helper()
	if perr.Kind != provider.KindTransient || perr.StatusCode != 0 {
		t.Errorf("kind %s status %d, want Transient without a status", perr.Kind, perr.StatusCode)
	}
	var refused *AddressRefusedError
	if !errors.As(perr, &refused) {
		t.Errorf("error %q does not unwrap to an *AddressRefusedError", perr)
	}
	if !strings.Contains(perr.Error(), wantText) {
		t.Errorf("error %q does not say %q", perr, wantText)
	}
	if hits != nil && hits.Load() != 0 {
		t.Errorf("the refused server saw %d requests", hits.Load())
	}
}

func TestEgressGuardRefusesLoopbackByDefault(t *testing.T) {
	var hits atomic.Int32
	srv, cfg := newTLSServer(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprint(w, `{}`)
	})
	cfg.AllowPrivateAddresses = false

	t.Run("IP literal", func(t *testing.T) {
		perr := getError(t, context.Background(), mustNew(t, cfg, Options{}), "u")
		refusedTarget(t, perr, &hits, "egress guard refused to connect to 127.0.0.1: a loopback address, "+
			"allowed only when the manager runs with --allow-private-addresses")
	})
	t.Run("name resolving to loopback", func(t *testing.T) {
		cfg := cfg
		cfg.BaseURL = strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
		perr := getError(t, context.Background(), mustNew(t, cfg, Options{}), "u")
		refusedTarget(t, perr, &hits, "egress guard refused to connect to")
	})
	t.Run("allowed with AllowPrivateAddresses", func(t *testing.T) {
		cfg := cfg
		cfg.AllowPrivateAddresses = true
		var out map[string]any
		if err := mustNew(t, cfg, Options{}).GetJSON(context.Background(), &out, "u"); err != nil {
			t.Fatalf("GetJSON: %v", err)
		}
	})
}

func TestEgressGuardAlwaysRefusesMetadataAddress(t *testing.T) {
	// The guard runs before connect(2), so nothing is sent even where the address is reachable.
	cfg := provider.Config{BaseURL: "https://169.254.169.254", Token: testToken, AllowPrivateAddresses: true}
	perr := getError(t, context.Background(), mustNew(t, cfg, Options{}), "latest", "meta-data")
	refusedTarget(t, perr, nil, "egress guard refused to connect to 169.254.169.254: a link-local or cloud metadata address, never allowed")
}

func TestRedirectsStayOnBaseURLHost(t *testing.T) {
	var otherHits atomic.Int32
	var otherAuth atomic.Value
	_, other := newTLSServer(t, func(w http.ResponseWriter, r *http.Request) {
		otherHits.Add(1)
		otherAuth.Store(r.Header.Get("Authorization"))
		fmt.Fprint(w, `{"name":"other"}`)
	})
	const leakyBody = "you are being redirected to the admin API"
	_, cfg := newTLSServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", other.BaseURL+"/steal")
		w.WriteHeader(http.StatusTemporaryRedirect)
		fmt.Fprint(w, leakyBody)
	})
	perr := getError(t, context.Background(), mustNew(t, cfg, Options{}), "u")
	if perr.Kind != provider.KindTransient || !errors.Is(perr, errRedirectOtherHost) {
		t.Errorf("got %s %q, want Transient refusing the redirect to another host", perr.Kind, perr)
	}
	if otherHits.Load() != 0 {
		t.Errorf("the other host got %d requests (Authorization %q)", otherHits.Load(), otherAuth.Load())
	}
	if text := perr.Error(); strings.Contains(text, leakyBody) || strings.Contains(text, "/steal") {
		t.Errorf("error %q repeats what the redirecting server sent", text)
	}
}

func TestRedirectLoopStops(t *testing.T) {
	var hits atomic.Int32
	_, cfg := newTLSServer(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Redirect(w, r, r.URL.Path, http.StatusFound)
	})
	perr := getError(t, context.Background(), mustNew(t, cfg, Options{}), "u")
	if perr.Kind != provider.KindTransient || !errors.Is(perr, errTooManyRedirects) {
		t.Errorf("got %s %q, want Transient stopping after %d redirects", perr.Kind, perr, maxRedirects)
	}
	if n := hits.Load(); n != maxRedirects {
		t.Errorf("server saw %d requests, want %d", n, maxRedirects)
	}
}
