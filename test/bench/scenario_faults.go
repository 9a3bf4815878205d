package main

import (
	"context"
	"fmt"
	"time"

	"github.com/orgsync/orgsync/internal/upstreamsim"
)

// faults is scenario 5: Mixpeek answers a share of requests with 5xx while Flashback refuses the
// token (401), both for faultDuration; then both recover.
func (b *bench) faults(ctx context.Context) error {
	cfg := b.cfg
	const name = "5 faults"
	b.step("Scenario 5: %.0f %% 503 from Mixpeek and 401 from Flashback for %s, then recovery",
		100*cfg.faultShare, cfg.faultDuration)
	if err := b.waitAllSynced(ctx); err != nil {
		return err
	}
	b.users.beginWindow()
	start := b.calls.now()
	b.e.sim.SetFaultRate(upstreamsim.ProviderMixpeek, cfg.faultShare, 503)
	b.e.sim.RevokeToken(flashbackToken)
	if err := b.hold(ctx, cfg.faultDuration); err != nil {
		return err
	}
	end := b.calls.now()
	mixpeek, flashback := b.users.count(usersOf(mixpeekProvider)), b.users.count(usersOf(flashbackProvider))
	b.e.sim.SetFaultRate(upstreamsim.ProviderMixpeek, 0, 0)
	b.e.sim.AllowToken(flashbackToken)
	recovered := time.Now()

	minutes := end.at.Sub(start.at).Minutes()
	perMinute := float64(end.mixpeek-start.mixpeek) / minutes
	steady := b.expectedPerMinute(b.steady.mixpeek)
	b.table.add(name, "5xx: calls during the fault ≤ 2 × steady rate", perMinute <= 2*steady,
		"%.0f/min vs steady %.0f/min (%s ×)", perMinute, steady, ratio(perMinute, steady))
	b.table.add(name, "5xx: users synced before stay Ready, with Synced=False", mixpeek.leftReady == 0 && mixpeek.syncedFalse > 0,
		"%d of %d left Ready (%d of them Stale: no successful read for 3 intervals); %d showed Synced=False",
		mixpeek.leftReady, mixpeek.total, mixpeek.becameStale, mixpeek.syncedFalse)

	intervals := end.at.Sub(start.at).Seconds() / cfg.interval.Seconds()
	perUser := float64(end.flashback-start.flashback) / float64(cfg.perProvider()) / intervals
	b.table.add(name, "401: one call per affected user per interval", perUser >= 0.9 && perUser <= 1.1,
		"%.2f calls per user per interval (%d Unauthorized users)", perUser, flashback.total-flashback.synced)

	// Both providers recover in parallel; each gets its own time.
	deadline := 3 * cfg.interval
	for _, provider := range []string{mixpeekProvider, flashbackProvider} {
		ok, pop, err := b.users.waitFor(ctx, usersOf(provider), time.Until(recovered.Add(deadline)), allSynced, b.leader)
		if err != nil {
			return err
		}
		took := time.Since(recovered)
		measured := seconds(took)
		if !ok {
			measured = fmt.Sprintf("only %d of %d after %s", pop.synced, pop.total, seconds(took))
		}
		if provider == mixpeekProvider {
			b.table.add(name, fmt.Sprintf("5xx: all Synced=True within one refreshInterval (%s) after recovery", cfg.interval),
				ok && took <= cfg.interval, "%s", measured)
		} else {
			// 401 is retried at refreshInterval plus up to 10 % jitter, never faster: no target of its own.
			b.table.note(name, "401: all Synced=True again after the token is accepted (info)", "%s", measured)
		}
	}
	return nil
}

func allSynced(p population) bool { return p.total > 0 && p.synced == p.total }

// waitAllSynced makes sure a scenario starts from a fully synced population.
func (b *bench) waitAllSynced(ctx context.Context) error {
	ok, pop, err := b.users.waitFor(ctx, mainUsers, 3*b.cfg.interval, allSynced, b.leader)
	if err != nil {
		return err
	}
	if !ok {
		b.progress("starting with %d of %d users Synced=True (waited %s)", pop.synced, pop.total, 3*b.cfg.interval)
	}
	return nil
}

// blackhole is scenario 6: Mixpeek accepts requests and never answers; Flashback stays healthy.
func (b *bench) blackhole(ctx context.Context) error {
	cfg := b.cfg
	const name = "6 blackhole"
	b.step("Scenario 6: Mixpeek blackholed for %s, Flashback healthy", cfg.blackholeDuration)
	if err := b.waitAllSynced(ctx); err != nil {
		return err
	}
	b.users.beginWindow()
	start := b.calls.now()
	b.e.sim.Blackhole(upstreamsim.ProviderMixpeek, true)
	err := b.hold(ctx, cfg.blackholeDuration)
	end := b.calls.now()
	b.e.sim.Blackhole(upstreamsim.ProviderMixpeek, false)
	if err != nil {
		return err
	}
	intervals := end.at.Sub(start.at).Seconds() / cfg.interval.Seconds()
	perUser := float64(end.flashback-start.flashback) / float64(cfg.perProvider()) / intervals
	b.table.add(name, "healthy provider: 0.9–1.1 calls per user per interval", perUser >= 0.9 && perUser <= 1.1, "%.2f", perUser)
	healthy := b.users.count(usersOf(flashbackProvider))
	b.table.add(name, "healthy provider: none goes Stale", healthy.becameStale == 0 && healthy.leftReady == 0,
		"%d turned Stale, %d left Ready", healthy.becameStale, healthy.leftReady)
	return nil
}
