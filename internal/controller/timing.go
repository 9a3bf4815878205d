package controller

import (
	"math/rand/v2"
	"time"
)

// Backoff for transient upstream failures: doubling from transientBaseDelay, capped by
// transientMaxDelay and never longer than the refresh interval.
const (
	transientBaseDelay = 5 * time.Second
	transientMaxDelay  = 5 * time.Minute
	jitterFraction     = 0.1
)

// jittered spreads d uniformly over ±10%, so users created together do not refresh together forever.
func jittered(d time.Duration) time.Duration {
	spread := float64(d) * jitterFraction
	return time.Duration(float64(d) - spread + rand.Float64()*2*spread) //nolint:gosec // jitter needs no crypto
}

// transientBackoff is the delay before retry number failures (1 for the first failure). A user whose
// mirror is still good is in no hurry: it starts from a quarter of its refresh interval, so an upstream
// failing half its requests gets little more than its usual load. The jitter never takes a retry
// beyond the refresh interval, so a recovered upstream is read again within one interval.
func transientBackoff(failures int, refresh time.Duration, haveGoodData bool) time.Duration {
	limit := min(transientMaxDelay, refresh)
	delay := transientBaseDelay
	if haveGoodData {
		delay = max(delay, refresh/4)
	}
	for i := 1; i < failures && delay < limit; i++ {
		delay *= 2
	}
	d := jittered(min(delay, limit))
	if d > limit {
		d = 2*limit - d
	}
	return d
}
