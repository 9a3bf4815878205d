package main

import (
	"context"
	"fmt"
	"runtime"
	"time"
)

// snapshot is every counter the bench reads, at one moment; scenarios subtract two of them.
type snapshot struct {
	at       time.Time
	api      apiCounts
	calls    callSample
	modified int
	events   int
	cpu      map[string]float64
}

func (b *bench) snapshot(ctx context.Context) (snapshot, error) {
	api, err := b.e.apiCounts(ctx)
	if err != nil {
		return snapshot{}, err
	}
	events, err := b.e.eventOccurrences(ctx)
	if err != nil {
		return snapshot{}, err
	}
	return snapshot{at: time.Now(), api: api, calls: b.calls.now(), modified: b.users.modifiedEvents(), events: events,
		cpu: cpuTimes()}, nil
}

// noteTraffic adds what a phase cost the API server and the upstream, as info rows; synced is how
// many users the phase synced anew, for the writes each of them cost.
func (b *bench) noteTraffic(name string, before, after snapshot, synced int) {
	api := after.api.minus(before.api)
	calls := after.calls.all - before.calls.all
	b.table.note(name, "API server and upstream traffic (info)",
		"%.0f Secret GETs, %.0f OrgUser status writes, %.0f OrgUser object writes (labels), "+
			"%s writes per newly synced user, %d upstream calls in %s",
		api.secretGets, api.statusWrites, api.objectWrites, ratio(api.statusWrites+api.objectWrites, float64(synced)),
		calls, seconds(after.at.Sub(before.at)))
	b.table.note(name, "CPU used (info)", "%s; the machine has %d cores", cpuDelta(before.cpu, after.cpu), runtime.NumCPU())
}

func ratio(a, b float64) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", a/b)
}
