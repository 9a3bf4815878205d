package outage

import (
	"fmt"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/upstreamsim"
	"github.com/orgsync/orgsync/test/envsuite"
)

// TestKilledMidWrite SIGKILLs the manager while it is writing the statuses of a forced refresh:
// Mixpeek users are being read and written one after the other, Flashback users' reads are in
// flight. Every version of every OrgUser that ever existed must be whole (one status write is one
// patch: role with providerRole, mirror with conditions, observedGeneration with them), and a
// restarted manager must finish the refresh writing each user once in all: no second write for a
// user the killed manager had finished, no repeated event.
func TestKilledMidWrite(t *testing.T) {
	// Enough workers that the slow Flashback reads cannot hold all of them.
	args := []string{"--max-concurrent-reconciles=12"}
	var (
		ns                string
		fixtures          []fixture
		recorder          *statusRecorder
		requested         string
		killedAt          time.Time
		writtenBeforeKill map[string]int
	)
	// A kill that lands after the last write tests nothing of what this test is for; it is tried
	// again on fresh users, earlier, a bounded number of times, and the test fails if it never lands.
	for attempt := 1; ; attempt++ {
		ns = suite.NewNamespace(t, "outage", nil, nil)
		fixtures = populate(t, ns, 24, 8)
		first := startManager(t, fmt.Sprintf("first-%d", attempt), args...)
		waitSynced(t, ns, fixtures, func(fixture) string { return "Member" }, "")
		waitQuiet(t, ns, 3*time.Second)
		recorder = recordStatuses(t, ns)

		for _, f := range fixtures {
			setUpstreamRole(t, f, true)
		}
		// Mixpeek answers quickly enough for a steady stream of writes; Flashback answers slowly (well
		// inside the provider's 10 s timeout), so its reads are still in flight when the manager dies.
		suite.Sim.InjectFault(upstreamsim.ProviderMixpeek, upstreamsim.Fault{Delay: 200 * time.Millisecond})
		suite.Sim.InjectFault(upstreamsim.ProviderFlashback, upstreamsim.Fault{Delay: 5 * time.Second})
		t.Cleanup(suite.Sim.ClearFaults)
		requested = suite.RequestRefresh(t, ns, names(fixtures)...)

		// Kill once a third of the users are written (the writes are then in full swing); a retry
		// kills earlier.
		threshold := max(1, len(fixtures)/(3*attempt))
		deadline := time.Now().Add(settleTimeout)
		for recorder.total() < threshold {
			if time.Now().After(deadline) {
				t.Fatalf("only %d status writes within %s", recorder.total(), settleTimeout)
			}
			time.Sleep(20 * time.Millisecond)
		}
		first.kill(t)
		killedAt = time.Now()
		suite.Sim.ClearFaults()
		time.Sleep(time.Second) // let the watch deliver what was written before the kill
		writtenBeforeKill = recorder.statusWrites()
		t.Logf("attempt %d: SIGKILL after %d status writes, for %d of %d users", attempt, recorder.total(), len(writtenBeforeKill), len(fixtures))
		checkEveryVersion(t, recorder, fixtures)
		if len(writtenBeforeKill) < len(fixtures) {
			break
		}
		if attempt == killAttempts {
			t.Fatalf("in %d attempts the SIGKILL never landed before the last status write: the kill mid-write was not tested", attempt)
		}
		t.Logf("attempt %d: every write had finished before the kill landed; trying again on fresh users with an earlier kill", attempt)
		recorder.stop()
		// These users are settled; deleting them keeps the next attempt's managers from reading them.
		envsuite.Must(t, suite.Client.DeleteAllOf(envsuite.Ctx(t), &identityv1alpha1.OrgUser{}, client.InNamespace(ns)))
	}
	checkEveryVersion(t, recorder, fixtures)

	restarted := startManager(t, "restarted", args...)
	waitSynced(t, ns, fixtures, func(fixture) string { return "Admin" }, requested)
	t.Logf("RECOVERY manager SIGKILLed mid-write: a new manager process (started at once, no leader election) "+
		"finished the refresh %s after the kill", time.Since(killedAt).Round(100*time.Millisecond))
	waitQuiet(t, ns, 3*time.Second)
	restarted.requireRunning(t)
	if err := recorder.watchErr(); err != nil {
		t.Fatalf("the record of status writes is incomplete: %v", err)
	}
	checkEveryVersion(t, recorder, fixtures)

	writes := recorder.statusWrites()
	for _, f := range fixtures {
		if writes[f.name] != 1 {
			t.Errorf("%s: %d status writes for one upstream change, want 1 (%d before the kill)", f.name, writes[f.name], writtenBeforeKill[f.name])
		}
	}

	// An event follows its status write; a kill between the two loses the event (at most once), but
	// nothing may announce a change twice, and users the restarted manager wrote must be announced.
	envsuite.Eventually(t, settleTimeout, func() error {
		counts := suite.EventCounts(t, ns)
		for _, f := range fixtures {
			if writtenBeforeKill[f.name] == 0 && counts[f.name]["RoleChanged"] == 0 {
				return fmt.Errorf("no RoleChanged event for %s yet", f.name)
			}
		}
		return nil
	})
	time.Sleep(3 * time.Second) // let a duplicate, if one were on its way, arrive
	counts := suite.EventCounts(t, ns)
	lost := 0
	for _, f := range fixtures {
		switch got := counts[f.name]["RoleChanged"]; {
		case got > 1:
			t.Errorf("%s: %d RoleChanged events for one change", f.name, got)
		case got == 0:
			lost++
		}
	}
	t.Logf("%d RoleChanged events lost with the killed process (written but not yet sent)", lost)
}

// killAttempts bounds how often TestKilledMidWrite tries to land its kill before the last write.
const killAttempts = 3

// checkEveryVersion checks each recorded version of each OrgUser for a half-written status.
func checkEveryVersion(t *testing.T, recorder *statusRecorder, fixtures []fixture) {
	t.Helper()
	versions := 0
	for name, all := range recorder.all() {
		for i := range all {
			versions++
			for _, problem := range inconsistencies(&all[i], fixtureNamed(fixtures, name)) {
				t.Errorf("%s (resourceVersion %s): %s", name, all[i].ResourceVersion, problem)
			}
		}
	}
	if versions < len(fixtures) {
		t.Errorf("checked %d versions of %d users; the record is incomplete", versions, len(fixtures))
	}
}
