package upstreamsim

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

// faultFixture starts a server with one user per provider.
func faultFixture(t *testing.T) (*Server, *http.Client) {
	t.Helper()
	s := startServer(t)
	s.PutMixpeekUser(MixpeekUser{Email: "alice@example.com"})
	s.PutFlashbackUser(FlashbackUser{ID: "u1"})
	return s, trustingClient(t, s)
}

func TestFaultAnswersItsTimesWithRetryAfterThenHandsBack(t *testing.T) {
	s, client := faultFixture(t)
	s.InjectFault(ProviderFlashback, Fault{Status: http.StatusTooManyRequests, RetryAfter: "7", Times: 2})

	for i := range 2 {
		got := get(t, client, s, flashbackPath+"u1", testToken)
		wantStatus(t, got, http.StatusTooManyRequests)
		if ra := got.header.Get("Retry-After"); ra != "7" {
			t.Errorf("request %d: Retry-After = %q, want 7", i+1, ra)
		}
		wantJSONBody(t, got, `{"success":false,"message":"Too many requests"}`)

		// The other provider is not affected.
		wantStatus(t, get(t, client, s, mixpeekPath+"alice@example.com", testToken), http.StatusOK)
	}

	got := get(t, client, s, flashbackPath+"u1", testToken)
	wantStatus(t, got, http.StatusOK)
	if ra := got.header.Get("Retry-After"); ra != "" {
		t.Errorf("Retry-After = %q after the fault ran out, want none", ra)
	}
}

func TestFaultWithoutTimesLastsUntilCleared(t *testing.T) {
	s, client := faultFixture(t)
	s.InjectFault(ProviderMixpeek, Fault{Status: http.StatusServiceUnavailable})

	for range 3 {
		got := get(t, client, s, mixpeekPath+"alice@example.com", testToken)
		wantStatus(t, got, http.StatusServiceUnavailable)
		wantJSONBody(t, got, `{"detail":"Service Unavailable"}`)
	}
	s.ClearFaults()
	wantStatus(t, get(t, client, s, mixpeekPath+"alice@example.com", testToken), http.StatusOK)
}

func TestFaultsApplyInInjectionOrder(t *testing.T) {
	s, client := faultFixture(t)
	s.InjectFault(ProviderFlashback, Fault{Status: http.StatusInternalServerError, Times: 1})
	s.InjectFault(ProviderFlashback, Fault{Status: http.StatusTooManyRequests, RetryAfter: "1", Times: 1})

	first := get(t, client, s, flashbackPath+"u1", testToken)
	wantStatus(t, first, http.StatusInternalServerError)
	wantJSONBody(t, first, `{"success":false,"message":"Internal server error"}`)
	wantStatus(t, get(t, client, s, flashbackPath+"u1", testToken), http.StatusTooManyRequests)
	wantStatus(t, get(t, client, s, flashbackPath+"u1", testToken), http.StatusOK)
}

func TestFaultRawBody(t *testing.T) {
	s, client := faultFixture(t)
	s.InjectFault(ProviderFlashback, Fault{Status: http.StatusOK, Body: `{"id": "u1", "orgRole": `, Times: 1})
	s.InjectFault(ProviderFlashback, Fault{Status: http.StatusBadGateway, Body: "<html>bad gateway</html>", ContentType: "text/html", Times: 1})

	truncated := get(t, client, s, flashbackPath+"u1", testToken)
	wantStatus(t, truncated, http.StatusOK)
	if string(truncated.body) != `{"id": "u1", "orgRole": ` {
		t.Errorf("body = %q, want the raw fault body", truncated.body)
	}
	if ct := truncated.header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type = %q, want text/plain for a raw body", ct)
	}

	gateway := get(t, client, s, flashbackPath+"u1", testToken)
	wantStatus(t, gateway, http.StatusBadGateway)
	if string(gateway.body) != "<html>bad gateway</html>" || gateway.header.Get("Content-Type") != "text/html" {
		t.Errorf("got %q with %q, want the HTML body with text/html", gateway.body, gateway.header.Get("Content-Type"))
	}
}

func TestFaultPrecedesAuthentication(t *testing.T) {
	s, client := faultFixture(t)
	s.InjectFault(ProviderMixpeek, Fault{Status: http.StatusTooManyRequests, Times: 1})

	wantStatus(t, get(t, client, s, mixpeekPath+"alice@example.com", ""), http.StatusTooManyRequests)
	wantStatus(t, get(t, client, s, mixpeekPath+"alice@example.com", ""), http.StatusUnauthorized)
}

func TestFaultDelayHonoursCancellation(t *testing.T) {
	s, client := faultFixture(t)
	s.InjectFault(ProviderFlashback, Fault{Status: http.StatusInternalServerError, Delay: time.Minute, Times: 1})

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := send(ctx, client, http.MethodGet, s.URL()+flashbackPath+"u1", testToken)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error = %v, want the client's deadline", err)
	}

	// The fault is used up and the server is free again: the next call answers at once.
	wantStatus(t, get(t, client, s, flashbackPath+"u1", testToken), http.StatusOK)
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("took %v, want the delayed request abandoned promptly", elapsed)
	}
}

func TestFaultDelayWithoutStatusServesNormallyLate(t *testing.T) {
	s, client := faultFixture(t)
	const delay = 200 * time.Millisecond
	s.InjectFault(ProviderMixpeek, Fault{Delay: delay, Times: 1})

	start := time.Now()
	got := get(t, client, s, mixpeekPath+"alice@example.com", testToken)

	wantStatus(t, got, http.StatusOK)
	if elapsed := time.Since(start); elapsed < delay {
		t.Errorf("answered after %v, want at least %v", elapsed, delay)
	}
}

func TestCloseDoesNotWaitForFaultDelays(t *testing.T) {
	s, client := faultFixture(t)
	s.InjectFault(ProviderFlashback, Fault{Status: http.StatusInternalServerError, Delay: time.Minute})

	result := make(chan error, 1)
	go func() {
		_, err := send(context.Background(), client, http.MethodGet, s.URL()+flashbackPath+"u1", testToken)
		result <- err
	}()
	waitFor(t, func() bool { return s.TotalRequests() == 1 })
	s.Close()

	select {
	case err := <-result:
		if err == nil {
			t.Error("request succeeded through a closed server")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("request still pending 5s after Close")
	}
}

func TestUnknownProviderNamePanics(t *testing.T) {
	s := New()
	for name, call := range map[string]func(){
		"InjectFault": func() { s.InjectFault("Mixpeek", Fault{Status: 500}) },
		"DeleteUser":  func() { s.DeleteUser("flashbak", "u1") },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic for a misspelt provider")
				}
			}()
			call()
		})
	}
}

func waitFor(t *testing.T, condition func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !condition() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
