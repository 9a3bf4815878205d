package connection

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/orgsync/orgsync/internal/provider"
)

// blockingResponder answers only when release is closed, and says when each call has started.
func blockingResponder(started chan<- string, release <-chan struct{}) func(string) (provider.User, error) {
	return func(key string) (provider.User, error) {
		started <- key
		<-release
		return provider.User{ID: "id-" + key}, nil
	}
}

// A provider that never answers holds at most its concurrency budget; further callers are turned
// away at once instead of occupying more of the controller's workers.
func TestConnConcurrencyBudgetTurnsCallersAwayInsteadOfHoldingThem(t *testing.T) {
	fp := &fakeProvider{name: "fake"}
	p := NewPool(provider.Registry{"fake": fp}, PoolOptions{MaxInFlight: 2})
	started, release := make(chan string, 8), make(chan struct{})
	fp.respond = blockingResponder(started, release)
	conn := mustGet(t, p, "uid", baseSettings())

	var wg sync.WaitGroup
	for _, key := range []string{"a", "b"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = lookup(context.Background(), conn, key)
		}()
		<-started
	}
	begin := time.Now()
	_, err := lookup(context.Background(), conn, "c")
	var deferred *DeferredError
	if !errors.As(err, &deferred) || deferred.Cause != CauseConcurrency {
		t.Fatalf("third lookup with the budget of 2 in use = %v, want a DeferredError for concurrency", err)
	}
	if waited := time.Since(begin); waited > time.Second {
		t.Errorf("turned-away lookup took %s, want an immediate answer", waited)
	}
	close(release)
	wg.Wait()
	if _, err := lookup(context.Background(), conn, "c"); err != nil {
		t.Errorf("lookup once the budget is free = %v", err)
	}
	if n := fp.last().total(); n != 3 {
		t.Errorf("upstream called %d times, want 3 (a, b, then c once)", n)
	}
}

// Callers of one key that arrive while its lookup is in flight share its answer, with one request
// upstream; the metric counts the callers that made no request of their own.
func TestConnCollapsesConcurrentIdenticalLookups(t *testing.T) {
	fp := &fakeProvider{name: "fake"}
	p := NewPool(provider.Registry{"fake": fp}, PoolOptions{})
	p.shortWait = time.Minute // long enough for the joiners to see the answer
	started, release := make(chan string, 8), make(chan struct{})
	fp.respond = blockingResponder(started, release)
	conn := mustGet(t, p, "uid", baseSettings())
	joined := make(chan struct{}, 8)
	conn.onJoin = func() { joined <- struct{}{} }
	collapsedBefore := testutil.ToFloat64(collapsedLookups.WithLabelValues("fake"))

	results := make(chan Answer, 5)
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, _ := conn.Lookup(context.Background(), Request{Key: "shared", Holder: fmt.Sprint("user-", i)})
			results <- a
		}()
		if i == 0 {
			<-started
		} else {
			<-joined
		}
	}
	close(release)
	wg.Wait()
	close(results)
	shared := 0
	for a := range results {
		if a.User.ID != "id-shared" {
			t.Errorf("answer = %+v, want the shared user", a.User)
		}
		if a.Shared {
			shared++
		}
	}
	if n := fp.last().total(); n != 1 {
		t.Errorf("upstream called %d times for 5 concurrent lookups of one key, want 1", n)
	}
	if shared != 4 {
		t.Errorf("%d answers marked shared, want 4 (all but the caller that sent)", shared)
	}
	if got := testutil.ToFloat64(collapsedLookups.WithLabelValues("fake")) - collapsedBefore; got != 4 {
		t.Errorf("orgsync_lookups_collapsed_total grew by %v for one request serving 5 callers, want 4", got)
	}
}

func TestConnRecentAnswerServesSameKeyWithinMaxAgeOnly(t *testing.T) {
	p, fp, clk := newTestPool(t)
	conn := mustGet(t, p, "uid", baseSettings())
	ctx := context.Background()

	first, err := conn.Lookup(ctx, Request{Key: "k", Holder: "u1", MaxAge: time.Minute})
	if err != nil || first.Shared {
		t.Fatalf("first lookup = %+v, %v; want a fresh answer", first, err)
	}
	clk.advance(30 * time.Second)
	second, err := conn.Lookup(ctx, Request{Key: "k", Holder: "u2", MaxAge: time.Minute})
	if err != nil || !second.Shared || !second.FetchedAt.Equal(first.FetchedAt) {
		t.Fatalf("lookup within MaxAge = %+v, %v; want the first answer, shared, with its fetch time", second, err)
	}
	if _, err := conn.Lookup(ctx, Request{Key: "k", Holder: "u3"}); err != nil {
		t.Fatal(err)
	}
	clk.advance(2 * time.Minute)
	if a, _ := conn.Lookup(ctx, Request{Key: "k", Holder: "u4", MaxAge: time.Minute}); a.Shared {
		t.Errorf("answer older than MaxAge was shared")
	}
	if n := fp.last().total(); n != 3 {
		t.Errorf("upstream called %d times, want 3 (first, MaxAge 0, too old)", n)
	}

	// A new credential never reuses an answer read with the old one.
	s := baseSettings()
	s.Token = "rotated"
	conn = mustGet(t, p, "uid", s)
	if a, _ := conn.Lookup(ctx, Request{Key: "k", Holder: "u5", MaxAge: time.Hour}); a.Shared {
		t.Errorf("answer read with the old token served a lookup with the new one")
	}
}

// Callers that find the bucket empty are given distinct return times, one token apart, and keep
// their token: they do not all come back at once and queue again.
func TestConnDeferredCallersAreSpreadAtTheRateAndKeepTheirTurn(t *testing.T) {
	p, fp, clk := newTestPool(t)
	s := baseSettings()
	s.RequestsPerSecond, s.Burst = 10, 1
	conn := mustGet(t, p, "uid", s)
	ctx := context.Background()
	if _, err := lookup(ctx, conn, "first"); err != nil {
		t.Fatal(err)
	}
	delays := make([]time.Duration, 0, 5)
	for i := range 5 {
		_, err := lookup(ctx, conn, fmt.Sprint("user-", i))
		var deferred *DeferredError
		if !errors.As(err, &deferred) || deferred.Cause != CauseClientRateLimit {
			t.Fatalf("lookup %d with an empty bucket = %v, want deferred by the client rate limit", i, err)
		}
		delays = append(delays, deferred.Delay)
	}
	for i, d := range delays {
		want := time.Duration(i+1) * 100 * time.Millisecond
		if d < want-time.Millisecond || d > want+time.Millisecond {
			t.Errorf("caller %d told to come back in %s, want %s (one token apart)", i, d, want)
		}
	}
	// Coming back at its time, a caller is served without queueing again.
	for i := range 5 {
		clk.advance(100 * time.Millisecond)
		if _, err := lookup(ctx, conn, fmt.Sprint("user-", i)); err != nil {
			t.Errorf("caller %d back at its time: %v", i, err)
		}
	}
	if n := fp.last().total(); n != 6 {
		t.Errorf("upstream called %d times, want 6", n)
	}
}
