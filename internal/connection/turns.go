package connection

import (
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// turnQueue decides, for one provider object, when each caller may send a request: the client-side
// token bucket, the reservations of callers told to come back, the provider-wide pause a 429 imposes,
// and the budget of requests waiting for an answer. It never sleeps and never calls out; its answer is
// "send now" (after at most shortWait) or "come back at T".
//
// The bucket is a GCRA (generic cell rate algorithm) rather than golang.org/x/time/rate, because a
// pause must re-space the turns already handed out: rate.Limiter cannot move reservations it made, so
// every caller that had reserved a turn before a 429 would come back at the pause's end at once.
type turnQueue struct {
	mu sync.Mutex
	// interval is the time one token takes to refill (1 / requests per second); tolerance is how far
	// ahead of the steady rate a burst may run ((burst-1) × interval).
	interval, tolerance time.Duration
	// tat is the theoretical arrival time of the next request at the steady rate.
	tat time.Time
	// reserved are the turns of callers told to come back: the time each may send.
	reserved    map[string]time.Time
	pausedUntil time.Time
	inFlight    int
	maxInFlight int
	// turnedAway counts, per caller, the lookups in a row refused for a full budget or a flight of
	// the same key still in progress; each doubles the caller's next wait.
	turnedAway map[string]streak
	sweptAt    time.Time
	// answeredAt is when the upstream last answered a request (any HTTP answer, not a timeout): a
	// full budget while answers come is a busy upstream, not a hung one.
	answeredAt time.Time
	// freed is closed when a budget slot is given back after an answer, and then replaced.
	freed chan struct{}
}

// turn is the queue's answer to one caller.
type turn struct {
	// granted means the caller holds a budget slot and may send after wait (at most shortWait).
	granted bool
	wait    time.Duration
	// cause says why a caller that was not granted must come back (one of the Cause constants).
	cause string
	// freed, for a caller turned away by a full budget of an upstream that is answering, is closed
	// when a slot is given back: the caller may take another turn then, within its short wait.
	freed <-chan struct{}
}

func newTurnQueue(rps float64, burst, maxInFlight int) *turnQueue {
	q := &turnQueue{reserved: map[string]time.Time{}, turnedAway: map[string]streak{}, maxInFlight: maxInFlight,
		freed: make(chan struct{})}
	q.setRate(rps, burst, time.Time{})
	return q
}

// setRate changes the bucket's rate. The turns already owed keep their count: the time they stand for
// is scaled to the new interval, so raising the rate helps at once and lowering it slows at once.
func (q *turnQueue) setRate(rps float64, burst int, now time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	rps, burst = max(rps, 0.001), max(burst, 1)
	interval := time.Duration(float64(time.Second) / rps)
	if q.interval > 0 && interval != q.interval && q.tat.After(now) {
		owed := float64(q.tat.Sub(now)) / float64(q.interval)
		q.tat = now.Add(time.Duration(owed * float64(interval)))
	}
	q.interval = interval
	q.tolerance = time.Duration(burst-1) * q.interval
}

// rate reports the bucket's settings, for tests and logs.
func (q *turnQueue) rate() (interval time.Duration, burst int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.interval, int(q.tolerance/q.interval) + 1
}

// take answers a caller that wants to send now. The budget comes first: a caller turned away for a
// full budget has not spent a token, so callers of other keys are not queued behind a hung upstream.
// A full budget of an upstream that answers is only busy: its callers are not backed off as if it
// hung, and may wait for the next slot given back.
func (q *turnQueue) take(holder string, now time.Time, shortWait time.Duration) turn {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.sweepLocked(now)
	if q.inFlight >= q.maxInFlight {
		t := turn{wait: q.turnAwayLocked(holder, now, true), cause: CauseConcurrency}
		if q.answeringLocked(now) {
			t.freed = q.freed
		}
		return t
	}
	slot, ok := q.reserved[holder]
	if !ok || slot.Before(now.Add(-q.interval)) {
		// A turn missed by more than one interval (its caller was turned away by the budget
		// meanwhile) is gone: sending on it now would add to the turns of the callers that came on
		// time, beyond the rate.
		slot = q.reserveLocked(now)
	}
	if wait := slot.Sub(now); wait > shortWait {
		q.reserved[holder] = slot
		cause := CauseClientRateLimit
		if q.pausedUntil.After(now) {
			cause = CausePaused
		}
		return turn{wait: wait, cause: cause}
	}
	delete(q.reserved, holder)
	delete(q.turnedAway, holder)
	q.inFlight++
	return turn{granted: true, wait: max(0, slot.Sub(now))}
}

// reserveLocked hands out the next turn at the steady rate, allowing a burst after a quiet period.
func (q *turnQueue) reserveLocked(now time.Time) time.Time {
	slot := maxTime(now, q.tat.Add(-q.tolerance))
	q.tat = maxTime(q.tat, slot).Add(q.interval)
	return slot
}

// release gives back a budget slot once a request is over; answered says the upstream answered it
// (a timeout or a refused connection is not an answer).
func (q *turnQueue) release(answered bool, now time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.inFlight--
	if answered {
		q.answeredAt = maxTime(q.answeredAt, now)
		close(q.freed)
		q.freed = make(chan struct{})
	}
}

// answeringWindow is how recent an answer must be for a full budget to count as busy rather than hung.
const answeringWindow = time.Second

func (q *turnQueue) answeringLocked(now time.Time) bool {
	return !q.answeredAt.IsZero() && now.Sub(q.answeredAt) < answeringWindow
}

// turnAway is for a caller that joined a flight still in progress: like a full budget, it comes back
// later without having spent a token.
func (q *turnQueue) turnAway(holder string, now time.Time) time.Duration {
	q.mu.Lock()
	defer q.mu.Unlock()
	// Answers to other keys say nothing about this key's flight: its streak keeps growing.
	return q.turnAwayLocked(holder, now, false)
}

// Waits of callers turned away without a turn: doubling from turnAwayBase, at most turnAwayMax, so a
// hung upstream costs each waiting caller a handful of reconciles per timeout rather than one a second.
const (
	turnAwayBase = time.Second
	turnAwayMax  = time.Minute
)

// streak is how often in a row a caller was turned away, and when last.
type streak struct {
	count int
	at    time.Time
}

// turnAwayLocked counts one more refusal for holder and says when it should come back. With
// answersEndStreak, an answer from the upstream since holder's last refusal starts its streak anew:
// the budget was full because the upstream is busy, which waiting a second cures.
func (q *turnQueue) turnAwayLocked(holder string, now time.Time, answersEndStreak bool) time.Duration {
	s := q.turnedAway[holder]
	if answersEndStreak && !q.answeredAt.IsZero() && !q.answeredAt.Before(s.at) {
		s.count = 0
	}
	q.turnedAway[holder] = streak{count: s.count + 1, at: now}
	wait := turnAwayBase << min(s.count, 6)
	// Up to half again, so callers turned away together come back apart.
	wait += time.Duration(rand.Int64N(int64(wait)/2 + 1)) //nolint:gosec // spreading needs no crypto
	return min(wait, turnAwayMax)
}

// pause makes every caller wait until until. The turns already handed out are moved behind it in
// their order, one interval apart, and the bucket's burst is spent: an upstream that asked us to slow
// down gets requests at the steady rate when the pause ends, not all at once. It reports whether a
// new pause began.
func (q *turnQueue) pause(until, now time.Time) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !until.After(q.pausedUntil) {
		return false
	}
	began := !now.Before(q.pausedUntil)
	q.pausedUntil = until

	holders := make([]string, 0, len(q.reserved))
	for holder := range q.reserved {
		holders = append(holders, holder)
	}
	slices.SortFunc(holders, func(a, b string) int { return q.reserved[a].Compare(q.reserved[b]) })
	next := until
	for _, holder := range holders {
		slot := maxTime(q.reserved[holder], next)
		q.reserved[holder] = slot
		next = slot.Add(q.interval)
	}
	// The next new reservation gets next, and each after it one interval later.
	q.tat = maxTime(q.tat, next.Add(q.tolerance))
	return began
}

// paused is the end of the current pause, or the zero time.
func (q *turnQueue) paused(now time.Time) time.Time {
	q.mu.Lock()
	defer q.mu.Unlock()
	if now.Before(q.pausedUntil) {
		return q.pausedUntil
	}
	return time.Time{}
}

// sweepLocked forgets the turns of callers that never came back (deleted OrgUsers) and old streaks,
// so memory follows the callers waiting now.
func (q *turnQueue) sweepLocked(now time.Time) {
	if now.Sub(q.sweptAt) < time.Minute {
		return
	}
	q.sweptAt = now
	for holder, slot := range q.reserved {
		if now.Sub(slot) > time.Minute {
			delete(q.reserved, holder)
		}
	}
	for holder, s := range q.turnedAway {
		if now.Sub(s.at) > 2*turnAwayMax {
			delete(q.turnedAway, holder)
		}
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
