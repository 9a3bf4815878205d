package controller

import (
	"hash/fnv"
	"time"
)

// refreshDelay is when to read a user again after a successful read: one refresh interval, moved by up
// to ±10% towards the user's phase, a point in the interval derived from its provider and key. Users
// created together (a GitOps sync of thousands of OrgUsers) thus drift apart within a few rounds until
// their reads are spread evenly over the interval, and then keep exactly one read per interval. Users
// sharing a provider and key share a phase, so their reads meet and collapse into one request.
func refreshDelay(interval time.Duration, now time.Time, phaseKey string) time.Duration {
	if interval <= 0 {
		return 0
	}
	phase := time.Duration(phaseHash(phaseKey) % uint64(interval))
	// How far the ideal next read (now + interval) is from the phase, as a signed offset in
	// [-interval/2, interval/2).
	ideal := time.Duration(now.Add(interval).UnixNano() % int64(interval))
	offset := (phase - ideal + interval) % interval
	if offset >= interval/2 {
		offset -= interval
	}
	limit := time.Duration(jitterFraction * float64(interval))
	return interval + max(-limit, min(limit, offset))
}

// untilPhase is when to read a user again after its first successful read by this process: at the
// next point of its phase, between a tenth of the interval and 1.1 intervals from now. Thousands of
// users created at once (a GitOps sync) are thus spread evenly over the interval from their second
// read on, instead of refreshing together for many rounds; none is read later than its interval.
func untilPhase(interval time.Duration, now time.Time, phaseKey string) time.Duration {
	if interval <= 0 {
		return 0
	}
	phase := time.Duration(phaseHash(phaseKey) % uint64(interval))
	position := time.Duration(now.UnixNano() % int64(interval))
	delay := (phase - position + interval) % interval
	if delay < interval/10 {
		delay += interval
	}
	return delay
}

func phaseHash(key string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(key))
	return h.Sum64()
}
