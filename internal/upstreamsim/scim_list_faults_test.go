package upstreamsim

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestSCIMListFaultAnswersTheNthListingRequestOnly(t *testing.T) {
	s := startServer(t)
	client := trustingClient(t, s)
	seedSCIMUsers(s, 10)
	s.SetSCIMPageCap(2)
	s.InjectSCIMListFault(3, Fault{Status: http.StatusInternalServerError})
	s.InjectSCIMListFault(5, Fault{Status: http.StatusTooManyRequests, RetryAfter: "30", Times: 2})

	page := func(startIndex string) response {
		return get(t, client, s, scimUsers+"?count=2&startIndex="+startIndex, testToken)
	}
	wantStatus(t, page("1"), http.StatusOK)
	// Neither a lookup, the ServiceProviderConfig nor another provider is a listing request.
	wantStatus(t, get(t, client, s, scimFilterPath(t, "userName", "user-1@example.com"), testToken), http.StatusOK)
	wantStatus(t, get(t, client, s, scimUsers+"/id-01", testToken), http.StatusOK)
	wantStatus(t, get(t, client, s, SCIMBasePath+"/ServiceProviderConfig", testToken), http.StatusOK)
	wantStatus(t, page("3"), http.StatusOK)
	wantSCIMError(t, page("5"), http.StatusInternalServerError, "")
	// A filter that is no lookup is a listing too.
	wantStatus(t, get(t, client, s, scimRawFilterPath("active eq true"), testToken), http.StatusOK)
	for range 2 {
		got := page("5")
		wantSCIMError(t, got, http.StatusTooManyRequests, "")
		if got.header.Get("Retry-After") != "30" {
			t.Errorf("Retry-After %q, want 30", got.header.Get("Retry-After"))
		}
	}
	wantStatus(t, page("5"), http.StatusOK)
	if n := s.SCIMListRequests(); n != 7 {
		t.Errorf("SCIMListRequests() = %d, want 7", n)
	}
}

func TestSCIMListFaultsKeepTheirPlaceAcrossResetCountersAndGoWithClearFaults(t *testing.T) {
	s := startServer(t)
	client := trustingClient(t, s)
	seedSCIMUsers(s, 3)
	wantStatus(t, get(t, client, s, scimUsers, testToken), http.StatusOK)
	s.InjectSCIMListFault(2, Fault{Status: http.StatusBadGateway})
	s.ResetCounters()
	wantStatus(t, get(t, client, s, scimUsers, testToken), http.StatusOK)
	wantSCIMError(t, get(t, client, s, scimUsers, testToken), http.StatusBadGateway, "")
	if n := s.SCIMListRequests(); n != 2 {
		t.Errorf("SCIMListRequests() = %d after ResetCounters, want 2", n)
	}

	s.InjectSCIMListFault(1, Fault{Status: http.StatusInternalServerError})
	s.ClearFaults()
	wantStatus(t, get(t, client, s, scimUsers, testToken), http.StatusOK)
}

func TestSCIMListFaultWithoutStatusOnlyDelays(t *testing.T) {
	s := startServer(t)
	client := trustingClient(t, s)
	seedSCIMUsers(s, 1)
	s.InjectSCIMListFault(1, Fault{Delay: 50 * time.Millisecond})
	start := time.Now()
	if list := decodeSCIMList(t, get(t, client, s, scimUsers, testToken)); list.totalResults != 1 {
		t.Errorf("totalResults %d, want the listing served", list.totalResults)
	}
	if elapsed := time.Since(start); elapsed < 50*time.Millisecond {
		t.Errorf("answered after %v, want the 50ms delay", elapsed)
	}

	// A client that gives up meanwhile gets no answer at all.
	s.InjectSCIMListFault(1, Fault{Status: http.StatusInternalServerError, Delay: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := send(ctx, client, http.MethodGet, s.URL()+scimUsers, testToken)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v, want the client's deadline", err)
	}
}
