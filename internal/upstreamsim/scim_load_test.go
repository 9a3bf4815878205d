package upstreamsim

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

// scimFixture starts a server with one SCIM user (and one of each other provider, from
// faultFixture) and returns the path of its userName lookup.
func scimFixture(t *testing.T) (*Server, *http.Client, string) {
	t.Helper()
	s, client := faultFixture(t)
	s.PutSCIMUser(SCIMUser{ID: "id-1", UserName: "alice@example.com", Active: true})
	return s, client, scimFilterPath(t, "userName", "alice@example.com")
}

func TestSCIMAuthentication(t *testing.T) {
	s, client, lookup := scimFixture(t)
	cases := []struct {
		name  string
		token string
		want  int
	}{
		{"missing token", "", http.StatusUnauthorized},
		{"unknown token", "sk_test_unknown", http.StatusUnauthorized},
		{"forbidden token", testForbidden, http.StatusForbidden},
	}
	for _, tc := range cases {
		for _, path := range []string{lookup, scimUsers + "/id-1", SCIMBasePath + "/ServiceProviderConfig"} {
			t.Run(tc.name+" "+path, func(t *testing.T) {
				got := get(t, client, s, path, tc.token)
				wantSCIMError(t, got, tc.want, "")
				if tc.want == http.StatusUnauthorized && got.header.Get("WWW-Authenticate") != "Bearer" {
					t.Errorf("WWW-Authenticate = %q, want Bearer", got.header.Get("WWW-Authenticate"))
				}
			})
		}
	}
	wantStatus(t, get(t, client, s, lookup, testToken), http.StatusOK)
	s.RevokeToken(testToken)
	wantSCIMError(t, get(t, client, s, lookup, testToken), http.StatusUnauthorized, "")
}

func TestSCIMCountersCountEveryRequestByItsKey(t *testing.T) {
	s, client, lookup := scimFixture(t)
	get(t, client, s, lookup, testToken)                                             // 200
	get(t, client, s, lookup, "")                                                    // 401
	get(t, client, s, scimFilterPath(t, "externalId", "alice@example.com"), "")      // same key, other attribute
	get(t, client, s, scimUsers+"/id-1", testToken)                                  // by id
	get(t, client, s, scimRawFilterPath("active eq true"), testToken)                // a listing: key ""
	get(t, client, s, scimRawFilterPath(`nosuch eq "alice@example.com"`), testToken) // 400: key ""
	get(t, client, s, mixpeekPath+"alice@example.com", testToken)                    // another provider

	if n := s.Requests(ProviderSCIM, "alice@example.com"); n != 3 {
		t.Errorf("Requests(scim, alice) = %d, want 3", n)
	}
	if n := s.Requests(ProviderSCIM, "id-1"); n != 1 {
		t.Errorf("Requests(scim, id-1) = %d, want 1", n)
	}
	if n := s.Requests(ProviderSCIM, ""); n != 2 {
		t.Errorf(`Requests(scim, "") = %d, want 2`, n)
	}
	if n := s.ProviderRequests(ProviderSCIM); n != 6 {
		t.Errorf("ProviderRequests(scim) = %d, want 6", n)
	}
	if n := s.TotalRequests(); n != 7 {
		t.Errorf("TotalRequests() = %d, want 7", n)
	}
	get(t, client, s, "/scim/v2x/Users", testToken) // not below the base: not a route
	if n := s.TotalRequests(); n != 7 {
		t.Errorf("TotalRequests() = %d after a path beside the base, want 7", n)
	}
	s.ResetCounters()
	if s.ProviderRequests(ProviderSCIM) != 0 || s.Requests(ProviderSCIM, "alice@example.com") != 0 {
		t.Error("ResetCounters left SCIM counts behind")
	}
}

func TestSCIMFaultsAnswerWithSCIMBodiesThenHandBack(t *testing.T) {
	s, client, lookup := scimFixture(t)
	s.InjectFault(ProviderSCIM, Fault{Status: http.StatusServiceUnavailable, RetryAfter: "3", Times: 1})
	s.InjectFault(ProviderSCIM, Fault{Status: http.StatusBadGateway, Body: "<html>bad gateway</html>", ContentType: "text/html", Times: 1})

	got := get(t, client, s, lookup, testToken)
	wantSCIMError(t, got, http.StatusServiceUnavailable, "")
	if ra := got.header.Get("Retry-After"); ra != "3" {
		t.Errorf("Retry-After = %q, want 3", ra)
	}
	// The other providers are not affected.
	wantStatus(t, get(t, client, s, flashbackPath+"u1", testToken), http.StatusOK)
	raw := get(t, client, s, lookup, testToken)
	if raw.status != http.StatusBadGateway || string(raw.body) != "<html>bad gateway</html>" {
		t.Errorf("got %d %q, want the raw 502", raw.status, raw.body)
	}
	wantStatus(t, get(t, client, s, lookup, testToken), http.StatusOK)

	// A fault comes before authentication, as for the other providers.
	s.InjectFault(ProviderSCIM, Fault{Status: http.StatusTooManyRequests, Times: 1})
	wantSCIMError(t, get(t, client, s, lookup, ""), http.StatusTooManyRequests, "")
}

func TestSCIMFaultRateLatencyAndBlackhole(t *testing.T) {
	s, client, lookup := scimFixture(t)
	s.SetFaultRate(ProviderSCIM, 1, http.StatusInternalServerError)
	wantSCIMError(t, get(t, client, s, lookup, testToken), http.StatusInternalServerError, "")
	wantStatus(t, get(t, client, s, mixpeekPath+"alice@example.com", testToken), http.StatusOK)
	s.SetFaultRate(ProviderSCIM, 0, 0)

	const latency = 200 * time.Millisecond
	s.SetLatency(latency)
	start := time.Now()
	wantStatus(t, get(t, client, s, lookup, testToken), http.StatusOK)
	if elapsed := time.Since(start); elapsed < latency {
		t.Errorf("answered after %v, want at least %v", elapsed, latency)
	}
	s.SetLatency(0)

	s.Blackhole(ProviderSCIM, true)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if _, err := send(ctx, client, http.MethodGet, s.URL()+lookup, testToken); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("blackholed request ended with %v, want the client's deadline", err)
	}
	s.Blackhole(ProviderSCIM, false)
	wantStatus(t, get(t, client, s, lookup, testToken), http.StatusOK)
}

func TestSCIMOnlyGETIsAllowed(t *testing.T) {
	s, client, _ := scimFixture(t)
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		got := do(t, context.Background(), client, method, s.URL()+scimUsers+"/id-1", testToken)
		wantSCIMError(t, got, http.StatusMethodNotAllowed, "")
		if allow := got.header.Get("Allow"); allow != http.MethodGet {
			t.Errorf("%s: Allow = %q, want GET", method, allow)
		}
	}
	wantStatus(t, get(t, client, s, scimUsers+"/id-1", testToken), http.StatusOK)
}
