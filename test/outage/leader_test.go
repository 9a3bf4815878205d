package outage

import (
	"fmt"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/controller"
	"github.com/orgsync/orgsync/test/envsuite"
)

// leaseName is the manager's LeaderElectionID.
const leaseName = controller.LeaderElectionID

// leaderRefresh is the OrgUsers' refreshInterval in TestLeaderTakeover, the CRD's minimum: short, so
// that the new leader really re-reads every user while the test watches.
const leaderRefresh = 10 * time.Second

// leaderElectionArgs: a short lease so the test does not wait client-go's default 15 s, with the
// same proportions as the defaults (renew deadline 2/3 of the lease, retries well inside it).
func leaderElectionArgs(leaseNamespace string) []string {
	return []string{
		"--leader-elect",
		"--leader-election-namespace=" + leaseNamespace,
		"--leader-elect-lease-duration=8s",
		"--leader-elect-renew-deadline=6s",
		"--leader-elect-retry-period=1s",
	}
}

// TestLeaderTakeover runs two managers with leader election, SIGKILLs the leader, and measures how
// long the standby takes to hold the lease and to serve a forced refresh that only a working leader
// can. Nothing may be written twice: the new leader re-reads the same upstream answers (every user at
// least once while the test watches, as the simulator's request counters show) and must not rewrite
// their status (no resourceVersion moves), flip a value back and forth, or repeat an event.
func TestLeaderTakeover(t *testing.T) {
	leaseNamespace := suite.NewNamespace(t, "outage", nil, nil)
	ns := suite.NewNamespace(t, "outage", nil, nil)
	fixtures := populate(t, ns, 6, 4, func(u *identityv1alpha1.OrgUser) {
		u.Spec.RefreshInterval = &metav1.Duration{Duration: leaderRefresh}
	})

	first := startManager(t, "first", leaderElectionArgs(leaseNamespace)...)
	oldLeader := waitForLeader(t, leaseNamespace, "")
	second := startManager(t, "second", leaderElectionArgs(leaseNamespace)...)
	second.waitForLog(t, "Attempting to acquire leader lease", settleTimeout)

	waitSynced(t, ns, fixtures, func(fixture) string { return "Member" }, "")
	waitQuiet(t, ns, 3*time.Second)
	before, err := suite.ListUsers(envsuite.Ctx(t), ns)
	envsuite.Must(t, err)
	providersBefore := providerVersions(t, ns)
	recorder := recordStatuses(t, ns)

	killedAt := time.Now()
	first.kill(t)
	// From here on only the new leader reads upstream.
	readsAtKill := map[string]int{}
	for _, f := range fixtures {
		readsAtKill[f.name] = suite.Sim.Requests(f.provider, f.key)
	}
	// Work for the next leader: a promotion upstream and a forced refresh of that one user.
	target := fixtures[0]
	setUpstreamRole(t, target, true)
	requested := suite.RequestRefresh(t, ns, target.name)

	newLeader := waitForLeader(t, leaseNamespace, oldLeader)
	leaseTakeover := time.Since(killedAt)
	waitSynced(t, ns, []fixture{target}, func(fixture) string { return "Admin" }, requested)
	firstSync := time.Since(killedAt)
	t.Logf("RECOVERY leader takeover (lease 8s, renew deadline 6s, retry 1s): the standby held the lease %s after the leader's SIGKILL "+
		"and mirrored a forced refresh %s after it (new holder %s)",
		leaseTakeover.Round(100*time.Millisecond), firstSync.Round(100*time.Millisecond), newLeader)
	second.requireRunning(t)

	// The new leader has started every controller. Watch until it has re-read every user it
	// inherited at least once (the refresh interval is short, so it must, well within the stale
	// deadline of 3 × refreshInterval), then check that none of those reads rewrote anything.
	envsuite.Eventually(t, 3*leaderRefresh+settleTimeout, func() error {
		var unread []string
		for _, f := range fixtures[1:] {
			if suite.Sim.Requests(f.provider, f.key) == readsAtKill[f.name] {
				unread = append(unread, f.name)
			}
		}
		if len(unread) > 0 {
			return fmt.Errorf("the new leader has not re-read %d of %d users yet, e.g. %s", len(unread), len(fixtures)-1, unread[0])
		}
		return nil
	})
	reread := time.Since(killedAt)
	time.Sleep(2 * time.Second) // let a write that followed the last read, if one did, reach the watch
	second.requireRunning(t)
	reads := make([]string, 0, len(fixtures))
	for _, f := range fixtures {
		reads = append(reads, fmt.Sprintf("%s×%d", f.name, suite.Sim.Requests(f.provider, f.key)-readsAtKill[f.name]))
	}
	t.Logf("the new leader re-read every user within %s of the kill (refreshInterval %s); reads per user since the kill: %s",
		reread.Round(100*time.Millisecond), leaderRefresh, strings.Join(reads, " "))
	if err := recorder.watchErr(); err != nil {
		t.Fatalf("the record of status writes is incomplete: %v", err)
	}
	after, err := suite.ListUsers(envsuite.Ctx(t), ns)
	envsuite.Must(t, err)
	writes := recorder.statusWrites()
	for _, f := range fixtures[1:] {
		if b, a := before[f.name], after[f.name]; a.ResourceVersion != b.ResourceVersion {
			t.Errorf("%s was written by the new leader though nothing changed upstream (resourceVersion %s -> %s, %d status writes):\nbefore %s\nafter  %s",
				f.name, b.ResourceVersion, a.ResourceVersion, writes[f.name], mirroredFields(b.Status), mirroredFields(a.Status))
		}
	}
	if got := writes[target.name]; got != 1 {
		t.Errorf("%s: %d status writes after the takeover, want exactly 1 (the promotion)", target.name, got)
	}
	for name, versions := range recorder.all() {
		for i := range versions {
			for _, problem := range inconsistencies(&versions[i], fixtureNamed(fixtures, name)) {
				t.Errorf("%s (resourceVersion %s): %s", name, versions[i].ResourceVersion, problem)
			}
		}
	}
	for name, rv := range providerVersions(t, ns) {
		if providersBefore[name] != rv {
			t.Errorf("OrgProvider %s was rewritten by the new leader (resourceVersion %s -> %s)", name, providersBefore[name], rv)
		}
	}

	counts := suite.EventCounts(t, ns)
	for _, f := range fixtures {
		want := 0
		if f == target {
			want = 1
		}
		if got := counts[f.name]["RoleChanged"]; got != want {
			t.Errorf("%s: %d RoleChanged events, want %d", f.name, got, want)
		}
		if got := counts[f.name]["StateChanged"]; got != 0 {
			t.Errorf("%s: %d StateChanged events, want none", f.name, got)
		}
	}
	if t.Failed() {
		t.Logf("events: %s", describeEvents(counts))
	}
}

// waitForLeader waits until the lease is held by someone other than previous ("" for anyone) and
// returns the holder.
func waitForLeader(t *testing.T, namespace, previous string) string {
	t.Helper()
	var holder string
	envsuite.Eventually(t, settleTimeout, func() error {
		lease := &coordinationv1.Lease{}
		if err := suite.Client.Get(envsuite.Ctx(t), client.ObjectKey{Namespace: namespace, Name: leaseName}, lease); err != nil {
			return err
		}
		if lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity == "" || *lease.Spec.HolderIdentity == previous {
			return fmt.Errorf("lease %s/%s not taken over yet", namespace, leaseName)
		}
		holder = *lease.Spec.HolderIdentity
		return nil
	})
	return holder
}

// providerVersions returns the resourceVersion of each OrgProvider in the namespace.
func providerVersions(t *testing.T, ns string) map[string]string {
	t.Helper()
	list := &identityv1alpha1.OrgProviderList{}
	envsuite.Must(t, suite.Client.List(envsuite.Ctx(t), list, client.InNamespace(ns)))
	out := map[string]string{}
	for _, p := range list.Items {
		out[p.Name] = p.ResourceVersion
	}
	return out
}

func fixtureNamed(fixtures []fixture, name string) fixture {
	for _, f := range fixtures {
		if f.name == name {
			return f
		}
	}
	return fixture{name: name}
}
