package integration

import (
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/controller/directory"
	"github.com/orgsync/orgsync/internal/upstreamsim"
	"github.com/orgsync/orgsync/test/envsuite"
)

// A provider that cannot list (mixpeek) makes a directory Ready False ProviderCannotList, and
// nothing is created.
func TestDirectoryOverAProviderThatCannotList(t *testing.T) {
	t.Parallel()
	ns := suite.NewNamespace(t, "t", nil, nil)
	sim := envsuite.OwnSimulator(t)
	suite.NewMixpeekProvider(t, ns, envsuite.GoodToken, sim)
	envsuite.PutMixpeekUser(sim, "member", "active")

	d := waitForDirectory(t, ns, newDirectory(t, ns, 10, func(d *identityv1alpha1.OrgDirectory) {
		d.Spec.ProviderRef.Name = upstreamsim.ProviderMixpeek
	}).Name, directoryReady(metav1.ConditionFalse, identityv1alpha1.ReasonProviderCannotList))
	ready := meta.FindStatusCondition(d.Status.Conditions, identityv1alpha1.ConditionReady)
	if !strings.Contains(ready.Message, "mixpeek") {
		t.Errorf("ProviderCannotList message %q, want the provider named", ready.Message)
	}
	if users := directoryUsers(t, ns, d.Name); len(users) != 0 || d.Status.Users != 0 {
		t.Errorf("%d OrgUsers (status.users %d) for a directory that cannot list, want none", len(users), d.Status.Users)
	}
	if n := sim.TotalRequests(); n != 0 {
		t.Errorf("%d requests to the upstream, want none", n)
	}
}

// A directory naming a provider that does not exist yet is Ready False ProviderNotFound, and lists
// once the provider is created.
func TestDirectoryListsOnceItsProviderExists(t *testing.T) {
	t.Parallel()
	ns := suite.NewNamespace(t, "t", nil, nil)
	sim := envsuite.OwnSimulator(t)
	keys := putStaff(sim, "late", 2)
	d := waitForDirectory(t, ns, newDirectory(t, ns, 10).Name, directoryReady(metav1.ConditionFalse, identityv1alpha1.ReasonProviderNotFound))

	suite.NewSecret(t, ns, "scim-token", envsuite.GoodToken)
	suite.NewOrgProvider(t, ns, "scim", scimConfig(sim))
	d = waitForDirectory(t, ns, d.Name, listedAs(2, 2, 0))
	requireKeptAsContract(t, d, keys)
}

// After a complete listing, the OrgUsers' refresh is served from the listings: an upstream change
// reaches its OrgUser at the next listing, and a refresh interval passes without one lookup of a
// listed user, with listInterval and refreshInterval alike (the benchmark's setting).
func TestDirectoryUsersRefreshFromTheListings(t *testing.T) {
	t.Parallel()
	ns, sim := scimOnOwnSimulator(t)
	sim.SetSCIMPageCap(5)
	keys := putStaff(sim, "fresh", 12)
	const interval = time.Minute
	d := waitForDirectory(t, ns, newDirectory(t, ns, 5, func(d *identityv1alpha1.OrgDirectory) {
		d.Spec.ListInterval = &metav1.Duration{Duration: interval}
		d.Spec.UserTemplate.Spec.RefreshInterval = &metav1.Duration{Duration: interval}
	}).Name, listedAs(12, 12, 0))
	waitForUsersSynced(t, ns, keys)
	first := d.Status.LastListedAt.Time
	t.Logf("listed at %s", first)

	// A role changed upstream shows at the next listing, read from it.
	if !sim.SetSCIMRole(keys[3], "enterprise_owner") {
		t.Fatal("no such SCIM user")
	}
	relisted := waitForDirectory(t, ns, d.Name, atGeneration(relist(t, ns, d.Name), listedAs(12, 12, 0))).Status.LastListedAt.Time
	envsuite.Eventually(t, envsuite.SettleTimeout, func() error {
		if u := suite.GetUser(t, ns, directory.OrgUserName(keys[3])); u.Status.Role != "Owner" {
			return errorfNotYet("role %q, want Owner from the listing", u.Status.Role)
		}
		return nil
	})

	// Wait for a listing on its own schedule, and the users' own refresh after it.
	envsuite.Eventually(t, 2*interval, func() error {
		d := getDirectory(t, ns, d.Name)
		if d.Status.LastListedAt.Before(&metav1.Time{Time: relisted.Add(interval)}) {
			return errorfNotYet("last listed at %s, waiting for the listing after %s", d.Status.LastListedAt, relisted)
		}
		return nil
	})
	time.Sleep(interval / 5)
	if n := lookupsOf(sim, keys); n != 0 {
		t.Errorf("%d lookups of listed users in %s, want none: every refresh is served from a listing",
			n, time.Since(first).Round(time.Second))
	}
	// Three pages per listing: the first, the one asked for, the scheduled one (and at most one more
	// if the machine is slow).
	if n := sim.SCIMListRequests(); n < 9 || n > 12 {
		t.Errorf("%d listing requests, want 9 to 12 (three or four listings of three pages)", n)
	}
}
