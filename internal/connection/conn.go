package connection

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/orgsync/orgsync/internal/provider"
)

// Conn is one provider object's connection to its upstream: the client of the current settings, the
// turn queue that paces requests, the answers callers of the same key may share, and the lookups in
// flight. Lookup and the requests of a ListingSession (listing.go) are the only ways a request is
// sent, and both take their turn from the same queue.
type Conn struct {
	provider string
	now      func() time.Time
	// shortWait is how long a caller may wait in place, for its token or for an identical lookup in
	// flight; any longer wait is handed back as a DeferredError, so no worker waits on the upstream
	// except the one sending.
	shortWait time.Duration
	turns     *turnQueue
	answers   answerCache
	// onJoin, when set (tests), is called each time a caller joins a flight; onBudgetWait each time a
	// caller waits for a slot of a busy budget.
	onJoin, onBudgetWait func()

	mu          sync.Mutex
	client      provider.Client
	fingerprint [32]byte
	flights     map[answerKey]*flight
	// capabilities are what the current client's server offers a listing, once read; nil until
	// then and after the client is replaced.
	capabilities *provider.ListCapabilities
}

// flight is one request in progress; callers of the same key and credential join it.
type flight struct {
	done   chan struct{}
	answer Answer
	err    error
	// keepFor is the longest MaxAge of the callers that joined: the answer is kept that long, so a
	// caller that could not wait for it finds it when it comes back.
	keepFor time.Duration
}

// Request is one lookup.
type Request struct {
	Key string
	// Holder names the caller (an OrgUser). A deferred caller keeps the turn it reserved under this
	// name, so it does not queue again when it comes back.
	Holder string
	// MaxAge lets an answer fetched this recently, for any caller with the same key and credential,
	// answer this one without a request. Zero always sends a request (or joins one in flight).
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
	// CauseInFlight: an identical lookup is in flight and did not finish within the short wait.
	CauseInFlight = "inflight"
)

// DeferredError says no request was sent and when to come back: the token bucket has no token yet, the
// provider is paused after a 429, its budget of requests is in use, or an identical lookup is still in
// flight. It is not a failure.
type DeferredError struct {
	Delay time.Duration
	Cause string
}

func (e *DeferredError) Error() string {
	return fmt.Sprintf("lookup deferred (%s): retry in %s", e.Cause, e.Delay.Round(time.Millisecond))
}

// swapClient installs a client for new settings. Answers read with the old credential can serve
// nobody any more; requests still in flight with it file their answers under the old fingerprint.
func (c *Conn) swapClient(client provider.Client, fp [32]byte) {
	c.mu.Lock()
	old := c.client
	c.client = client
	c.fingerprint = fp
	c.capabilities = nil
	c.mu.Unlock()
	c.answers.dropOthers(fp)
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
func (c *Conn) PausedUntil() time.Time { return c.turns.paused(c.now()) }

// PauseUntil extends the provider-wide pause to until, e.g. from a rateLimitedUntil recorded in status
// by an earlier process, so a restart or a leader change does not call upstream before Retry-After.
// It reports whether a new pause began.
func (c *Conn) PauseUntil(until time.Time) bool { return c.turns.pause(until, c.now()) }

// Lookup reads one user: from an answer another caller of the same key read within req.MaxAge, from
// an identical lookup in flight that ends within the short wait, or with a request of its own once the
// turn queue grants one (a busy budget may free a slot within the short wait). Otherwise it returns a
// *DeferredError.
func (c *Conn) Lookup(ctx context.Context, req Request) (Answer, error) {
	var giveUp *time.Timer
	defer func() {
		if giveUp != nil {
			giveUp.Stop()
		}
	}()
	for {
		now := c.now()
		c.mu.Lock()
		client, k := c.client, answerKey{fingerprint: c.fingerprint, key: req.Key}
		if a, ok := c.answers.get(k, req.MaxAge, now); ok {
			c.mu.Unlock()
			collapsedLookups.WithLabelValues(c.provider).Inc()
			a.Shared = true
			return a, a.err
		}
		if f, ok := c.flights[k]; ok {
			f.keepFor = max(f.keepFor, req.MaxAge)
			c.mu.Unlock()
			return c.join(ctx, f, req.Holder)
		}
		t := c.turns.take(req.Holder, now, c.shortWait)
		if t.granted {
			f := &flight{done: make(chan struct{}), keepFor: req.MaxAge}
			c.flights[k] = f
			c.mu.Unlock()
			return c.fly(ctx, client, k, f, t.wait)
		}
		c.mu.Unlock()
		if err := c.waitOrDefer(ctx, t, &giveUp); err != nil {
			return Answer{}, err
		}
	}
}

// waitOrDefer handles a turn that was not granted: it waits, within the caller's short wait (its
// timer *giveUp, started on the first refusal), for a budget slot another request gives back, and
// returns nil when one was so the caller may ask again; otherwise a *DeferredError.
func (c *Conn) waitOrDefer(ctx context.Context, t turn, giveUp **time.Timer) error {
	if *giveUp == nil {
		*giveUp = time.NewTimer(c.shortWait)
	}
	if c.onBudgetWait != nil && t.freed != nil {
		c.onBudgetWait()
	}
	if waitFreed(ctx, t.freed, (*giveUp).C) {
		return nil
	}
	deferrals.WithLabelValues(c.provider, t.cause).Inc()
	return &DeferredError{Delay: t.wait, Cause: t.cause}
}

// waitFreed reports whether a budget slot was given back before giveUp; false at once without freed.
func waitFreed(ctx context.Context, freed <-chan struct{}, giveUp <-chan time.Time) bool {
	if freed == nil {
		return false
	}
	select {
	case <-freed:
		return true
	case <-giveUp:
	case <-ctx.Done():
	}
	return false
}

// fly sends the request of flight f, files its answer and hands it to the callers that joined.
func (c *Conn) fly(ctx context.Context, client provider.Client, k answerKey, f *flight, wait time.Duration) (Answer, error) {
	var user provider.User
	// sendOnTurn, not send: the budget slot is given back only after the answer is filed (below).
	err := c.sendOnTurn(ctx, wait, func(ctx context.Context) (err error) {
		user, err = client.GetUser(ctx, k.key)
		return err
	})
	answer := Answer{User: user, FetchedAt: c.now()}

	// The answer is filed before the flight ends and the slot is given back after: a caller woken by
	// the freed slot, or arriving now, finds one or the other and sends no second request.
	c.mu.Lock()
	if err == nil || provider.IsKind(err, provider.KindNotFound) {
		answer.err = err
		c.answers.put(k, answer, f.keepFor, c.now())
	}
	delete(c.flights, k)
	c.mu.Unlock()
	c.turns.release(answered(err), c.now())
	f.answer, f.err = answer, err
	close(f.done)
	return answer, err
}

// answered reports whether the upstream answered at all: a success or any HTTP status.
func answered(err error) bool {
	var perr *provider.Error
	return err == nil || (errors.As(err, &perr) && perr.StatusCode != 0)
}

// join waits at most the short wait for a flight of the same key. A caller that would wait longer
// comes back later instead of holding a worker on a slow upstream: the flight keeps its answer for it.
func (c *Conn) join(ctx context.Context, f *flight, holder string) (Answer, error) {
	if c.onJoin != nil {
		c.onJoin()
	}
	timer := time.NewTimer(c.shortWait)
	defer timer.Stop()
	select {
	case <-f.done:
		if errors.Is(f.err, context.Canceled) || errors.Is(f.err, context.DeadlineExceeded) {
			break // the sender gave up; that says nothing about the user
		}
		collapsedLookups.WithLabelValues(c.provider).Inc()
		a := f.answer
		a.Shared = true
		return a, f.err
	case <-ctx.Done():
		return Answer{}, ctx.Err()
	case <-timer.C:
	}
	deferrals.WithLabelValues(c.provider, CauseInFlight).Inc()
	return Answer{}, &DeferredError{Delay: c.turns.turnAway(holder, c.now()), Cause: CauseInFlight}
}

// send waits out a short wait for the granted turn, then sends the request call makes, and gives
// the turn's budget slot back. A 429 pauses the whole connection.
func (c *Conn) send(ctx context.Context, wait time.Duration, call func(context.Context) error) error {
	err := c.sendOnTurn(ctx, wait, call)
	c.turns.release(answered(err), c.now())
	return err
}

func (c *Conn) sendOnTurn(ctx context.Context, wait time.Duration, call func(context.Context) error) error {
	if wait > 0 {
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
	}
	inFlightRequests.WithLabelValues(c.provider).Inc()
	start := time.Now()
	err := call(ctx)
	inFlightRequests.WithLabelValues(c.provider).Dec()
	observeRequest(c.provider, err, time.Since(start))

	var perr *provider.Error
	if errors.As(err, &perr) && perr.Kind == provider.KindRateLimited {
		c.pause(perr.RetryAfter)
	}
	return err
}

// defaultPause applies when a 429 carries no usable Retry-After.
const defaultPause = 30 * time.Second

func (c *Conn) pause(retryAfter time.Duration) {
	if retryAfter <= 0 {
		retryAfter = defaultPause
	}
	// Whole seconds, as status.rateLimitedUntil keeps them: a pause read back from status then ends
	// exactly when this one does, instead of extending it by a fraction of a second.
	until := c.now().Add(retryAfter)
	if whole := until.Truncate(time.Second); !whole.Equal(until) {
		until = whole.Add(time.Second)
	}
	if c.PauseUntil(until) {
		pauses.WithLabelValues(c.provider).Inc()
	}
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
