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

// After their first read, users created in one burst are read again at their phase points: evenly
// over the interval from the second read on, never later than the interval, users of one key together.
func TestFirstReadSchedulesTheNextAtThePhasePoint(t *testing.T) {
	const users = 6000
	interval := time.Minute
	start := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	var buckets [6]int
	for i := range users {
		at := start.Add(time.Duration(rand.Int64N(int64(5 * time.Second)))) //nolint:gosec // test data
		d := untilPhase(interval, at, fmt.Sprint("provider-uid/user-", i))
		if d < interval/10 || d >= interval*11/10 {
			t.Fatalf("next read in %s, want within [%s, %s)", d, interval/10, interval*11/10)
		}
		next := at.Add(d)
		buckets[(next.UnixNano()%int64(interval))/int64(10*time.Second)]++
		// From the phase point on, reads keep exactly one interval.
		if again := refreshDelay(interval, next, fmt.Sprint("provider-uid/user-", i)); again != interval {
			t.Fatalf("user %d: read after the phase point in %s, want %s", i, again, interval)
		}
	}
	for b, n := range buckets {
		if mean := users / 6; n > mean*13/10 {
			t.Errorf("10s slot %d holds %d second reads, mean %d: not spread evenly", b, n, mean)
		}
	}
	a := untilPhase(interval, start, "uid/shared@example.com")
	b := untilPhase(interval, start.Add(2*time.Second), "uid/shared@example.com")
	if got := start.Add(a); !got.Equal(start.Add(2*time.Second).Add(b)) && b > interval/10 {
		t.Errorf("users of one key read again at %s and %s, want the same phase point", got, start.Add(2*time.Second).Add(b))
	}
}
