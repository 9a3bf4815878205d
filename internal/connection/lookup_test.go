package connection

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/orgsync/orgsync/internal/provider"
)

// Many OrgUsers of one key on a hung provider: only the caller that sent waits for the upstream; the
// others are told to come back at once, so they cannot fill the controller's workers and starve
// every other provider.
func TestConnCallersOfAHungKeyDoNotHoldWorkers(t *testing.T) {
	fp := &fakeProvider{name: "fake"}
	p := NewPool(provider.Registry{"fake": fp}, PoolOptions{})
	started, release := make(chan string, 1), make(chan struct{})
	fp.respond = blockingResponder(started, release)
	conn := mustGet(t, p, "uid", baseSettings())
	defer close(release)

	go func() { _, _ = conn.Lookup(context.Background(), Request{Key: "hung", Holder: "sender"}) }()
	<-started

	const callers = 20
	results := make(chan error, callers)
	for i := range callers {
		go func() {
			_, err := conn.Lookup(context.Background(), Request{Key: "hung", Holder: fmt.Sprint("user-", i), MaxAge: time.Hour})
			results <- err
		}()
	}
	deadline := time.After(5 * time.Second)
	for i := range callers {
		select {
		case err := <-results:
			var deferred *DeferredError
			if !errors.As(err, &deferred) || deferred.Cause != CauseInFlight || deferred.Delay <= 0 {
				t.Errorf("caller of the hung key = %v, want a DeferredError for the lookup in flight", err)
			}
		case <-deadline:
			t.Fatalf("%d of %d callers of the hung key still waiting after 5s: each holds a worker", callers-i, callers)
		}
	}
}

// A request sent with the old token that lands after the token changed must not answer for the new
// one: it was read from what may be another organization.
func TestConnAnswerLandingAfterCredentialChangeServesNobody(t *testing.T) {
	fp := &fakeProvider{name: "fake"}
	p := NewPool(provider.Registry{"fake": fp}, PoolOptions{})
	started, release := make(chan string, 1), make(chan struct{})
	fp.respond = func(key string) (provider.User, error) {
		started <- key
		<-release
		return provider.User{ID: "old-org-user"}, nil
	}
	conn := mustGet(t, p, "uid", baseSettings())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = conn.Lookup(context.Background(), Request{Key: "k", Holder: "u1", MaxAge: time.Hour})
	}()
	<-started

	fp.respond = nil // the new organization answers at once
	rotated := baseSettings()
	rotated.Token = "new-token"
	conn = mustGet(t, p, "uid", rotated)
	close(release)
	<-done

	a, err := conn.Lookup(context.Background(), Request{Key: "k", Holder: "u2", MaxAge: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if a.Shared || a.User.ID == "old-org-user" {
		t.Fatalf("lookup with the new token = %+v (shared %v); want its own request, not the old token's answer", a.User, a.Shared)
	}
	if n := fp.last().total(); n != 1 {
		t.Errorf("new client called %d times, want 1", n)
	}
}

// Turns handed out before a 429 are moved behind the pause in their order, one token apart: the
// upstream that asked us to slow down gets no burst when the pause ends.
func TestConnPauseRespacesTurnsReservedBeforeIt(t *testing.T) {
	p, fp, clk := newTestPool(t)
	started, release := make(chan string, 1), make(chan struct{})
	fp.respond = func(key string) (provider.User, error) {
		started <- key
		<-release
		return provider.User{}, &provider.Error{Provider: "fake", Kind: provider.KindRateLimited, StatusCode: 429, RetryAfter: 30 * time.Second}
	}
	s := baseSettings()
	s.RequestsPerSecond, s.Burst = 1, 1
	conn := mustGet(t, p, "uid", s)
	t0 := clk.now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = lookup(context.Background(), conn, "hot")
	}()
	<-started

	// Five callers reserve the next five turns, one second apart.
	for i := range 5 {
		var deferred *DeferredError
		if _, err := lookup(context.Background(), conn, fmt.Sprint("user-", i)); !errors.As(err, &deferred) {
			t.Fatalf("caller %d with an empty bucket = %v, want deferred", i, err)
		}
	}
	close(release) // the request in flight is answered 429, Retry-After 30s
	<-done
	pauseEnd := t0.Add(30 * time.Second)
	if got := conn.PausedUntil(); !got.Equal(pauseEnd) {
		t.Fatalf("PausedUntil = %v, want %v", got, pauseEnd)
	}

	// Each comes back at its turn, during the pause, and is told when to come back again.
	comeBack := make([]time.Time, 0, 5)
	for i := range 5 {
		clk.advance(time.Second)
		_, err := lookup(context.Background(), conn, fmt.Sprint("user-", i))
		var deferred *DeferredError
		if !errors.As(err, &deferred) || deferred.Cause != CausePaused {
			t.Fatalf("caller %d during the pause = %v, want deferred by the pause", i, err)
		}
		comeBack = append(comeBack, clk.now().Add(deferred.Delay))
	}
	for i, at := range comeBack {
		if want := pauseEnd.Add(time.Duration(i) * time.Second); at.Before(want) {
			t.Errorf("caller %d sends at pause end + %s, want at or after + %ds (one token apart, in order)",
				i, at.Sub(pauseEnd), i)
		}
	}
	// A caller new during the pause lines up behind them.
	var deferred *DeferredError
	if _, err := lookup(context.Background(), conn, "late"); !errors.As(err, &deferred) {
		t.Fatalf("new caller during the pause = %v, want deferred", err)
	} else if at := clk.now().Add(deferred.Delay); at.Before(comeBack[4].Add(time.Second)) {
		t.Errorf("new caller sends at pause end + %s, want after the five reserved turns", at.Sub(pauseEnd))
	}
}

// A caller turned away for a full budget has spent no token, so callers of other keys are not queued
// behind it, and it comes back later each time rather than every second.
func TestConnFullBudgetTurnsAwayWithoutSpendingATokenAndBacksOff(t *testing.T) {
	fp := &fakeProvider{name: "fake"}
	clk := newClock()
	p := NewPool(provider.Registry{"fake": fp}, PoolOptions{MaxInFlight: 2})
	p.now = clk.now
	started, release := make(chan string, 2), make(chan struct{})
	fp.respond = blockingResponder(started, release)
	s := baseSettings()
	s.RequestsPerSecond, s.Burst = 1, 3
	conn := mustGet(t, p, "uid", s)

	var wg sync.WaitGroup
	for _, key := range []string{"a", "b"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = lookup(context.Background(), conn, key)
		}()
		<-started
	}
	delays := make([]time.Duration, 0, 4)
	for range 4 {
		_, err := lookup(context.Background(), conn, "c")
		var deferred *DeferredError
		if !errors.As(err, &deferred) || deferred.Cause != CauseConcurrency {
			t.Fatalf("lookup with the budget in use = %v, want deferred for concurrency", err)
		}
		delays = append(delays, deferred.Delay)
	}
	for i := 1; i < len(delays); i++ {
		if delays[i] <= delays[i-1] {
			t.Errorf("turned away again: come back in %s after %s; want a longer wait each time (%v)", delays[i], delays[i-1], delays)
		}
	}
	close(release)
	wg.Wait()
	if _, err := lookup(context.Background(), conn, "d"); err != nil {
		t.Errorf("a new caller once the budget is free = %v; want the token nobody spent", err)
	}
}
