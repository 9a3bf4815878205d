package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// bench is one run: the world, the instruments and the table being filled.
type bench struct {
	cfg   config
	e     *env
	bins  binaries
	users *tracker
	calls *sampler
	out   io.Writer
	table table

	// managers are every manager process started, in order; leader is the one expected to lead.
	managers []*process
	leader   *process
	standby  *process
	// peakRSS is the highest VmHWM of a manager while only the main population existed, and
	// peaks each manager's own.
	peakRSS int64
	peaks   map[string]int64
	// steady holds the upstream calls per minute of scenario 3, for the scenarios that compare
	// against it; zero when scenario 3 did not run (they then use users per interval).
	steady struct{ mixpeek, flashback float64 }
	// firstListingEnd are the simulator's SCIM request counts when scenario 11's first sync ended,
	// so the time up to its steady window is accounted for too.
	firstListingEnd struct {
		at         time.Time
		scim, list int
	}
}

// run runs the selected scenarios and prints the table; it returns the table for tests.
func run(ctx context.Context, opts options, out io.Writer) (*table, error) {
	b, err := runBench(ctx, opts, out)
	if err != nil {
		return nil, err
	}
	fmt.Fprintln(out)
	b.table.print(out)
	return &b.table, nil
}

func runBench(ctx context.Context, opts options, out io.Writer) (*bench, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	// The bench's own client and watch log nothing worth reading; the managers log to their files.
	ctrllog.SetLogger(logr.Discard())
	if cfg.workDir == "" {
		cfg.workDir = filepath.Join(cfg.repoRoot, "bin", "bench", time.Now().UTC().Format("run-20060102-150405"))
	}
	if err := os.MkdirAll(cfg.workDir, 0o755); err != nil {
		return nil, err
	}
	b := &bench{cfg: cfg, out: out}
	started := time.Now()
	b.step("Work directory %s (binaries, kubeconfig, manager logs)", cfg.workDir)

	b.step("Building the manager and the baseline manager")
	if b.bins, err = buildBinaries(ctx, cfg); err != nil {
		return nil, err
	}
	b.step("Starting kube-apiserver and etcd, and the upstream simulator (%s latency)", cfg.latency)
	if b.e, err = startEnv(cfg); err != nil {
		return nil, err
	}
	defer b.e.stop()
	defer b.stopManagers()

	if err := b.populate(ctx); err != nil {
		return nil, err
	}
	if err := b.runScenarios(ctx); err != nil {
		return nil, err
	}
	b.step("Done in %s", time.Since(started).Round(time.Second))
	return b, nil
}

// populate creates what every scenario shares: providers, Secrets and the main OrgUsers.
func (b *bench) populate(ctx context.Context) error {
	cfg := b.cfg
	if err := b.e.createBase(ctx, cfg.limitedRPS, max(1, cfg.limitedRPS/5), time.Hour); err != nil {
		return err
	}
	if cfg.scenarios[8] {
		b.step("Creating %d unrelated Secrets of %d KiB", cfg.unrelatedSecrets, cfg.secretBytes/1024)
		start := time.Now()
		if err := b.e.createUnrelatedSecrets(ctx); err != nil {
			return err
		}
		b.progress("created in %s", time.Since(start).Round(time.Second))
	}
	if cfg.needsMain() {
		b.step("Creating %d OrgUsers (%d Mixpeek, %d Flashback) in namespace %s", cfg.users, cfg.perProvider(), cfg.perProvider(), benchNamespace)
		start := time.Now()
		if err := b.e.createMainUsers(ctx); err != nil {
			return err
		}
		b.progress("created in %s", time.Since(start).Round(time.Second))
	}
	var err error
	if b.users, err = startTracker(ctx, b.e); err != nil {
		return err
	}
	b.calls = startSampler(ctx, b.e.sim)
	return nil
}

func (b *bench) runScenarios(ctx context.Context) error {
	s := b.cfg.scenarios
	steps := []struct {
		selected bool
		run      func(context.Context) error
	}{
		// Scenario 10 needs the population synced (at 1 h) by scenario 1, and no manager running yet.
		{s[1] || s[10], b.rateLimited},
		{s[10], b.dayOne},
		// Scenarios 3 to 8 need the population synced at the steady interval that scenario 2 produces.
		{s[2] || s[3] || s[4] || s[5] || s[6] || s[7] || s[8], b.unlimited},
		{s[3], b.steadyState},
		{s[7], b.failover},
		{s[5], b.faults},
		{s[6], b.blackhole},
		{s[8], b.memory},
		// Last: it adds OrgUsers, which would change every other scenario's counts and memory.
		{s[4], b.sharedKeys},
		// After 4, for the same reason; it removes what it adds.
		{s[9], b.scim},
		// After 9, for the same reason: it stops the managers before it and starts its own, which
		// also holds the main population; it removes what it adds.
		{s[11], b.directory},
	}
	for _, st := range steps {
		if !st.selected {
			continue
		}
		if err := st.run(ctx); err != nil {
			return err
		}
		b.printPeaks()
	}
	return nil
}

// startManager starts a manager process named manager-<n>.
func (b *bench) startManager() (*process, error) {
	p, err := startManager(b.e, b.bins, fmt.Sprintf("manager-%d", len(b.managers)+1))
	if err != nil {
		return nil, err
	}
	b.managers = append(b.managers, p)
	return p, nil
}

// recordPeak folds the manager's peak memory into peakRSS; call it while p still runs.
func (b *bench) recordPeak(p *process) {
	if p == nil || p.alive() != nil {
		return
	}
	if peak, err := p.peakMemory(); err == nil {
		b.peakRSS = max(b.peakRSS, peak)
		if b.peaks == nil {
			b.peaks = map[string]int64{}
		}
		b.peaks[p.name] = peak
	}
	if path, err := p.saveHeapProfile(context.Background(), b.cfg.workDir, "peak"); err != nil {
		b.progress("no heap profile of %s: %v", p.name, err)
	} else if path != "" {
		b.progress("heap profile of %s: %s", p.name, path)
	}
}

// printPeaks prints each running manager's peak RSS so far, so a run's log shows in which scenario
// each peak was reached.
func (b *bench) printPeaks() {
	var parts []string
	for _, p := range b.managers {
		if p.alive() != nil {
			continue
		}
		if peak, err := p.peakMemory(); err == nil {
			parts = append(parts, fmt.Sprintf("%s %.0f MiB", p.name, float64(peak)/mib))
		}
	}
	if len(parts) > 0 {
		b.progress("peak RSS so far: %s", strings.Join(parts, ", "))
	}
}

func (b *bench) stopManagers() {
	for _, p := range b.managers {
		p.stop()
	}
}

// live checks the processes expected to run.
func (b *bench) live(procs ...*process) error {
	var errs []error
	for _, p := range procs {
		if p != nil {
			errs = append(errs, p.alive())
		}
	}
	return errors.Join(errs...)
}

// hold waits d while checking that the managers stay up.
func (b *bench) hold(ctx context.Context, d time.Duration) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if err := b.live(b.leader, b.standby); err != nil {
			return err
		}
		if err := sleep(ctx, min(time.Second, time.Until(deadline))); err != nil {
			return err
		}
	}
	return nil
}

func (b *bench) step(format string, args ...any) {
	fmt.Fprintf(b.out, "%s ==> %s\n", time.Now().UTC().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func (b *bench) progress(format string, args ...any) {
	fmt.Fprintf(b.out, "             %s\n", fmt.Sprintf(format, args...))
}

// expectedPerMinute is the steady upstream rate of one provider's users: from scenario 3 when it
// ran, else one call per user per interval.
func (b *bench) expectedPerMinute(measured float64) float64 {
	if measured > 0 {
		return measured
	}
	return float64(b.cfg.perProvider()) / b.cfg.interval.Minutes()
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }
