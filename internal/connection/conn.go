package connection

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
	"golang.org/x/time/rate"

	"github.com/orgsync/orgsync/internal/provider"
)

// Conn is one provider object's connection to its upstream: the client, the client-side token bucket,
// the provider-wide 429 pause, a budget of concurrent requests and the collapsing of identical lookups.
type Conn struct {
	provider string
	now      func() time.Time
	// shortWait is how long a caller may sleep for its token in place; a longer wait is handed back
	// as a DeferredError so no worker sleeps in the bucket.
	shortWait time.Duration
	limiter   *rate.Limiter
	// inFlight bounds concurrent requests, so a provider that never answers holds at most this many
	// of the controller's workers.
	inFlight chan struct{}
	flights  singleflight.Group

	mu          sync.Mutex
	client      provider.Client
	fingerprint [32]byte
	pausedUntil time.Time
	// waitingOutPause counts the callers lined up behind the current pause.
	waitingOutPause int
	// slots are the times at which deferred callers own a token they already reserved.
	slots map[string]time.Time
	// recent holds the latest answers by key, so callers sharing a key within MaxAge share one request.
	recent map[string]Answer
	// longestMaxAge is the longest MaxAge any caller asked for: answers older than that serve nobody.
	longestMaxAge time.Duration
	// sweptAt is when slots and recent were last cleared of old entries.
	sweptAt time.Time
}

// Request is one lookup.
type Request struct {
	Key string
	// Holder names the caller (an OrgUser). A deferred caller keeps the token it reserved under this
	// name, so it does not queue again when it comes back.
	Holder string
	// MaxAge lets an answer fetched this recently, for any caller with the same key and credential,
	// answer this one without a request. Zero always sends a request.
	MaxAge time.Duration
}

// Answer is a user read upstream, with when it was read.
type Answer struct {
	User      provider.User
	FetchedAt time.Time
	// Shared is true when the answer came from another caller's request.
	Shared bool
	// err is a NotFound error kept with a shared answer: a 404 is an answer too.
	err error
}

// Deferral causes: why a lookup sent nothing.
const (
	CauseClientRateLimit = "client"
	CausePaused          = "paused"
	CauseConcurrency     = "concurrency"
)

// DeferredError says no request was sent and when to come back: the token bucket has no token yet, the
// provider is paused after a 429, or its concurrency budget is in use. It is not a failure.
type DeferredError struct {
	Delay time.Duration
	Cause string
}

func (e *DeferredError) Error() string {
	return fmt.Sprintf("lookup deferred (%s): retry in %s", e.Cause, e.Delay.Round(time.Millisecond))
}

func (c *Conn) setRate(rps float64, burst int) {
	if c.limiter.Limit() != rate.Limit(rps) {
		c.limiter.SetLimit(rate.Limit(rps))
	}
	if c.limiter.Burst() != burst {
		c.limiter.SetBurst(burst)
	}
}

// swapClient installs a client for new settings. Answers read with the old credential are dropped:
// they must never answer for another credential.
func (c *Conn) swapClient(client provider.Client, fp [32]byte) {
	c.mu.Lock()
	old := c.client
	c.client = client
	c.fingerprint = fp
	c.recent = map[string]Answer{}
	c.mu.Unlock()
	closeIdle(old)
}

// close releases the connections the client keeps alive; requests in flight finish first.
func (c *Conn) close() {
	c.mu.Lock()
	old := c.client
	c.mu.Unlock()
	closeIdle(old)
}

func closeIdle(client provider.Client) {
	if closer, ok := client.(provider.IdleConnectionCloser); ok {
		closer.CloseIdleConnections()
	}
}

// PausedUntil is the end of the current 429 pause, or the zero time.
func (c *Conn) PausedUntil() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.now().Before(c.pausedUntil) {
		return c.pausedUntil
	}
	return time.Time{}
}

// Lookup reads one user. It answers from a recent identical lookup when req.MaxAge allows, joins an
// identical lookup in flight, and otherwise sends one request once the pause, the token bucket and the
// concurrency budget allow. When they do not, it returns a *DeferredError at once.
func (c *Conn) Lookup(ctx context.Context, req Request) (Answer, error) {
	if a, ok := c.recentAnswer(req); ok {
		collapsedLookups.WithLabelValues(c.provider).Inc()
		return a, a.err
	}
	c.mu.Lock()
	fp := c.fingerprint
	c.mu.Unlock()
	v, err, shared := c.flights.Do(string(fp[:])+"\x00"+req.Key, func() (any, error) {
		return c.send(ctx, req)
	})
	if shared {
		collapsedLookups.WithLabelValues(c.provider).Inc()
	}
	a, _ := v.(Answer)
	a.Shared = shared
	return a, err
}

func (c *Conn) recentAnswer(req Request) (Answer, bool) {
	if req.MaxAge <= 0 {
		return Answer{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.longestMaxAge = max(c.longestMaxAge, req.MaxAge)
	a, ok := c.recent[req.Key]
	if !ok || c.now().Sub(a.FetchedAt) > req.MaxAge {
		return Answer{}, false
	}
	a.Shared = true
	return a, true
}

// send waits for the caller's turn and sends the request.
func (c *Conn) send(ctx context.Context, req Request) (Answer, error) {
	if err := c.takeTurn(ctx, req.Holder); err != nil {
		var deferred *DeferredError
		if errors.As(err, &deferred) {
			deferrals.WithLabelValues(c.provider, deferred.Cause).Inc()
		}
		return Answer{}, err
	}
	select {
	case c.inFlight <- struct{}{}:
	default:
		// The turn is kept: the caller comes back soon and goes straight to the budget.
		c.keepSlot(req.Holder, c.now())
		deferrals.WithLabelValues(c.provider, CauseConcurrency).Inc()
		return Answer{}, &DeferredError{Delay: concurrencyRetry, Cause: CauseConcurrency}
	}
	defer func() { <-c.inFlight }()

	c.mu.Lock()
	client := c.client
	c.mu.Unlock()

	inFlightRequests.WithLabelValues(c.provider).Inc()
	start := c.now()
	user, err := client.GetUser(ctx, req.Key)
	inFlightRequests.WithLabelValues(c.provider).Dec()
	observeRequest(c.provider, err, time.Since(start))

	var perr *provider.Error
	if errors.As(err, &perr) && perr.Kind == provider.KindRateLimited {
		c.pause(perr.RetryAfter)
	}
	answer := Answer{User: user, FetchedAt: c.now()}
	if err == nil || provider.IsKind(err, provider.KindNotFound) {
		answer.err = err
		c.remember(req.Key, answer)
	}
	return answer, err
}

// concurrencyRetry is when a caller turned away by a full concurrency budget comes back; the
// reconciler spreads it further.
const concurrencyRetry = time.Second

// takeTurn returns nil when the caller may send now. A caller that must wait longer than shortWait
// keeps a reserved token under its holder name and is told when to come back, so callers are served
// in the order of their reservations, spread at the provider's rate, and never wake together.
func (c *Conn) takeTurn(ctx context.Context, holder string) error {
	now := c.now()
	c.mu.Lock()
	slot, reserved := c.slots[holder]
	paused := c.pausedUntil
	if !reserved {
		r := c.limiter.ReserveN(now, 1)
		if !r.OK() {
			c.mu.Unlock()
			return &DeferredError{Delay: time.Second, Cause: CauseClientRateLimit}
		}
		slot = now.Add(r.DelayFrom(now))
		if paused.After(now) {
			// Callers that ask during a pause line up behind its end one token apart, without the
			// burst: an upstream that just asked us to slow down gets no burst when the pause ends.
			slot = maxTime(slot.Add(paused.Sub(now)),
				paused.Add(time.Duration(float64(c.waitingOutPause)/float64(c.limiter.Limit())*float64(time.Second))))
			c.waitingOutPause++
		}
	} else {
		delete(c.slots, holder)
		if paused.After(slot) {
			// A 429 arrived after the reservation: keep the order, behind the pause.
			slot = slot.Add(paused.Sub(now))
		}
	}
	wait := slot.Sub(now)
	if wait > c.shortWait {
		c.slots[holder] = slot
		c.sweepLocked(now)
		c.mu.Unlock()
		cause := CauseClientRateLimit
		if paused.After(now) {
			cause = CausePaused
		}
		return &DeferredError{Delay: wait, Cause: cause}
	}
	c.mu.Unlock()
	if wait <= 0 {
		return nil
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

func (c *Conn) keepSlot(holder string, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.slots[holder] = at
}

// remember keeps an answer for callers that may share it; with no such caller yet, nothing is kept.
func (c *Conn) remember(key string, a Answer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.longestMaxAge > 0 {
		c.recent[key] = a
	}
	c.sweepLocked(c.now())
}

// sweepLocked drops answers too old to serve anyone, and reservations of callers that never came back
// (deleted OrgUsers), so memory follows the users refreshing now, not every key ever read.
func (c *Conn) sweepLocked(now time.Time) {
	if now.Sub(c.sweptAt) < max(c.longestMaxAge, 10*time.Second) {
		return
	}
	c.sweptAt = now
	for key, a := range c.recent {
		if now.Sub(a.FetchedAt) > c.longestMaxAge {
			delete(c.recent, key)
		}
	}
	for holder, slot := range c.slots {
		if now.Sub(slot) > time.Minute {
			delete(c.slots, holder)
		}
	}
}

// defaultPause applies when a 429 carries no usable Retry-After.
const defaultPause = 30 * time.Second

func (c *Conn) pause(retryAfter time.Duration) {
	if retryAfter <= 0 {
		retryAfter = defaultPause
	}
	if c.PauseUntil(c.now().Add(retryAfter)) {
		pauses.WithLabelValues(c.provider).Inc()
	}
}

// PauseUntil extends the provider-wide pause to until, e.g. from a rateLimitedUntil recorded in status
// by an earlier process, so a restart or a leader change does not call upstream before Retry-After.
// It reports whether a new pause began.
func (c *Conn) PauseUntil(until time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !until.After(c.pausedUntil) {
		return false
	}
	began := !c.now().Before(c.pausedUntil)
	c.pausedUntil = until
	if began {
		c.waitingOutPause = 0
	}
	return began
}

func statusCode(err error) string {
	var perr *provider.Error
	if errors.As(err, &perr) && perr.StatusCode != 0 {
		return strconv.Itoa(perr.StatusCode)
	}
	if err == nil {
		return "200"
	}
	return "none"
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
