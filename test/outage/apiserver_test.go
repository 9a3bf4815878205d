package outage

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/orgsync/orgsync/internal/upstreamsim"
	"github.com/orgsync/orgsync/test/envsuite"
)

const (
	// apiServerOutage is how long the API server stays down.
	apiServerOutage = 30 * time.Second
	// maxConcurrentReconciles bounds the writes the stop can cut off, and so the events it can lose.
	maxConcurrentReconciles = 4
)

// TestAPIServerOutage stops the API server for 30 s while the manager is in the middle of a forced
// refresh of every user (the upstream answers slowly, so reads are in flight when it stops; their
// status writes fail). The manager must ride it out without a restart, finish every refresh once
// the server is back, keep every user's mirrored data, and announce each role change exactly once.
//
// The manager runs without leader election here: with it, a leader that cannot renew its lease for
// --leader-elect-renew-deadline (10 s by default) exits on purpose and is restarted by its
// Deployment, which TestLeaderTakeover and TestKilledMidWrite cover.
func TestAPIServerOutage(t *testing.T) {
	ns := suite.NewNamespace(t, "outage", nil, nil)
	fixtures := populate(t, ns, 12, 8)
	mgr := startManager(t, "manager", fmt.Sprintf("--max-concurrent-reconciles=%d", maxConcurrentReconciles))
	before := waitSynced(t, ns, fixtures, func(fixture) string { return "Member" }, "")

	// Every other user becomes an admin upstream; the forced refresh must mirror that.
	promoted := map[string]bool{}
	for i, f := range fixtures {
		if i%2 == 0 {
			setUpstreamRole(t, f, true)
			promoted[f.name] = true
		}
	}
	wantRole := func(f fixture) string { return roleName(promoted[f.name]) }

	for _, api := range []string{upstreamsim.ProviderMixpeek, upstreamsim.ProviderFlashback} {
		suite.Sim.InjectFault(api, upstreamsim.Fault{Delay: 2 * time.Second})
	}
	t.Cleanup(suite.Sim.ClearFaults)
	base := suite.Sim.TotalRequests()
	requested := suite.RequestRefresh(t, ns, names(fixtures)...)
	envsuite.Eventually(t, settleTimeout, func() error {
		if suite.Sim.TotalRequests() == base {
			return fmt.Errorf("no upstream read has started yet")
		}
		return nil
	})

	stoppedAt := time.Now()
	startedBeforeStop := suite.Sim.TotalRequests() - base
	stopAPIServer(t)
	time.Sleep(apiServerOutage - time.Since(stoppedAt))
	mgr.requireRunning(t)
	suite.Sim.ClearFaults() // the upstream is healthy again; what is left to recover from is the API server
	startingAt := time.Now()
	readsDuringOutage := suite.Sim.TotalRequests() - base - startedBeforeStop
	envsuite.Must(t, suite.Env.ControlPlane.APIServer.Start())
	requireServing(t, true)
	restartedAt := time.Now()
	t.Logf("API server stopped for %s, then took %s to start and pass its health check; %d upstream reads had started "+
		"before the stop and %d more during it (reconciles and their retries read upstream, then fail to write), for %d users",
		startingAt.Sub(stoppedAt).Round(100*time.Millisecond), restartedAt.Sub(startingAt).Round(100*time.Millisecond),
		startedBeforeStop, readsDuringOutage, len(fixtures))

	after := waitSynced(t, ns, fixtures, wantRole, requested)
	recovered := time.Since(restartedAt)
	t.Logf("RECOVERY API server outage (%s): every forced refresh mirrored %s after the API server was back (%s after it stopped)",
		apiServerOutage, recovered.Round(100*time.Millisecond), time.Since(stoppedAt).Round(100*time.Millisecond))
	mgr.requireRunning(t)

	for _, f := range fixtures {
		b, a := before[f.name].Status, after[f.name].Status
		if a.Provider != b.Provider || a.UserID != b.UserID || a.Email != b.Email || a.DisplayName != b.DisplayName ||
			a.State != b.State || !a.CreatedAt.Equal(b.CreatedAt) {
			t.Errorf("%s lost mirrored data:\nbefore %s\nafter  %s", f.name, mirroredFields(b), mirroredFields(a))
		}
		u := after[f.name]
		for _, problem := range inconsistencies(&u, f) {
			t.Errorf("%s: %s", f.name, problem)
		}
	}

	// Each promotion is announced at most once: retried writes must not repeat it. An event can only
	// be lost with a write whose answer was cut off by the stop (the write took effect, the manager
	// saw an error and found nothing left to do on its retry); at most one per worker can be.
	var counts map[string]map[string]int
	lost := func() (n int) {
		counts = suite.EventCounts(t, ns)
		for _, f := range fixtures {
			if promoted[f.name] && counts[f.name]["RoleChanged"] == 0 {
				n++
			}
		}
		return n
	}
	deadline := time.Now().Add(30 * time.Second)
	for lost() > 0 && time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
	}
	time.Sleep(3 * time.Second) // let a duplicate, if one were on its way, arrive
	if n := lost(); n > maxConcurrentReconciles {
		t.Errorf("%d promotions were never announced; at most %d writes can have been cut off by the stop", n, maxConcurrentReconciles)
	} else {
		t.Logf("%d RoleChanged events lost with writes cut off by the stop", n)
	}
	for _, f := range fixtures {
		if got := counts[f.name]["RoleChanged"]; got > 1 || (got == 1 && !promoted[f.name]) {
			t.Errorf("%s: %d RoleChanged events (promoted: %v)", f.name, got, promoted[f.name])
		}
		if got := counts[f.name]["StateChanged"]; got != 0 {
			t.Errorf("%s: %d StateChanged events, want none", f.name, got)
		}
	}
	if t.Failed() {
		t.Logf("events: %s", describeEvents(counts))
	}
}

// stopAPIServer stops kube-apiserver like a kubelet stops a static Pod: SIGTERM, and SIGKILL after a
// grace period. kube-apiserver stops listening at once on SIGTERM but may take longer than envtest's
// stop timeout to exit while clients hold connections; the grace period bounds that, so the outage
// starts when the test says.
func stopAPIServer(t *testing.T) {
	t.Helper()
	apiServer := suite.Env.ControlPlane.APIServer
	saved := apiServer.StopTimeout
	apiServer.StopTimeout = 3 * time.Second
	defer func() { apiServer.StopTimeout = saved }()
	if err := apiServer.Stop(); err != nil && !strings.Contains(err.Error(), "timeout waiting for process") {
		t.Fatalf("stop the API server: %v", err)
	}
	requireServing(t, false)
}

// requireServing checks whether the API server's port accepts connections.
func requireServing(t *testing.T, want bool) {
	t.Helper()
	addr := net.JoinHostPort(suite.Env.ControlPlane.APIServer.Address, suite.Env.ControlPlane.APIServer.Port)
	envsuite.Eventually(t, 30*time.Second, func() error {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = conn.Close()
		}
		if serving := err == nil; serving != want {
			return fmt.Errorf("API server at %s serving=%v, want %v", addr, serving, want)
		}
		return nil
	})
}
