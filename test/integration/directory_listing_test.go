package integration

import (
	"fmt"
	"net/http"
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

// A server that caps its pages below pageSize is paged by what it returned, until totalResults:
// every user gets its OrgUser, and their first reads are served from the listing, with no lookup of
// their own.
func TestDirectoryListsCappedPagesIntoOneOrgUserPerUser(t *testing.T) {
	t.Parallel()
	ns, sim := scimOnOwnSimulator(t)
	sim.SetSCIMPageCap(3)
	keys := putStaff(sim, "capped", 8)

	d := newDirectory(t, ns, 5)
	d = waitForDirectory(t, ns, d.Name, listedAs(8, 8, 0))
	requireKeptAsContract(t, d, keys)
	waitForUsersSynced(t, ns, keys)

	if n := sim.SCIMListRequests(); n != 3 {
		t.Errorf("%d listing requests, want 3 (8 users, pages capped at 3)", n)
	}
	if n := lookupsOf(sim, keys); n != 0 {
		t.Errorf("%d lookups of listed users, want none: their reads are served from the listing", n)
	}
}

// A user inserted before the page being read shifts the pages after it: the listing sees one user
// twice and the new one never, comes up short of totalResults, and changes nothing; the retry lists
// everyone.
func TestDirectoryListingAcrossAUserInsertedBetweenPagesIsRetried(t *testing.T) {
	t.Parallel()
	ns, sim := scimOnOwnSimulator(t)
	sim.SetSCIMPageCap(3)
	keys := putStaff(sim, "ins", 6)
	// The second page is held until the user has been inserted.
	sim.InjectSCIMListFault(2, upstreamsim.Fault{Delay: 2 * time.Second})

	newDirectory(t, ns, 3)
	envsuite.Eventually(t, envsuite.SettleTimeout, func() error {
		if n := sim.SCIMListRequests(); n < 2 {
			return fmt.Errorf("%d listing requests, waiting for the second page", n)
		}
		return nil
	})
	inserted := "ins-00a@example.com" // its id ins-00a sorts between ins-00 and ins-01, on the first page
	sim.PutSCIMUser(upstreamsim.SCIMUser{ID: "ins-00a", UserName: inserted, Active: true})
	keys = append(keys, inserted)

	d := waitForDirectory(t, ns, "staff", listedAs(7, 7, 0))
	requireKeptAsContract(t, d, keys)
	// 3 pages for the short listing (3, then 3 with one seen before, then 1), 3 for the retry.
	if n := sim.SCIMListRequests(); n != 6 {
		t.Errorf("%d listing requests, want 6: a short listing, then a complete one", n)
	}
}

// RFC 9865 cursor paging is used when the server offers it.
func TestDirectoryListsByCursor(t *testing.T) {
	t.Parallel()
	ns, sim := scimOnOwnSimulator(t)
	sim.SetSCIMCursorPaging(true)
	sim.SetSCIMPageCap(2)
	keys := putStaff(sim, "cursor", 5)

	d := waitForDirectory(t, ns, newDirectory(t, ns, 2).Name, listedAs(5, 5, 0))
	requireKeptAsContract(t, d, keys)
	waitForUsersSynced(t, ns, keys)
	if n := sim.SCIMListRequests(); n != 3 {
		t.Errorf("%d listing requests, want 3 pages of at most 2", n)
	}
}

// A 500 on page 3 fails the listing, and a failed listing creates, changes and deletes nothing:
// not the template edit it was started for, not the label edited by hand, not the user removed
// upstream. The next complete listing does all of it.
func TestDirectoryFailedPageChangesNothing(t *testing.T) {
	t.Parallel()
	ns, sim := scimOnOwnSimulator(t)
	sim.SetSCIMPageCap(2)
	keys := putStaff(sim, "fail", 7)
	d := waitForDirectory(t, ns, newDirectory(t, ns, 2).Name, listedAs(7, 7, 0))
	waitForUsersSynced(t, ns, keys)

	edited, removed := directory.OrgUserName(keys[0]), directory.OrgUserName(keys[6])
	u := suite.GetUser(t, ns, edited)
	u.Labels["hand"] = "edited"
	u.Spec.Suspend = true
	envsuite.Must(t, suite.Client.Update(envsuite.Ctx(t), u))
	sim.DeleteUser(upstreamsim.ProviderSCIM, keys[6])
	// Page 3 of this listing and of its first retry fail.
	sim.InjectSCIMListFault(3, upstreamsim.Fault{Status: http.StatusInternalServerError})
	sim.InjectSCIMListFault(6, upstreamsim.Fault{Status: http.StatusInternalServerError})
	generation := editDirectory(t, ns, d.Name, func(d *identityv1alpha1.OrgDirectory) {
		d.Spec.UserTemplate.Metadata.Annotations = map[string]string{"team": "blue"}
	})

	d = waitForDirectory(t, ns, d.Name, atGeneration(generation, directoryReady(metav1.ConditionFalse, identityv1alpha1.ReasonListFailed)))
	ready := meta.FindStatusCondition(d.Status.Conditions, identityv1alpha1.ConditionReady)
	if !strings.Contains(ready.Message, "page 3") || !strings.Contains(ready.Message, "500") {
		t.Errorf("ListFailed message %q, want the page and the cause", ready.Message)
	}
	if d.Status.ListedUsers != 7 || d.Status.Users != 7 {
		t.Errorf("listedUsers/users = %d/%d after a failed listing, want the last complete listing's 7/7", d.Status.ListedUsers, d.Status.Users)
	}
	users := directoryUsers(t, ns, d.Name)
	if len(users) != 7 {
		t.Errorf("%d OrgUsers after a failed listing, want all 7", len(users))
	}
	for name, u := range users {
		if u.Annotations["team"] != "" {
			t.Errorf("%s got the template edit of a failed listing: %v", name, u.Annotations)
		}
	}
	if u := users[edited]; u.Labels["hand"] != "edited" || !u.Spec.Suspend {
		t.Errorf("the hand edit of %s was undone by a failed listing: %v %+v", edited, u.Labels, u.Spec)
	}
	if u := users[removed]; u.Status.State != "Active" {
		t.Errorf("the user removed upstream reads %s after a failed listing, want its last read (Active): no read is asked", u.Status.State)
	}

	// The second retry lists completely: everything the failed listings held back happens.
	waitForDirectory(t, ns, d.Name, listedAs(6, 7, 0))
	suite.WaitForReady(t, ns, removed, metav1.ConditionFalse, identityv1alpha1.ReasonUserNotFound)
	u = suite.GetUser(t, ns, edited)
	if u.Spec.Suspend || u.Annotations["team"] != "blue" || u.Labels["hand"] != "edited" {
		t.Errorf("%s after the complete listing: suspend %v annotations %v labels %v; want the template back, a person's label kept",
			edited, u.Spec.Suspend, u.Annotations, u.Labels)
	}
}

// A 429 during a listing pauses it, with every lookup of the provider, for Retry-After; the listing
// then goes on from the page that was refused, and the OrgUsers stay Ready throughout.
func TestDirectoryListingResumesAfterRetryAfter(t *testing.T) {
	t.Parallel()
	ns, sim := scimOnOwnSimulator(t)
	sim.SetSCIMPageCap(2)
	keys := putStaff(sim, "pause", 6)
	d := waitForDirectory(t, ns, newDirectory(t, ns, 2).Name, listedAs(6, 6, 0))
	waitForUsersSynced(t, ns, keys)

	sim.ResetCounters()
	sim.InjectSCIMListFault(2, upstreamsim.Fault{Status: http.StatusTooManyRequests, RetryAfter: "3"})
	begun := time.Now()
	generation := editDirectory(t, ns, d.Name, func(d *identityv1alpha1.OrgDirectory) {
		d.Spec.UserTemplate.Metadata.Labels = map[string]string{"after": "pause"}
	})
	envsuite.Eventually(t, envsuite.SettleTimeout, func() error {
		for _, key := range keys {
			u := suite.GetUser(t, ns, directory.OrgUserName(key))
			if c := meta.FindStatusCondition(u.Status.Conditions, identityv1alpha1.ConditionReady); c == nil || c.Status != metav1.ConditionTrue {
				t.Fatalf("%s turned not Ready during the listing's pause: %s", u.Name, envsuite.DescribeConditions(u.Status.Conditions))
			}
		}
		return atGeneration(generation, listedAs(6, 6, 0))(getDirectory(t, ns, d.Name))
	})
	d = getDirectory(t, ns, d.Name)
	if took := d.Status.LastListedAt.Sub(begun.Truncate(time.Second)); took < 3*time.Second {
		t.Errorf("listing ended %s after the 429, want after its Retry-After of 3s", took)
	}
	// Page 1, page 2 refused, page 2 again, page 3: nothing read twice.
	if n := sim.SCIMListRequests(); n != 4 {
		t.Errorf("%d listing requests, want 4: the listing resumed instead of starting again", n)
	}
	for _, u := range directoryUsers(t, ns, d.Name) {
		if u.Labels["after"] != "pause" {
			t.Errorf("%s labels %v, want the template's after the listing", u.Name, u.Labels)
		}
	}
}
