package connection

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/orgsync/orgsync/internal/provider"
)

// Conn is one provider object's connection to its upstream.
type Conn struct {
	provider string
	now      func() time.Time
	maxWait  time.Duration
	limiter  *rate.Limiter

	mu          sync.Mutex
	client      provider.Client
	fingerprint [32]byte
	pausedUntil time.Time
}

// ThrottledError says the client-side token bucket has no token for a while; no request was sent.
type ThrottledError struct {
	Delay time.Duration
}

// PausedError is the provider-wide 429 pause answering for the upstream; no request was sent. It
// unwraps to the RateLimited *provider.Error the caller would have got from the upstream itself.
type PausedError struct {
	Err *provider.Error
}

func (e *PausedError) Error() string { return e.Err.Error() }

func (e *PausedError) Unwrap() error { return e.Err }

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("client-side rate limit: next request allowed in %s", e.Delay.Round(time.Millisecond))
}

func (c *Conn) setRate(rps float64, burst int) {
	if c.limiter.Limit() != rate.Limit(rps) {
		c.limiter.SetLimit(rate.Limit(rps))
	}
	if c.limiter.Burst() != burst {
		c.limiter.SetBurst(burst)
	}
}

func (c *Conn) swapClient(client provider.Client, fp [32]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.client = client
	c.fingerprint = fp
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

// GetUser reads one user, honouring the provider-wide 429 pause and the token bucket. While paused it
// returns a *PausedError (a RateLimited *provider.Error) without sending anything; when the bucket would make the caller
// wait longer than maxWait it returns a *ThrottledError so the caller can come back later instead of
// holding a worker.
func (c *Conn) GetUser(ctx context.Context, key string) (provider.User, error) {
	c.mu.Lock()
	client := c.client
	paused := c.pausedUntil
	c.mu.Unlock()

	if now := c.now(); now.Before(paused) {
		return provider.User{}, &PausedError{Err: &provider.Error{
			Provider:   c.provider,
			Kind:       provider.KindRateLimited,
			StatusCode: 429,
			Message:    "upstream asked to back off; all users of this provider wait until " + paused.UTC().Format(time.RFC3339),
			RetryAfter: paused.Sub(now),
		}}
	}

	reservation := c.limiter.Reserve()
	if delay := reservation.Delay(); delay > c.maxWait {
		reservation.Cancel()
		return provider.User{}, &ThrottledError{Delay: delay}
	} else if delay > 0 {
		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			reservation.Cancel()
			return provider.User{}, ctx.Err()
		case <-timer.C:
		}
	}

	user, err := client.GetUser(ctx, key)
	var perr *provider.Error
	if err != nil && errors.As(err, &perr) && perr.Kind == provider.KindRateLimited {
		c.pause(perr.RetryAfter)
	}
	return user, err
}

// defaultPause applies when a 429 carries no usable Retry-After.
const defaultPause = 30 * time.Second

func (c *Conn) pause(retryAfter time.Duration) {
	if retryAfter <= 0 {
		retryAfter = defaultPause
	}
	c.PauseUntil(c.now().Add(retryAfter))
}

// PauseUntil extends the provider-wide pause to until, e.g. from a rateLimitedUntil recorded in status
// by an earlier process, so a restart or a leader change does not call upstream before Retry-After.
func (c *Conn) PauseUntil(until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if until.After(c.pausedUntil) {
		c.pausedUntil = until
	}
}
