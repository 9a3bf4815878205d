package main

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
)

// rateLimited is scenario 1: every user's first sync under a client-side rateLimit just below the
// upstream's own limit per token. Each provider must read perProvider users at limitedRPS, so the
// floor is perProvider / limitedRPS.
func (b *bench) rateLimited(ctx context.Context) error {
	cfg := b.cfg
	const name = "1 rate-limited"
	floor := time.Duration(float64(cfg.perProvider()) / float64(cfg.limitedRPS) * float64(time.Second))
	b.step("Scenario 1: %d OrgUsers, rateLimit %d rps per provider, simulator %g rps per token; floor %s",
		cfg.users, cfg.limitedRPS, cfg.simTokenRPS, floor)
	b.e.sim.SetTokenRateLimit(cfg.simTokenRPS, cfg.simTokenBurst)
	defer b.e.sim.SetTokenRateLimit(0, 0)

	before, err := b.snapshot(ctx)
	if err != nil {
		return err
	}
	limited := b.e.sim.RateLimited()
	manager, err := b.startManager()
	if err != nil {
		return err
	}
	b.leader = manager
	leading, err := waitLeader(ctx, manager, 2*time.Minute)
	if err != nil {
		return err
	}
	ok, pop, err := b.users.waitFor(ctx, mainUsers, max(3*floor, floor+time.Minute), allReady, manager)
	if err != nil {
		return err
	}
	took := time.Since(leading)
	after, err := b.snapshot(ctx)
	if err != nil {
		return err
	}
	b.recordPeak(manager)
	manager.stop()
	b.leader = nil
	if !cfg.scenarios[1] { // run for scenario 10, unreported
		if !ok {
			return fmt.Errorf("only %d of %d OrgUsers Ready after %s; scenario 10 needs them all", pop.ready, cfg.users, seconds(took))
		}
		return nil
	}

	target := time.Duration(1.1 * float64(floor))
	if ok {
		b.table.add(name, fmt.Sprintf("all %d Ready ≤ 1.10 × floor (%s) = %s", cfg.users, seconds(floor), seconds(target)), took <= target,
			"%s (%.2f × floor)", seconds(took), took.Seconds()/floor.Seconds())
	} else {
		b.table.add(name, fmt.Sprintf("all %d Ready ≤ 1.10 × floor = %s", cfg.users, seconds(target)), false,
			"only %d of %d Ready after %s", pop.ready, cfg.users, seconds(took))
	}
	n429 := b.e.sim.RateLimited() - limited
	b.table.add(name, "zero 429s", n429 == 0, "%d", n429)
	b.noteTraffic(name, before, after, cfg.users)
	return nil
}

// unlimited is scenario 2: the same first sync with no limits, against the write floor: how long
// a plain client takes to write one status patch per OrgUser to the same API server. It leaves the
// population synced at the steady refresh interval with a leader and a standby running.
func (b *bench) unlimited(ctx context.Context) error {
	cfg := b.cfg
	const name = "2 unlimited"
	b.step("Scenario 2: %d OrgUsers, no limits; first the write floor of a plain client (%d writers)", cfg.users, writers)
	start, cpuBefore := time.Now(), cpuTimes()
	if err := b.writeFloor(ctx, `{"status":{"observedGeneration":0}}`); err != nil {
		return err
	}
	floor := time.Since(start)
	floorCPU := cpuDelta(cpuBefore, cpuTimes())
	b.progress("write floor: %d status patches in %s", cfg.users, seconds(floor))
	cleared, _, err := b.users.waitFor(ctx, mainUsers, time.Minute, func(p population) bool { return p.ready == 0 && p.total == cfg.users })
	if err != nil {
		return err
	}
	if !cleared {
		return fmt.Errorf("the watch still shows Ready OrgUsers a minute after their status was cleared")
	}
	// The same kind of floor with the one informer any controller runs: the same status patches
	// again, with another one-field status, while the baseline manager watches. Only when reported.
	var informerFloor time.Duration
	var informerFloorCPU string
	if cfg.scenarios[2] {
		if informerFloor, informerFloorCPU, err = b.informerWriteFloor(ctx); err != nil {
			return err
		}
	}
	if err := b.e.setProviderLimits(ctx, 1000, 1000, cfg.interval); err != nil {
		return err
	}

	before, err := b.snapshot(ctx)
	if err != nil {
		return err
	}
	manager, err := b.startManager()
	if err != nil {
		return err
	}
	b.leader = manager
	leading, err := waitLeader(ctx, manager, 2*time.Minute)
	if err != nil {
		return err
	}
	ok, pop, err := b.users.waitFor(ctx, mainUsers, max(5*floor, 5*time.Minute), allReady, manager)
	if err != nil {
		return err
	}
	took := time.Since(leading)
	after, err := b.snapshot(ctx)
	if err != nil {
		return err
	}
	// The standby starts once the first sync is measured, so it costs that figure nothing; scenario 7
	// waits until it has been up for longer than three refresh intervals.
	if b.standby, err = b.startManager(); err != nil {
		return err
	}
	if !cfg.scenarios[2] {
		if !ok {
			return fmt.Errorf("only %d of %d OrgUsers Ready after %s; later scenarios need them all", pop.ready, cfg.users, seconds(took))
		}
		return nil
	}
	target := time.Duration(1.5 * float64(floor))
	b.table.add(name, fmt.Sprintf("all %d Ready ≤ 1.5 × write floor (%s) = %s", cfg.users, seconds(floor), seconds(target)),
		ok && took <= target, "%s (%.2f × floor)%s", seconds(took), took.Seconds()/floor.Seconds(), notAllReady(ok, pop, cfg.users))
	b.table.note(name, "CPU used by the write floor (info)", "%s", floorCPU)
	b.table.note(name, fmt.Sprintf("all %d Ready vs the write floor with an informer (%s) (info)", cfg.users, seconds(informerFloor)),
		"%s (%.2f × floor); that floor's CPU: %s", seconds(took), took.Seconds()/informerFloor.Seconds(), informerFloorCPU)
	b.noteTraffic(name, before, after, cfg.users)
	if !ok {
		return fmt.Errorf("only %d of %d OrgUsers Ready after %s; later scenarios need them all", pop.ready, cfg.users, seconds(took))
	}
	return nil
}

func notAllReady(ok bool, p population, want int) string {
	if ok {
		return ""
	}
	return fmt.Sprintf("; only %d of %d Ready", p.ready, want)
}

func allReady(p population) bool { return p.total > 0 && p.ready == p.total }

// informerWriteFloor is the write floor again while the baseline manager watches every OrgUser.
func (b *bench) informerWriteFloor(ctx context.Context) (time.Duration, string, error) {
	informer, err := b.startInformer(ctx, "informer-unlimited")
	if err != nil {
		return 0, "", err
	}
	defer informer.stop()
	start, cpuBefore := time.Now(), cpuTimes()
	if err := b.writeFloor(ctx, `{"status":{"observedGeneration":1}}`); err != nil {
		return 0, "", err
	}
	took := time.Since(start)
	b.progress("write floor with an informer: %d status patches in %s", b.cfg.users, seconds(took))
	return took, cpuDelta(cpuBefore, cpuTimes()), nil
}

// writeFloor writes one status patch per main OrgUser with a plain client: it clears the status a
// previous scenario wrote (which also makes the next sync a first sync), or, where the watch shows no
// condition, writes the one-field status of emptyPatch.
func (b *bench) writeFloor(ctx context.Context, emptyPatch string) error {
	n := b.cfg.perProvider()
	return parallel(ctx, 2*n, func(ctx context.Context, i int) error {
		name := mainUserName(mixpeekProvider, i)
		if i >= n {
			name = mainUserName(flashbackProvider, i-n)
		}
		u := &identityv1alpha1.OrgUser{}
		u.Namespace, u.Name = benchNamespace, name
		patch := []byte(`{"status":null}`)
		if !b.hasStatus(name) {
			patch = []byte(emptyPatch)
		}
		if err := b.e.k8s.Status().Patch(ctx, u, client.RawPatch("application/merge-patch+json", patch)); err != nil {
			return fmt.Errorf("patch status of OrgUser %s: %w", name, err)
		}
		return nil
	})
}

// hasStatus reports whether the tracker saw any condition on the main user.
func (b *bench) hasStatus(name string) bool {
	b.users.mu.Lock()
	defer b.users.mu.Unlock()
	s := b.users.users[types.NamespacedName{Namespace: benchNamespace, Name: name}]
	return s.syncedSeen || s.readyReason != ""
}
