package controller

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/provider"
)

const samples = 2000

func within(d, lo, hi time.Duration) bool { return d >= lo && d <= hi }

func tenPercent(d time.Duration) (lo, hi time.Duration) {
	return d - d/10, d + d/10
}

func TestTimingJitteredStaysWithinTenPercent(t *testing.T) {
	for _, d := range []time.Duration{10 * time.Second, 5 * time.Minute, time.Hour, 24 * time.Hour} {
		t.Run(d.String(), func(t *testing.T) {
			lo, hi := tenPercent(d)
			minSeen, maxSeen := time.Duration(1<<62), time.Duration(0)
			for range samples {
				got := jittered(d)
				if !within(got, lo, hi) {
					t.Fatalf("jittered(%s) = %s, outside [%s, %s]", d, got, lo, hi)
				}
				minSeen, maxSeen = min(minSeen, got), max(maxSeen, got)
			}
			// Users created together must spread out: both sides of d are used.
			if minSeen >= d || maxSeen <= d {
				t.Errorf("jittered(%s) not spread around d: min %s, max %s", d, minSeen, maxSeen)
			}
		})
	}
}

func TestTimingTransientBackoff(t *testing.T) {
	tests := []struct {
		failures int
		refresh  time.Duration
		want     time.Duration // before jitter
		goodData bool
	}{
		{1, time.Hour, 5 * time.Second, false},
		{2, time.Hour, 10 * time.Second, false},
		{3, time.Hour, 20 * time.Second, false},
		{4, time.Hour, 40 * time.Second, false},
		{6, time.Hour, 160 * time.Second, false},
		{7, time.Hour, 5 * time.Minute, false}, // 320s capped at 5m
		{1000, time.Hour, 5 * time.Minute, false},
		{5, 30 * time.Second, 30 * time.Second, false}, // 80s capped by the refresh interval
		{3, 30 * time.Second, 20 * time.Second, false},
		{50, 10 * time.Second, 10 * time.Second, false},
		// A user whose mirror is good starts at a quarter of its refresh interval.
		{1, time.Minute, 15 * time.Second, true},
		{2, time.Minute, 30 * time.Second, true},
		{1, time.Hour, 5 * time.Minute, true}, // 15m capped at 5m
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d failures, refresh %s", tc.failures, tc.refresh), func(t *testing.T) {
			lo, hi := tenPercent(tc.want)
			hi = min(hi, tc.refresh) // never beyond the refresh interval
			for range samples / 10 {
				if got := transientBackoff(tc.failures, tc.refresh, tc.goodData); !within(got, lo, hi) {
					t.Fatalf("transientBackoff(%d, %s) = %s, want %s ±10%%", tc.failures, tc.refresh, got, tc.want)
				}
			}
		})
	}
}

func outcomeOf(err error) (syncOutcome, time.Duration) {
	return classify("mixpeek", provider.User{ID: "u"}, err)
}

func perr(kind provider.ErrorKind, code int) error {
	return &provider.Error{Provider: "mixpeek", Kind: kind, StatusCode: code}
}

func TestTimingNextAttempt(t *testing.T) {
	const refresh = time.Hour
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	att := func(err error) attempt {
		o, retryAfter := outcomeOf(err)
		return attempt{outcome: o, refreshInterval: refresh, retryAfter: retryAfter}
	}
	rateLimited := func(retryAfter time.Duration) error {
		return &provider.Error{Provider: "mixpeek", Kind: provider.KindRateLimited, StatusCode: 429, RetryAfter: retryAfter}
	}
	terminalAttempt := func(reason string) attempt {
		return attempt{outcome: terminal(reason, "x"), refreshInterval: refresh}
	}
	in := statusInput{now: now, refreshInterval: refresh}
	recentlySynced := statusInput{now: now, refreshInterval: refresh, lastSuccess: now.Add(-time.Minute)}
	// 2s before Ready must turn Stale.
	nearDeadline := statusInput{now: now, refreshInterval: refresh, lastSuccess: now.Add(-3*refresh + 2*time.Second)}
	pastDeadline := statusInput{now: now, refreshInterval: refresh, lastSuccess: now.Add(-4 * refresh)}

	tests := []struct {
		name     string
		att      attempt
		failures int
		in       statusInput
		lo, hi   time.Duration
	}{
		{"success: at refresh ±10%", att(nil), 0, recentlySynced, 54 * time.Minute, 66 * time.Minute},
		{"401: at refresh, never faster", att(perr(provider.KindUnauthorized, 401)), 0, in, refresh, 66 * time.Minute},
		{"403: at refresh, never faster", att(perr(provider.KindForbidden, 403)), 0, in, refresh, 66 * time.Minute},
		{"404: at refresh, never faster", att(perr(provider.KindNotFound, 404)), 0, in, refresh, 66 * time.Minute},
		{"provider missing: not faster than refresh", terminalAttempt(identityv1alpha1.ReasonProviderNotFound), 0, in, refresh, 66 * time.Minute},
		{"secret missing: not faster than refresh", terminalAttempt(identityv1alpha1.ReasonSecretNotFound), 0, in, refresh, 66 * time.Minute},
		{"invalid key: only an edit helps", terminalAttempt(identityv1alpha1.ReasonInvalidKey), 0, in, 0, 0},
		{"invalid key from the client: only an edit helps", att(perr(provider.KindInvalidKey, 0)), 0, in, 0, 0},
		{"ambiguous key: only an edit of the object or provider helps", att(perr(provider.KindAmbiguousKey, 0)), 0, in, 0, 0},
		{"429 waits for Retry-After", att(rateLimited(90 * time.Second)), 1, in, 90 * time.Second, 99 * time.Second},
		{"429 waits for Retry-After after a good sync", att(rateLimited(10 * time.Minute)), 1, recentlySynced, 10 * time.Minute, 11 * time.Minute},
		{"429 without Retry-After backs off", att(rateLimited(0)), 1, in, 4500 * time.Millisecond, 5500 * time.Millisecond},
		{"5xx first failure backs off 5s", att(perr(provider.KindTransient, 503)), 1, in, 4500 * time.Millisecond, 5500 * time.Millisecond},
		{"5xx third failure backs off 20s", att(perr(provider.KindTransient, 503)), 3, in, 18 * time.Second, 22 * time.Second},
		{"5xx with a fresh mirror starts at refresh/4 (capped at 5m)", att(perr(provider.KindTransient, 503)), 1, recentlySynced, 270 * time.Second, 5 * time.Minute},
		{"timeout backs off", att(context.DeadlineExceeded), 2, in, 9 * time.Second, 11 * time.Second},
		{"transient near the stale deadline wakes just after it", att(perr(provider.KindTransient, 502)), 6, nearDeadline, 2*time.Second + 1, 3 * time.Second},
		{"backoff crossing the stale deadline tries once more shortly before it", att(perr(provider.KindTransient, 502)), 6,
			statusInput{now: now, refreshInterval: refresh, lastSuccess: now.Add(-3*refresh + 2*time.Minute)}, 105 * time.Second, 105 * time.Second},
		{"transient past the stale deadline keeps backing off", att(perr(provider.KindTransient, 502)), 2, pastDeadline, 9 * time.Second, 11 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for range samples / 10 {
				got := nextAttempt(tc.att, tc.failures, tc.in)
				if !within(got, tc.lo, tc.hi) {
					t.Fatalf("nextAttempt = %s, want within [%s, %s]", got, tc.lo, tc.hi)
				}
				if tc.att.outcome.transient() && got <= 0 {
					t.Fatalf("transient failure would never be retried: %s", got)
				}
			}
		})
	}
}

func TestClassify(t *testing.T) {
	user := provider.User{ID: "usr_1", Email: "a@example.com", Role: provider.RoleAdmin, State: provider.StateActive}
	tests := []struct {
		name           string
		err            error
		reason         string
		terminal       bool
		retryAfter     time.Duration
		keepsProvider  bool
		messageContain string
	}{
		{"success", nil, identityv1alpha1.ReasonSynced, false, 0, true, "mixpeek"},
		{"404", perr(provider.KindNotFound, 404), identityv1alpha1.ReasonUserNotFound, true, 0, true, "404"},
		{"401", perr(provider.KindUnauthorized, 401), identityv1alpha1.ReasonUnauthorized, true, 0, false, "401"},
		{"403", perr(provider.KindForbidden, 403), identityv1alpha1.ReasonForbidden, true, 0, false, "403"},
		{"invalid key", perr(provider.KindInvalidKey, 0), identityv1alpha1.ReasonInvalidKey, true, 0, false, "InvalidKey"},
		{"two users match the key", perr(provider.KindAmbiguousKey, 200), identityv1alpha1.ReasonAmbiguousKey, true, 0, false, "200"},
		{"400 invalidFilter", perr(provider.KindInvalidConfig, 400), identityv1alpha1.ReasonProviderInvalid, true, 0, false, "400"},
		{"429 with Retry-After", &provider.Error{Provider: "mixpeek", Kind: provider.KindRateLimited, StatusCode: 429, RetryAfter: 42 * time.Second},
			identityv1alpha1.ReasonProviderUnavailable, false, 42 * time.Second, false, "429"},
		{"5xx", perr(provider.KindTransient, 503), identityv1alpha1.ReasonProviderUnavailable, false, 0, false, "503"},
		{"wrapped provider error", fmt.Errorf("lookup: %w", perr(provider.KindForbidden, 403)), identityv1alpha1.ReasonForbidden, true, 0, false, "403"},
		{"unclassified error", errors.New("connection reset"), identityv1alpha1.ReasonProviderUnavailable, false, 0, false, "connection reset"},
		{"context deadline", context.DeadlineExceeded, identityv1alpha1.ReasonProviderUnavailable, false, 0, false, "deadline"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, retryAfter := classify("mixpeek", user, tc.err)
			if got.reason != tc.reason || got.terminal != tc.terminal {
				t.Errorf("reason=%q terminal=%v, want %q terminal=%v", got.reason, got.terminal, tc.reason, tc.terminal)
			}
			if retryAfter != tc.retryAfter {
				t.Errorf("retryAfter = %s, want %s", retryAfter, tc.retryAfter)
			}
			if tc.keepsProvider != (got.providerName == "mixpeek") {
				t.Errorf("providerName = %q, want set: %v", got.providerName, tc.keepsProvider)
			}
			if !strings.Contains(got.message, tc.messageContain) {
				t.Errorf("message %q does not mention %q", got.message, tc.messageContain)
			}
			if tc.err == nil {
				if got.user == nil || got.user.ID != user.ID || got.user.Role != user.Role {
					t.Errorf("user = %+v, want %+v", got.user, user)
				}
			} else if got.user != nil {
				t.Errorf("failed lookup carries a user: %+v", got.user)
			}
			// Transient failures (and only they) leave Ready alone for a while; terminal ones set Stalled.
			if wantTransient := tc.reason == identityv1alpha1.ReasonProviderUnavailable; got.transient() != wantTransient {
				t.Errorf("transient() = %v, want %v", got.transient(), wantTransient)
			}
		})
	}
}
