package upstreamsim

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestLatencyDelaysEveryAnswer(t *testing.T) {
	s, client := faultFixture(t)
	const latency = 300 * time.Millisecond
	s.SetLatency(latency)

	start := time.Now()
	wantStatus(t, get(t, client, s, flashbackPath+"u1", testToken), http.StatusOK)
	if elapsed := time.Since(start); elapsed < latency {
		t.Errorf("answer after %s, want at least the latency %s", elapsed, latency)
	}
}

func TestTokenRateLimitAnswers429PerTokenWithRetryAfter(t *testing.T) {
	s, client := faultFixture(t)
	other := "sk_test_other"
	s.AllowToken(other)
	s.SetTokenRateLimit(0.5, 2) // one request every two seconds after a burst of two

	for range 2 {
		wantStatus(t, get(t, client, s, mixpeekPath+"alice@example.com", testToken), http.StatusOK)
	}
	got := get(t, client, s, flashbackPath+"u1", testToken)
	wantStatus(t, got, http.StatusTooManyRequests)
	if ra := got.header.Get("Retry-After"); ra != "2" {
		t.Errorf("Retry-After = %q, want 2", ra)
	}
	wantJSONBody(t, got, `{"success":false,"message":"Too many requests"}`)
	// Another token has its own bucket.
	wantStatus(t, get(t, client, s, mixpeekPath+"alice@example.com", other), http.StatusOK)
	if n := s.RateLimited(); n != 1 {
		t.Errorf("RateLimited() = %d, want 1", n)
	}

	s.SetTokenRateLimit(0, 0)
	wantStatus(t, get(t, client, s, mixpeekPath+"alice@example.com", testToken), http.StatusOK)
}

func TestFaultRateAnswersItsShareOfOneProvider(t *testing.T) {
	s, client := faultFixture(t)
	s.SetFaultRate(ProviderMixpeek, 1, http.StatusBadGateway)
	got := get(t, client, s, mixpeekPath+"alice@example.com", testToken)
	wantStatus(t, got, http.StatusBadGateway)
	if ra := got.header.Get("Retry-After"); ra != "" {
		t.Errorf("Retry-After = %q, want none", ra)
	}
	wantStatus(t, get(t, client, s, flashbackPath+"u1", testToken), http.StatusOK)

	s.SetFaultRate(ProviderMixpeek, 0.5, http.StatusServiceUnavailable)
	const requests = 200
	failed := 0
	for range requests {
		if get(t, client, s, mixpeekPath+"alice@example.com", testToken).status == http.StatusServiceUnavailable {
			failed++
		}
	}
	// Binomial(200, 0.5) leaves [60, 140] with a probability below 1e-8.
	if failed < 60 || failed > 140 {
		t.Errorf("%d of %d requests failed, want about half", failed, requests)
	}

	s.SetFaultRate(ProviderMixpeek, 0, 0)
	wantStatus(t, get(t, client, s, mixpeekPath+"alice@example.com", testToken), http.StatusOK)
}

func TestBlackholeHoldsRequestsUntilTheClientGivesUp(t *testing.T) {
	s, client := faultFixture(t)
	s.Blackhole(ProviderFlashback, true)

	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	_, err := send(ctx, client, http.MethodGet, s.URL()+flashbackPath+"u1", testToken)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("blackholed request ended with %v, want the client's deadline", err)
	}
	wantStatus(t, get(t, client, s, mixpeekPath+"alice@example.com", testToken), http.StatusOK)
	if n := s.ProviderRequests(ProviderFlashback); n != 1 {
		t.Errorf("ProviderRequests(flashback) = %d, want the held request counted", n)
	}

	s.Blackhole(ProviderFlashback, false)
	wantStatus(t, get(t, client, s, flashbackPath+"u1", testToken), http.StatusOK)
}

func TestProviderRequestsCountsEachProviderUntilReset(t *testing.T) {
	s, client := faultFixture(t)
	for range 2 {
		get(t, client, s, mixpeekPath+"alice@example.com", testToken)
	}
	get(t, client, s, flashbackPath+"nobody", testToken)
	if m, f := s.ProviderRequests(ProviderMixpeek), s.ProviderRequests(ProviderFlashback); m != 2 || f != 1 {
		t.Errorf("ProviderRequests = mixpeek %d, flashback %d; want 2 and 1", m, f)
	}
	s.ResetCounters()
	if m := s.ProviderRequests(ProviderMixpeek); m != 0 {
		t.Errorf("ProviderRequests(mixpeek) = %d after ResetCounters, want 0", m)
	}
}

func TestSeedBulkServesEveryGeneratedKey(t *testing.T) {
	s, client := faultFixture(t)
	s.SeedBulk(3)
	for i := range 3 {
		mixpeek := decodeObject(t, get(t, client, s, mixpeekPath+BulkMixpeekKey(i), testToken).body)
		if mixpeek["email"] != BulkMixpeekKey(i) || mixpeek["role"] != "member" {
			t.Errorf("Mixpeek bulk user %d = %v", i, mixpeek)
		}
		flashback := decodeObject(t, get(t, client, s, flashbackPath+BulkFlashbackKey(i), testToken).body)
		if flashback["id"] != BulkFlashbackKey(i) || flashback["validated"] != true {
			t.Errorf("Flashback bulk user %d = %v", i, flashback)
		}
	}
	wantStatus(t, get(t, client, s, mixpeekPath+BulkMixpeekKey(3), testToken), http.StatusNotFound)
}

func TestRevokedTokenIsAnswered401UntilAllowedAgain(t *testing.T) {
	s, client := faultFixture(t)
	s.RevokeToken(testToken)
	wantStatus(t, get(t, client, s, flashbackPath+"u1", testToken), http.StatusUnauthorized)
	s.AllowToken(testToken)
	wantStatus(t, get(t, client, s, flashbackPath+"u1", testToken), http.StatusOK)
}
