package connection

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/orgsync/orgsync/internal/provider"
)

// oneAtATimeResponder answers one call each time answer receives a value, and says when each starts.
func oneAtATimeResponder(started chan<- string, answer <-chan struct{}) func(string) (provider.User, error) {
	return func(key string) (provider.User, error) {
		started <- key
		<-answer
		return provider.User{ID: "id-" + key}, nil
	}
}

// A budget that is full because the upstream is busy, not hung: the caller turned away comes back
// in about a second every time, because answers keep coming. Backing it off as if the upstream hung
// (1 s, 2 s, 4 s, ...) left the last users of a 10,000-user GitOps sync waiting for a minute.
func TestConnBusyBudgetDoesNotBackOffWhileTheUpstreamAnswers(t *testing.T) {
	fp := &fakeProvider{name: "fake"}
	clk := newClock()
	p := NewPool(provider.Registry{"fake": fp}, PoolOptions{MaxInFlight: 1})
	p.now = clk.now
	p.shortWait = 0
	started, answer := make(chan string, 1), make(chan struct{})
	fp.respond = oneAtATimeResponder(started, answer)
	conn := mustGet(t, p, "uid", baseSettings())

	keys := []string{"a", "b", "c", "d", "e", "f"}
	delays := make([]time.Duration, 0, len(keys))
	for _, key := range keys {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = lookup(context.Background(), conn, key)
		}()
		<-started
		_, err := lookup(context.Background(), conn, "waiting")
		var deferred *DeferredError
		if !errors.As(err, &deferred) || deferred.Cause != CauseConcurrency {
			t.Fatalf("lookup with the budget in use = %v, want deferred for concurrency", err)
		}
		delays = append(delays, deferred.Delay)
		answer <- struct{}{}
		wg.Wait()
		clk.advance(100 * time.Millisecond)
	}
	for i, d := range delays {
		if d > turnAwayBase*3/2 {
			t.Errorf("turned away for the %d. time by a busy budget: come back in %s, want at most %s (%v)",
				i+1, d, turnAwayBase*3/2, delays)
		}
	}
}

// A caller that finds the budget of an answering upstream full waits, within its short wait, for the
// next slot given back, and sends its own request then: no deferral, no reconcile spent.
func TestConnBusyBudgetGrantsTheNextFreedSlot(t *testing.T) {
	fp := &fakeProvider{name: "fake"}
	p := NewPool(provider.Registry{"fake": fp}, PoolOptions{MaxInFlight: 1})
	p.shortWait = time.Minute
	started, answer := make(chan string, 2), make(chan struct{})
	fp.respond = oneAtATimeResponder(started, answer)
	conn := mustGet(t, p, "uid", baseSettings())
	waiting := make(chan struct{}, 1)
	conn.onBudgetWait = func() { waiting <- struct{}{} }

	// One answer first: the upstream is known to answer.
	go func() { <-started; answer <- struct{}{} }()
	if _, err := lookup(context.Background(), conn, "warm"); err != nil {
		t.Fatalf("first lookup: %v", err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, _ = lookup(context.Background(), conn, "a")
	}()
	<-started
	result := make(chan error, 1)
	go func() {
		_, err := lookup(context.Background(), conn, "b")
		result <- err
	}()
	<-waiting
	answer <- struct{}{} // a's answer gives its slot back
	if key := <-started; key != "b" {
		t.Fatalf("next request for %q, want b", key)
	}
	answer <- struct{}{}
	if err := <-result; err != nil {
		t.Errorf("lookup that waited for the freed slot = %v, want its own answer", err)
	}
	wg.Wait()
}

// Many callers of few keys on a busy budget, arriving at random: a caller woken by a freed slot finds
// the answer its key just got, or joins the flight still in progress, and never sends a second
// request for a key read moments ago. (The slot was once given back before the answer was filed, so
// woken callers fell into the gap and read their key again: 75 requests for 50 keys in the bench.)
func TestConnBusyBudgetReadsEachSharedKeyOnce(t *testing.T) {
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, seed+1))
		fp := &fakeProvider{name: "fake"}
		p := NewPool(provider.Registry{"fake": fp}, PoolOptions{MaxInFlight: 1 + rng.IntN(4)})
		p.shortWait = time.Second
		fp.respond = func(key string) (provider.User, error) {
			time.Sleep(time.Duration(rand.IntN(3)) * time.Millisecond)
			return provider.User{ID: "id-" + key}, nil
		}
		conn := mustGet(t, p, "uid", baseSettings())
		const keys, callersPerKey = 10, 20
		var wg sync.WaitGroup
		for i := range keys * callersPerKey {
			key := fmt.Sprint("key-", i%keys)
			wg.Add(1)
			go func() {
				defer wg.Done()
				// A deferred caller comes back, as its reconcile would (sooner, to keep the test short).
				for {
					_, err := conn.Lookup(context.Background(), Request{Key: key, Holder: fmt.Sprint("user-", i), MaxAge: time.Minute})
					var deferred *DeferredError
					if !errors.As(err, &deferred) {
						return
					}
					time.Sleep(time.Millisecond)
				}
			}()
		}
		wg.Wait()
		if n := fp.last().total(); n > keys {
			t.Fatalf("seed %d: %d upstream requests for %d keys, each read moments ago by another caller", seed, n, keys)
		}
	}
}
