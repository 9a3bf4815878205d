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

// fakeClock is an injectable clock for the 429 pause.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)} }

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakeClient answers GetUser with respond and counts calls.
type fakeClient struct {
	cfg     provider.Config
	respond func(key string) (provider.User, error)

	mu    sync.Mutex
	calls map[string]int
}

func (c *fakeClient) GetUser(_ context.Context, key string) (provider.User, error) {
	c.mu.Lock()
	c.calls[key]++
	respond := c.respond
	c.mu.Unlock()
	if respond == nil {
		return provider.User{ID: "id-" + key, Email: key, State: provider.StateActive}, nil
	}
	return respond(key)
}

func (c *fakeClient) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.calls {
		n += v
	}
	return n
}

// fakeProvider builds fakeClients and remembers every one.
type fakeProvider struct {
	name    string
	respond func(key string) (provider.User, error)
	err     error

	mu      sync.Mutex
	clients []*fakeClient
}

func (p *fakeProvider) Name() string                 { return p.name }
func (p *fakeProvider) ValidateKey(key string) error { return nil }

func (p *fakeProvider) NewClient(cfg provider.Config) (provider.Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return nil, p.err
	}
	c := &fakeClient{cfg: cfg, respond: p.respond, calls: map[string]int{}}
	p.clients = append(p.clients, c)
	return c, nil
}

func (p *fakeProvider) newClientCalls() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.clients)
}

func (p *fakeProvider) last() *fakeClient {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.clients[len(p.clients)-1]
}

func baseSettings() Settings {
	return Settings{
		Provider:          "fake",
		BaseURL:           "https://api.example.com",
		CABundle:          []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
		Timeout:           10 * time.Second,
		Token:             "s3cret",
		RequestsPerSecond: 1000,
		Burst:             100,
	}
}

func newTestPool(t *testing.T) (*Pool, *fakeProvider, *fakeClock) {
	t.Helper()
	fp := &fakeProvider{name: "fake"}
	clk := newClock()
	p := NewPool(provider.Registry{"fake": fp}, PoolOptions{UserAgent: "orgsync-test/1.0"})
	p.now = clk.now
	return p, fp, clk
}

func lookup(ctx context.Context, c *Conn, key string) (provider.User, error) {
	a, err := c.Lookup(ctx, Request{Key: key, Holder: "holder-" + key})
	return a.User, err
}

func mustGet(t *testing.T, p *Pool, id string, s Settings) *Conn {
	t.Helper()
	c, err := p.Get(id, s)
	if err != nil {
		t.Fatalf("Get(%q): %v", id, err)
	}
	return c
}

func TestPoolReusesClientForSameSettings(t *testing.T) {
	p, fp, _ := newTestPool(t)
	s := baseSettings()
	c1 := mustGet(t, p, "uid-1", s)
	// A copy with equal contents (a fresh CA slice, as a reconcile would build) is still the same.
	s2 := baseSettings()
	c2 := mustGet(t, p, "uid-1", s2)
	if c1 != c2 {
		t.Errorf("Get returned a different connection for the same provider object")
	}
	if n := fp.newClientCalls(); n != 1 {
		t.Fatalf("NewClient called %d times for unchanged settings, want 1", n)
	}
	for _, key := range []string{"a@example.com", "b@example.com"} {
		u, err := lookup(context.Background(), c2, key)
		if err != nil || u.Email != key {
			t.Fatalf("GetUser(%q) = %+v, %v", key, u, err)
		}
	}
	if n := fp.last().total(); n != 2 {
		t.Errorf("client saw %d calls, want 2", n)
	}
	cfg := fp.last().cfg
	if cfg.BaseURL != s.BaseURL || cfg.Token != s.Token || cfg.Timeout != s.Timeout ||
		string(cfg.CABundle) != string(s.CABundle) || cfg.UserAgent != "orgsync-test/1.0" {
		t.Errorf("client built with %+v, want settings %+v and the pool's user agent", cfg, s)
	}

	// A different provider object gets its own connection and client.
	if c3 := mustGet(t, p, "uid-2", s); c3 == c1 {
		t.Errorf("two provider objects share one connection")
	}
	if n := fp.newClientCalls(); n != 2 {
		t.Errorf("NewClient called %d times for two provider objects, want 2", n)
	}
}

func TestPoolRebuildsClientWhenSettingsChange(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*Settings)
		rebuild bool
		check   func(provider.Config) bool
	}{
		{"token", func(s *Settings) { s.Token = "rotated" }, true, func(c provider.Config) bool { return c.Token == "rotated" }},
		{"baseURL", func(s *Settings) { s.BaseURL = "https://eu.example.com" }, true,
			func(c provider.Config) bool { return c.BaseURL == "https://eu.example.com" }},
		{"CA bundle", func(s *Settings) { s.CABundle = []byte("other PEM") }, true,
			func(c provider.Config) bool { return string(c.CABundle) == "other PEM" }},
		{"CA bundle removed", func(s *Settings) { s.CABundle = nil }, true, func(c provider.Config) bool { return c.CABundle == nil }},
		{"timeout", func(s *Settings) { s.Timeout = 3 * time.Second }, true, func(c provider.Config) bool { return c.Timeout == 3*time.Second }},
		{"rate only", func(s *Settings) { s.RequestsPerSecond, s.Burst = 2, 3 }, false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, fp, _ := newTestPool(t)
			c1 := mustGet(t, p, "uid", baseSettings())
			old := fp.last()

			s := baseSettings()
			tc.change(&s)
			c2 := mustGet(t, p, "uid", s)
			if c1 != c2 {
				t.Errorf("settings change replaced the connection; its rate limiter and pause would be lost")
			}
			wantCalls := 1
			if tc.rebuild {
				wantCalls = 2
			}
			if n := fp.newClientCalls(); n != wantCalls {
				t.Fatalf("NewClient called %d times, want %d", n, wantCalls)
			}
			if tc.check != nil && !tc.check(fp.last().cfg) {
				t.Errorf("new client built with %+v, which lacks the change", fp.last().cfg)
			}
			if _, err := lookup(context.Background(), c2, "k"); err != nil {
				t.Fatal(err)
			}
			if tc.rebuild && (old.total() != 0 || fp.last().total() != 1) {
				t.Errorf("calls: old client %d, new client %d; want 0 and 1", old.total(), fp.last().total())
			}
			// Asking again with the changed settings reuses the rebuilt client.
			mustGet(t, p, "uid", s)
			if n := fp.newClientCalls(); n != wantCalls {
				t.Errorf("NewClient called again for settings already applied: %d calls", n)
			}
		})
	}
}

func TestPoolNewClientFailure(t *testing.T) {
	p, fp, _ := newTestPool(t)
	fp.err = errors.New("bad CA bundle")
	if _, err := p.Get("uid", baseSettings()); err == nil {
		t.Fatalf("Get succeeded although the client could not be built")
	}
	// Once the configuration is fixed the connection works.
	fp.err = nil
	c := mustGet(t, p, "uid", baseSettings())
	if _, err := lookup(context.Background(), c, "k"); err != nil {
		t.Fatalf("GetUser after the fix: %v", err)
	}
}

func TestPoolUnknownProvider(t *testing.T) {
	p, fp, _ := newTestPool(t)
	s := baseSettings()
	s.Provider = "nope"
	c, err := p.Get("uid", s)
	if err == nil || c != nil {
		t.Fatalf("Get with unknown provider = %v, %v; want an error", c, err)
	}
	if _, ok := p.lookup("uid"); ok {
		t.Errorf("a connection was kept for an unknown provider")
	}
	if fp.newClientCalls() != 0 {
		t.Errorf("a client was built for an unknown provider")
	}
}

func TestPoolForget(t *testing.T) {
	p, fp, _ := newTestPool(t)
	c1 := mustGet(t, p, "uid", baseSettings())
	if got, ok := p.lookup("uid"); !ok || got != c1 {
		t.Fatalf("Lookup = %v, %v; want the connection", got, ok)
	}
	c1.pause(time.Minute)

	p.Forget("uid")
	if _, ok := p.lookup("uid"); ok {
		t.Fatalf("Lookup still finds the connection after Forget")
	}
	// A reconcile that still sees the deleted provider in a lagging cache must not build it again.
	if c, err := p.Get("uid", baseSettings()); !errors.Is(err, ErrForgotten) || c != nil {
		t.Fatalf("Get after Forget = %v, %v; want ErrForgotten", c, err)
	}
	if _, ok := p.lookup("uid"); ok || fp.newClientCalls() != 1 {
		t.Fatalf("Get after Forget built a connection again (client builds: %d)", fp.newClientCalls())
	}
	// The provider created again under the same name has another UID and a fresh connection.
	c2 := mustGet(t, p, "uid-2", baseSettings())
	if got, ok := p.lookup("uid-2"); !ok || got != c2 {
		t.Errorf("Lookup(uid-2) = %v, %v; want the new connection", got, ok)
	}
	if c2 == c1 || fp.newClientCalls() != 2 {
		t.Errorf("the recreated provider reused the old connection (new client builds: %d)", fp.newClientCalls())
	}
	if !c2.PausedUntil().IsZero() {
		t.Errorf("a recreated provider object inherited the old pause until %v", c2.PausedUntil())
	}
	p.Forget("never-seen") // must not panic
}

func rateLimitedFor(key string, retryAfter time.Duration) func(string) (provider.User, error) {
	return func(k string) (provider.User, error) {
		if k == key {
			return provider.User{}, &provider.Error{Provider: "fake", Kind: provider.KindRateLimited, StatusCode: 429, RetryAfter: retryAfter}
		}
		return provider.User{ID: "id-" + k}, nil
	}
}

func TestConnRateLimitPausesWholeConnection(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter time.Duration
		wantPause  time.Duration
	}{
		{"Retry-After honoured", 90 * time.Second, 90 * time.Second},
		{"no Retry-After: default pause", 0, defaultPause},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, fp, clk := newTestPool(t)
			fp.respond = rateLimitedFor("hot@example.com", tc.retryAfter)
			conn := mustGet(t, p, "uid", baseSettings())
			client := fp.last()
			ctx := context.Background()
			start := clk.now()

			_, err := lookup(ctx, conn, "hot@example.com")
			if !provider.IsKind(err, provider.KindRateLimited) {
				t.Fatalf("first call: %v, want the upstream 429", err)
			}
			if got, want := conn.PausedUntil(), start.Add(tc.wantPause); !got.Equal(want) {
				t.Fatalf("PausedUntil = %v, want %v", got, want)
			}

			// Every user of the provider now waits, without any request upstream, and is told to
			// come back after the pause, one token apart, in the order they asked.
			clk.advance(tc.wantPause - 10*time.Second)
			var lastDelay time.Duration
			for _, key := range []string{"other@example.com", "hot@example.com", "third@example.com"} {
				_, err := lookup(ctx, conn, key)
				var deferred *DeferredError
				if !errors.As(err, &deferred) || deferred.Cause != CausePaused {
					t.Fatalf("lookup(%q) while paused = %v, want a DeferredError caused by the pause", key, err)
				}
				if deferred.Delay < 10*time.Second || deferred.Delay > 11*time.Second || deferred.Delay <= lastDelay {
					t.Errorf("lookup(%q) while paused: come back in %s, want just after the 10s left and after the caller before", key, deferred.Delay)
				}
				lastDelay = deferred.Delay
			}
			if n := client.total(); n != 1 {
				t.Fatalf("client called %d times during the pause, want only the first call", n)
			}

			// The pause is per connection: a settings change (token rotation) keeps it.
			s := baseSettings()
			s.Token = "rotated"
			conn = mustGet(t, p, "uid", s)
			var deferred *DeferredError
			if _, err := lookup(ctx, conn, "other@example.com"); !errors.As(err, &deferred) {
				t.Errorf("settings change lifted the pause: %v", err)
			}
			if fp.last().total() != 0 {
				t.Errorf("rebuilt client called during the pause")
			}

			// Once the clock passes the pause, calls go upstream again.
			clk.advance(10*time.Second + time.Millisecond)
			if u, err := lookup(ctx, conn, "other@example.com"); err != nil || u.ID != "id-other@example.com" {
				t.Fatalf("GetUser after the pause = %+v, %v", u, err)
			}
			if !conn.PausedUntil().IsZero() {
				t.Errorf("PausedUntil = %v after the pause passed, want zero", conn.PausedUntil())
			}
		})
	}
}

func TestConnTokenBucketThrottlesInsteadOfBlocking(t *testing.T) {
	p, fp, _ := newTestPool(t)
	p.shortWait = 20 * time.Millisecond
	s := baseSettings()
	s.RequestsPerSecond, s.Burst = 1, 1
	conn := mustGet(t, p, "uid", s)
	ctx := context.Background()

	if _, err := lookup(ctx, conn, "a"); err != nil {
		t.Fatalf("first call within the burst: %v", err)
	}
	start := time.Now()
	_, err := lookup(ctx, conn, "b")
	if elapsed := time.Since(start); elapsed > 500*time.Millisecond {
		t.Errorf("throttled call blocked for %s", elapsed)
	}
	var throttled *DeferredError
	if !errors.As(err, &throttled) {
		t.Fatalf("second call = %v, want *DeferredError", err)
	}
	if throttled.Delay <= p.shortWait || throttled.Delay > time.Second {
		t.Errorf("DeferredError.Delay = %s, want in (%s, 1s]", throttled.Delay, p.shortWait)
	}
	if provider.IsKind(err, provider.KindRateLimited) {
		t.Errorf("client-side throttling reported as an upstream 429")
	}
	if n := fp.last().total(); n != 1 {
		t.Errorf("client called %d times, want 1: a throttled call must not go upstream", n)
	}
}

func TestConnTokenBucketWaitsBrieflyWithinMaxWait(t *testing.T) {
	p, fp, _ := newTestPool(t)
	s := baseSettings()
	s.RequestsPerSecond, s.Burst = 100, 1 // one token every 10ms, well inside maxWait
	conn := mustGet(t, p, "uid", s)
	for i := range 3 {
		if _, err := lookup(context.Background(), conn, fmt.Sprint(i)); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if n := fp.last().total(); n != 3 {
		t.Errorf("client called %d times, want 3", n)
	}

	// A cancelled caller stops waiting for its token (a wait short enough to happen in place).
	s.RequestsPerSecond = 40
	conn = mustGet(t, p, "uid-cancel", s)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _ = lookup(ctx, conn, "x") // may use the token refilled meanwhile
	if _, err := lookup(ctx, conn, "y"); !errors.Is(err, context.Canceled) {
		t.Errorf("GetUser with a cancelled context while waiting = %v, want context.Canceled", err)
	}
}

func TestPoolAppliesRateChangesToExistingLimiter(t *testing.T) {
	p, fp, clk := newTestPool(t)
	p.shortWait = 20 * time.Millisecond
	ctx := context.Background()
	slow := baseSettings()
	slow.RequestsPerSecond, slow.Burst = 1, 1
	fast := baseSettings()
	fast.RequestsPerSecond, fast.Burst = 1000, 10

	conn := mustGet(t, p, "uid", slow)
	if _, err := lookup(ctx, conn, "a"); err != nil {
		t.Fatal(err)
	}
	var throttled *DeferredError
	if _, err := lookup(ctx, conn, "b"); !errors.As(err, &throttled) {
		t.Fatalf("at 1 rps the second call = %v, want throttled", err)
	}

	// Raising the rate takes effect on the same connection at once.
	if c := mustGet(t, p, "uid", fast); c != conn {
		t.Fatalf("rate change replaced the connection")
	}
	if interval, burst := conn.turns.rate(); interval != time.Millisecond || burst != 10 {
		t.Errorf("bucket = one token per %s, burst %d; want 1ms (1000 rps), burst 10", interval, burst)
	}
	clk.advance(15 * time.Millisecond) // refill a few tokens at the new rate
	for i := range 5 {
		if _, err := lookup(ctx, conn, fmt.Sprint("fast", i)); err != nil {
			t.Fatalf("call %d after raising the rate: %v", i, err)
		}
	}

	// Lowering it again throttles again.
	mustGet(t, p, "uid", slow)
	if interval, burst := conn.turns.rate(); interval != time.Second || burst != 1 {
		t.Errorf("bucket = one token per %s, burst %d; want 1s, burst 1", interval, burst)
	}
	_, _ = lookup(ctx, conn, "last-token")
	if _, err := lookup(ctx, conn, "c"); !errors.As(err, &throttled) {
		t.Errorf("after lowering the rate the call = %v, want throttled", err)
	}
	if fp.newClientCalls() != 1 {
		t.Errorf("rate changes rebuilt the client %d times", fp.newClientCalls()-1)
	}
}

// TestPoolConcurrentUse is for the race detector: settings changes and lookups from many workers.
func TestPoolConcurrentUse(t *testing.T) {
	p, fp, _ := newTestPool(t)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				s := baseSettings()
				s.Token = fmt.Sprint("token-", (w+i)%2)
				conn, err := p.Get(fmt.Sprint("uid-", w%2), s)
				if err != nil {
					errs <- err
					return
				}
				if _, err := lookup(context.Background(), conn, fmt.Sprint("k", i)); err != nil {
					errs <- err
					return
				}
				_ = conn.PausedUntil()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if fp.newClientCalls() == 0 {
		t.Errorf("no client built")
	}
}

// lookup returns the pool's connection for id, if it keeps one.
func (p *Pool) lookup(id string) (*Conn, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	conn, ok := p.conns[id]
	return conn, ok
}
