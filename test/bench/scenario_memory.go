package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"
)

const mib = 1 << 20

// memory is scenario 8: the managers' peak RSS with the main population and the unrelated Secrets,
// next to a bare controller-runtime manager that only caches the same OrgUsers.
func (b *bench) memory(ctx context.Context) error {
	const name = "8 memory"
	b.step("Scenario 8: peak RSS of the managers vs a bare manager caching the same %d OrgUsers", b.cfg.users)
	b.recordPeak(b.leader)
	b.recordPeak(b.standby)
	basePeak, err := b.baselinePeak(ctx, "baseline")
	if err != nil {
		return err
	}
	limit := min(1.3*float64(basePeak), 150*mib)
	b.table.add(name, "peak RSS ≤ 1.3 × bare baseline and < 150 MiB", float64(b.peakRSS) <= limit,
		"%.0f MiB vs baseline %.0f MiB (%s ×), %d unrelated Secrets", float64(b.peakRSS)/mib, float64(basePeak)/mib,
		ratio(float64(b.peakRSS), float64(basePeak)), b.cfg.unrelatedSecrets)
	b.table.note(name, "peak RSS of each manager (info)", "%s", b.peakList())
	return nil
}

func (b *bench) peakList() string {
	parts := make([]string, 0, len(b.managers))
	for _, p := range b.managers {
		if peak, ok := b.peaks[p.name]; ok {
			parts = append(parts, fmt.Sprintf("%s %.0f MiB", p.name, float64(peak)/mib))
		}
	}
	return strings.Join(parts, ", ")
}

// baselineSynced is what the baseline prints once its cache holds the OrgUsers.
const baselineSynced = "BASELINE SYNCED"

func readFile(path string) string {
	data, _ := os.ReadFile(path) //nolint:gosec // the bench's own log file
	return string(data)
}

// baselinePeak starts the bare baseline manager, waits until its cache holds every OrgUser and the
// garbage of the initial list has settled, as scenario 8 does, and returns its peak RSS.
func (b *bench) baselinePeak(ctx context.Context, name string) (int64, error) {
	baseline, err := startProcess(b.cfg, name, b.bins.baseline, "--kubeconfig="+b.e.kubeconfig)
	if err != nil {
		return 0, err
	}
	defer baseline.stop()
	deadline := time.Now().Add(3 * time.Minute)
	for !strings.Contains(readFile(baseline.log.Name()), baselineSynced) {
		if err := baseline.alive(); err != nil {
			return 0, err
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("%s did not sync its cache within 3 minutes; see %s", name, baseline.log.Name())
		}
		if err := sleep(ctx, 250*time.Millisecond); err != nil {
			return 0, err
		}
	}
	// Let the garbage of the initial list settle the way it would in a long-running process.
	if err := sleep(ctx, 5*time.Second); err != nil {
		return 0, err
	}
	return baseline.peakMemory()
}
