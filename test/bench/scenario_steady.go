package main

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/orgsync/orgsync/internal/upstreamsim"
)

// steadyState is scenario 3: nothing changes upstream for two refresh intervals.
func (b *bench) steadyState(ctx context.Context) error {
	cfg := b.cfg
	const name = "3 steady state"
	window := time.Duration(cfg.steadyIntervals) * cfg.interval
	b.step("Scenario 3: steady state, refreshInterval %s, measured over %s after %s", cfg.interval, window, cfg.steadySettle)
	if err := b.hold(ctx, cfg.steadySettle); err != nil {
		return err
	}
	before, err := b.snapshot(ctx)
	if err != nil {
		return err
	}
	if err := b.hold(ctx, window); err != nil {
		return err
	}
	after, err := b.snapshot(ctx)
	if err != nil {
		return err
	}

	modified := after.modified - before.modified
	api := after.api.minus(before.api)
	b.table.add(name, "zero OrgUser writes", modified == 0 && api.statusWrites == 0 && api.objectWrites == 0,
		"%d MODIFIED watch events, %.0f status and %.0f object PATCH/UPDATE/APPLY", modified, api.statusWrites, api.objectWrites)
	events := after.events - before.events
	b.table.add(name, "zero Events", events == 0, "%d", events)

	intervals := after.at.Sub(before.at).Seconds() / cfg.interval.Seconds()
	perUser := float64(after.calls.total()-before.calls.total()) / float64(cfg.users) / intervals
	b.table.add(name, "0.9–1.1 upstream calls per user per interval", perUser >= 0.9 && perUser <= 1.1, "%.2f", perUser)

	peak, mean := b.calls.busiest(before.at, after.at, 10*time.Second)
	b.table.add(name, "busiest 10 s ≤ 1.5 × mean", float64(peak) <= 1.5*mean,
		"busiest %d calls, mean %.0f (%s ×)", peak, mean, ratio(float64(peak), mean))
	b.table.note(name, "calls in each 10 s of the window (info)",
		"%v", b.calls.series(before.at, after.at, 10*time.Second))

	const providers = 2
	bound := providers * int(math.Ceil(after.at.Sub(before.at).Seconds()/cfg.secretPoll.Seconds()))
	b.table.add(name, fmt.Sprintf("Secret GETs ≤ providers × window / secret poll = %d", bound), api.secretGets <= float64(bound),
		"%.0f in %s", api.secretGets, seconds(after.at.Sub(before.at)))

	minutes := after.at.Sub(before.at).Minutes()
	b.steady.mixpeek = float64(after.calls.mixpeek-before.calls.mixpeek) / minutes
	b.steady.flashback = float64(after.calls.flashback-before.calls.flashback) / minutes
	return nil
}

// failover is scenario 7: the leader is killed and the standby, started long before, takes over. A
// small share of transient errors runs through the takeover, because a staleness clock counted from
// the standby's process start only shows on a failed call.
func (b *bench) failover(ctx context.Context) error {
	cfg := b.cfg
	const name = "7 failover"
	// A staleness clock counted from the standby's process start would turn users Stale only once
	// the standby has been up for longer than three refresh intervals.
	if wait := 3*cfg.interval + cfg.interval/2 - time.Since(b.standby.started); wait > 0 {
		b.step("Scenario 7: waiting %s, until the standby has been up for three and a half intervals", wait.Round(time.Second))
		if err := b.hold(ctx, wait); err != nil {
			return err
		}
	}
	b.step("Scenario 7: kill the leader; the standby (up for %s) takes over; %.0f %% 503s for %s",
		time.Since(b.standby.started).Round(time.Second), 100*cfg.failoverFaultShare, cfg.failoverWindow)
	if b.standby.isLeader(ctx) {
		return fmt.Errorf("%s leads before the failover; expected %s", b.standby.name, b.leader.name)
	}
	b.users.beginWindow()
	for _, provider := range []string{upstreamsim.ProviderMixpeek, upstreamsim.ProviderFlashback} {
		b.e.sim.SetFaultRate(provider, cfg.failoverFaultShare, 503)
	}
	b.recordPeak(b.leader)
	killed := time.Now()
	b.leader.kill()
	b.leader, b.standby = b.standby, nil
	leading, err := waitLeader(ctx, b.leader, 3*time.Minute)
	if err != nil {
		return err
	}
	takeover := leading.Sub(killed)
	start := b.calls.now()
	if err := b.hold(ctx, cfg.failoverWindow); err != nil {
		return err
	}
	end := b.calls.now()
	for _, provider := range []string{upstreamsim.ProviderMixpeek, upstreamsim.ProviderFlashback} {
		b.e.sim.SetFaultRate(provider, 0, 0)
	}

	b.table.note(name, "takeover time (info)", "%s from SIGKILL to the standby leading", seconds(takeover))
	perMinute := float64(end.total()-start.total()) / end.at.Sub(start.at).Minutes()
	steady := b.expectedPerMinute(b.steady.mixpeek) + b.expectedPerMinute(b.steady.flashback)
	b.table.add(name, fmt.Sprintf("calls in the first %s ≤ 1.5 × steady rate", cfg.failoverWindow), perMinute <= 1.5*steady,
		"%.0f/min vs steady %.0f/min (%s ×)", perMinute, steady, ratio(perMinute, steady))
	pop := b.users.count(mainUsers)
	b.table.add(name, "zero users turn Stale", pop.becameStale == 0, "%d turned Stale, %d left Ready", pop.becameStale, pop.leftReady)
	return nil
}
