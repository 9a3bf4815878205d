package connection

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/orgsync/orgsync/internal/provider"
)

// listingClient is a fakeClient that can list: page answers ListPage, capabilities
// ListCapabilities, and both count their calls.
type listingClient struct {
	*fakeClient
	page         func(provider.PageRequest) (provider.Page, error)
	capabilities provider.ListCapabilities

	mu                            sync.Mutex
	pageCalls, capabilitiesCalled int
}

func (c *listingClient) ListCapabilities(context.Context) (provider.ListCapabilities, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.capabilitiesCalled++
	return c.capabilities, nil
}

func (c *listingClient) ListPage(_ context.Context, req provider.PageRequest) (provider.Page, error) {
	c.mu.Lock()
	c.pageCalls++
	page := c.page
	c.mu.Unlock()
	if page == nil {
		return provider.Page{Users: []provider.User{{ID: "1", Key: "a"}}, TotalResults: 1, HasTotalResults: true}, nil
	}
	return page(req)
}

func (c *listingClient) pages() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pageCalls
}

// listingProvider builds listingClients; the last one built is last.
type listingProvider struct {
	fakeProvider
	page func(provider.PageRequest) (provider.Page, error)

	listers []*listingClient
}

func (p *listingProvider) NewClient(cfg provider.Config) (provider.Client, error) {
	c, err := p.fakeProvider.NewClient(cfg)
	if err != nil {
		return nil, err
	}
	lc := &listingClient{fakeClient: c.(*fakeClient), page: p.page, capabilities: provider.ListCapabilities{CursorPaging: true}}
	p.mu.Lock()
	p.listers = append(p.listers, lc)
	p.mu.Unlock()
	return lc, nil
}

func (p *listingProvider) lastLister() *listingClient {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.listers[len(p.listers)-1]
}

func newListingPool(t *testing.T) (*Pool, *listingProvider, *fakeClock) {
	t.Helper()
	lp := &listingProvider{fakeProvider: fakeProvider{name: "fake"}}
	clk := newClock()
	p := NewPool(provider.Registry{"fake": lp}, PoolOptions{})
	p.now = clk.now
	return p, lp, clk
}

func beginListing(t *testing.T, conn *Conn) *ListingSession {
	t.Helper()
	session, err := conn.BeginListing()
	if err != nil {
		t.Fatalf("BeginListing: %v", err)
	}
	return session
}

// A provider whose client cannot list says so before anything is sent.
func TestBeginListingRefusesAClientThatCannotList(t *testing.T) {
	p, _, _ := newTestPool(t)
	conn := mustGet(t, p, "uid", baseSettings())
	if _, err := conn.BeginListing(); !errors.Is(err, ErrCannotList) {
		t.Fatalf("BeginListing on a lookup-only client = %v, want ErrCannotList", err)
	}
}

// Pages and lookups take turns from one token bucket: a listing cannot spend the rate limit that
// the provider's OrgUsers need, nor they the listing's.
func TestListPageTakesItsTurnFromTheLookupsQueue(t *testing.T) {
	p, lp, clk := newListingPool(t)
	s := baseSettings()
	s.RequestsPerSecond, s.Burst = 1, 1
	conn := mustGet(t, p, "uid", s)
	session := beginListing(t, conn)
	ctx := context.Background()

	if _, err := lookup(ctx, conn, "a"); err != nil {
		t.Fatalf("lookup with a full bucket: %v", err)
	}
	_, err := session.ListPage(ctx, "directory", provider.PageRequest{Count: 10})
	var deferred *DeferredError
	if !errors.As(err, &deferred) || deferred.Cause != CauseClientRateLimit {
		t.Fatalf("page right after a lookup spent the only token = %v, want deferred by the client rate limit", err)
	}
	if n := lp.lastLister().pages(); n != 0 {
		t.Fatalf("a deferred page was sent (%d page requests)", n)
	}

	clk.advance(deferred.Delay)
	if _, err := session.ListPage(ctx, "directory", provider.PageRequest{Count: 10}); err != nil {
		t.Fatalf("page at its turn: %v", err)
	}
	if _, err := lookup(ctx, conn, "b"); !errors.As(err, &deferred) {
		t.Fatalf("lookup right after the page spent the token = %v, want deferred", err)
	}
}

// A 429 on a page pauses the provider for every caller, lookups included, for Retry-After.
func TestListPageRateLimitedPausesLookupsToo(t *testing.T) {
	p, lp, clk := newListingPool(t)
	lp.page = func(provider.PageRequest) (provider.Page, error) {
		return provider.Page{}, &provider.Error{Provider: "fake", Op: provider.OpListUsers, Kind: provider.KindRateLimited,
			StatusCode: 429, RetryAfter: 20 * time.Second}
	}
	conn := mustGet(t, p, "uid", baseSettings())
	session := beginListing(t, conn)
	ctx := context.Background()

	if _, err := session.ListPage(ctx, "directory", provider.PageRequest{}); !provider.IsKind(err, provider.KindRateLimited) {
		t.Fatalf("page answered 429 = %v, want the RateLimited error", err)
	}
	if got, want := conn.PausedUntil(), clk.now().Add(20*time.Second); !got.Equal(want) {
		t.Fatalf("PausedUntil = %v, want %v (Retry-After)", got, want)
	}
	var deferred *DeferredError
	if _, err := lookup(ctx, conn, "a"); !errors.As(err, &deferred) || deferred.Cause != CausePaused {
		t.Fatalf("lookup during the pause = %v, want deferred by the pause", err)
	}
	if _, err := session.ListPage(ctx, "directory", provider.PageRequest{}); !errors.As(err, &deferred) || deferred.Cause != CausePaused {
		t.Fatalf("next page during the pause = %v, want deferred by the pause", err)
	}
	if deferred.Delay < 19*time.Second {
		t.Errorf("next page may come back in %s, want after the 20s Retry-After", deferred.Delay)
	}
	if n := lp.lastLister().pages(); n != 1 {
		t.Errorf("%d page requests sent, want only the one answered 429", n)
	}
}

// A listing's users answer lookups of their keys within MaxAge, with no request; answers listed
// with a credential that changed meanwhile are filed for nobody, and the listing cannot go on.
func TestRememberServesLookupsUnlessTheCredentialChanged(t *testing.T) {
	p, lp, clk := newListingPool(t)
	conn := mustGet(t, p, "uid", baseSettings())
	session := beginListing(t, conn)
	listedAt := clk.now()
	users := []provider.User{{ID: "1", Key: "alice", Email: "alice@example.com"}, {ID: "2", Key: ""}}
	if _, ok := session.Remember(users, listedAt, time.Hour); !ok {
		t.Fatal("Remember with the listing's own credential filed nothing")
	}

	clk.advance(30 * time.Minute)
	a, err := conn.Lookup(context.Background(), Request{Key: "alice", Holder: "u1", MaxAge: 45 * time.Minute})
	if err != nil || !a.Shared || a.User.Email != "alice@example.com" || !a.FetchedAt.Equal(listedAt) {
		t.Fatalf("lookup of a listed key = %+v, %v; want the listed answer, shared, fetched at the listing", a, err)
	}
	if n := lp.lastLister().total(); n != 0 {
		t.Fatalf("%d lookups sent upstream, want none", n)
	}
	if _, err := conn.Lookup(context.Background(), Request{Key: "alice", Holder: "u2", MaxAge: 10 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	if n := lp.lastLister().total(); n != 1 {
		t.Errorf("a lookup with MaxAge shorter than the listed answer's age sent %d requests, want 1", n)
	}

	stale := beginListing(t, conn)
	rotated := baseSettings()
	rotated.Token = "rotated"
	conn = mustGet(t, p, "uid", rotated)
	if _, ok := stale.Remember([]provider.User{{ID: "3", Key: "bob"}}, clk.now(), time.Hour); ok {
		t.Error("Remember after the credential changed reported the answers filed")
	}
	if _, err := stale.ListPage(context.Background(), "directory", provider.PageRequest{}); !errors.Is(err, ErrSettingsChanged) {
		t.Errorf("page of a listing begun with the old credential = %v, want ErrSettingsChanged", err)
	}
	if _, err := conn.Lookup(context.Background(), Request{Key: "bob", Holder: "u3", MaxAge: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if n := lp.lastLister().total(); n != 1 {
		t.Errorf("lookup with the new credential sent %d requests, want 1: the old listing must not answer it", n)
	}
}

// The server's capabilities are asked once per client; a listing after a settings change asks again.
func TestListCapabilitiesAskedOncePerCredential(t *testing.T) {
	p, lp, _ := newListingPool(t)
	conn := mustGet(t, p, "uid", baseSettings())
	ctx := context.Background()
	for range 3 {
		capabilities, err := beginListing(t, conn).ListCapabilities(ctx, "directory")
		if err != nil || !capabilities.CursorPaging {
			t.Fatalf("ListCapabilities = %+v, %v; want the server's cursor paging", capabilities, err)
		}
	}
	if n := lp.lastLister().capabilitiesCalled; n != 1 {
		t.Errorf("capabilities asked %d times by one client, want 1", n)
	}
	rotated := baseSettings()
	rotated.Token = "rotated"
	conn = mustGet(t, p, "uid", rotated)
	if _, err := beginListing(t, conn).ListCapabilities(ctx, "directory"); err != nil {
		t.Fatal(err)
	}
	if n := lp.lastLister().capabilitiesCalled; n != 1 {
		t.Errorf("new client asked %d times, want 1", n)
	}
}

// A user a complete listing lacks is looked up upstream at its next read, even when an earlier
// listing's answer for it would still be young enough.
func TestForgetMakesTheNextLookupGoUpstream(t *testing.T) {
	p, lp, clk := newListingPool(t)
	conn := mustGet(t, p, "uid", baseSettings())
	earlier := beginListing(t, conn)
	earlier.Remember([]provider.User{{ID: "1", Key: "alice"}, {ID: "2", Key: "bob"}}, clk.now(), time.Hour)

	clk.advance(time.Minute)
	later := beginListing(t, conn)
	later.Remember([]provider.User{{ID: "1", Key: "alice"}}, clk.now(), time.Hour)
	later.Forget([]string{"bob"})

	for _, key := range []string{"alice", "bob"} {
		if _, err := conn.Lookup(context.Background(), Request{Key: key, Holder: key, MaxAge: time.Hour}); err != nil {
			t.Fatal(err)
		}
	}
	if got := lp.lastLister().calls; got["bob"] != 1 || got["alice"] != 0 {
		t.Errorf("lookups sent upstream = %v, want bob's only", got)
	}
}

// Remember names the keys whose answer is new, so that only their OrgUsers are asked to read at
// once: a user the last listing said the same of reads it at its own refresh.
func TestRememberNamesTheKeysWhoseAnswerIsNew(t *testing.T) {
	p, _, clk := newListingPool(t)
	conn := mustGet(t, p, "uid", baseSettings())
	first := []provider.User{{ID: "1", Key: "alice", Role: provider.RoleMember}, {ID: "2", Key: "bob", Role: provider.RoleMember}}
	renewed, _ := beginListing(t, conn).Remember(first, clk.now(), 2*time.Minute)
	if !slices.Equal(renewed, []string{"alice", "bob"}) {
		t.Errorf("first listing renewed %v, want every key", renewed)
	}

	clk.advance(time.Minute)
	second := []provider.User{{ID: "1", Key: "alice", Role: provider.RoleAdmin}, {ID: "2", Key: "bob", Role: provider.RoleMember},
		{ID: "3", Key: "carol"}}
	renewed, _ = beginListing(t, conn).Remember(second, clk.now(), 2*time.Minute)
	if !slices.Equal(renewed, []string{"alice", "carol"}) {
		t.Errorf("second listing renewed %v, want alice (role changed) and carol (new), not bob (the same)", renewed)
	}

	// bob's answer outlived its keepFor: nobody was served it any more, so it is new again.
	clk.advance(3 * time.Minute)
	renewed, _ = beginListing(t, conn).Remember(second[1:2], clk.now(), 2*time.Minute)
	if !slices.Equal(renewed, []string{"bob"}) {
		t.Errorf("listing after the answer expired renewed %v, want bob", renewed)
	}

	rotated := baseSettings()
	rotated.Token = "rotated"
	conn = mustGet(t, p, "uid", rotated)
	renewed, _ = beginListing(t, conn).Remember(second[1:2], clk.now(), 2*time.Minute)
	if !slices.Equal(renewed, []string{"bob"}) {
		t.Errorf("listing with a new credential renewed %v, want bob: the old credential's answers serve nobody", renewed)
	}
}
