package controller

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// Users created in one burst end up reading evenly over the interval, each within ±10% of the interval
// at every step, and then once per interval.
func TestRefreshPhasesSpreadABurstEvenlyWithinTheJitterBound(t *testing.T) {
	const users = 2000
	interval := time.Minute
	start := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	next := make([]time.Time, users)
	for i := range next {
		next[i] = start.Add(time.Duration(rand.Int64N(int64(5 * time.Second)))) //nolint:gosec // test data
	}
	busiest := func() float64 {
		var buckets [6]int
		for _, at := range next {
			buckets[(at.UnixNano()%int64(interval))/int64(10*time.Second)]++
		}
		most := 0
		for _, n := range buckets {
			most = max(most, n)
		}
		return float64(most) / (float64(users) / 6)
	}
	if b := busiest(); b < 5 {
		t.Fatalf("test setup: busiest 10s of the burst is only %.1f× the mean", b)
	}
	for round := range 12 {
		for i := range next {
			d := refreshDelay(interval, next[i], fmt.Sprint("provider-uid/user-", i))
			if d < interval*9/10 || d > interval*11/10 {
				t.Fatalf("round %d: delay %s outside ±10%% of %s", round, d, interval)
			}
			next[i] = next[i].Add(d)
		}
	}
	if b := busiest(); b > 1.3 {
		t.Errorf("after 12 rounds the busiest 10s holds %.2f× the mean, want spread evenly (≤ 1.3×)", b)
	}
	// Settled users read exactly once per interval.
	for i := range 10 {
		if d := refreshDelay(interval, next[i], fmt.Sprint("provider-uid/user-", i)); d != interval {
			t.Errorf("settled user %d: delay %s, want %s", i, d, interval)
		}
	}
}

func TestRefreshPhaseIsSharedByUsersOfTheSameKey(t *testing.T) {
	interval := time.Hour
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	a := now.Add(refreshDelay(interval, now, "uid/alice@example.com"))
	b := now.Add(3 * time.Second)
	b = b.Add(refreshDelay(interval, b, "uid/alice@example.com"))
	if diff := b.Sub(a).Abs(); diff > 3*time.Second {
		t.Errorf("two users of one key read %s apart, want their reads to meet", diff)
	}
}
