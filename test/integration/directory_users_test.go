package integration

import (
	"fmt"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/controller/directory"
	"github.com/orgsync/orgsync/internal/upstreamsim"
	"github.com/orgsync/orgsync/test/envsuite"
)

// A user the listing lacks is read on its own at once; it reads NotFound and, without pruneAfter,
// stays, listing after listing.
func TestDirectoryRemovedUserReadsNotFoundAndStays(t *testing.T) {
	t.Parallel()
	ns, sim := scimOnOwnSimulator(t)
	keys := putStaff(sim, "gone", 4)
	d := waitForDirectory(t, ns, newDirectory(t, ns, 10).Name, listedAs(4, 4, 0))
	waitForUsersSynced(t, ns, keys)

	sim.DeleteUser(upstreamsim.ProviderSCIM, keys[1])
	waitForDirectory(t, ns, d.Name, atGeneration(relist(t, ns, d.Name), listedAs(3, 4, 0)))
	gone := directory.OrgUserName(keys[1])
	u := suite.WaitForReady(t, ns, gone, metav1.ConditionFalse, identityv1alpha1.ReasonUserNotFound)
	if u.Status.State != "NotFound" || u.Status.UserID != "" {
		t.Errorf("state %q userID %q, want NotFound and the mirror cleared", u.Status.State, u.Status.UserID)
	}
	if n := sim.Requests(upstreamsim.ProviderSCIM, keys[1]); n < 1 {
		t.Errorf("the missing user was looked up %d times, want its own read", n)
	}
	if n := lookupsOf(sim, []string{keys[0], keys[2], keys[3]}); n != 0 {
		t.Errorf("%d lookups of listed users, want none", n)
	}

	// Another listing, and the OrgUser is still there.
	waitForDirectory(t, ns, d.Name, atGeneration(relist(t, ns, d.Name), listedAs(3, 4, 0)))
	if u := suite.GetUser(t, ns, gone); !u.DeletionTimestamp.IsZero() {
		t.Errorf("%s is being deleted without pruneAfter", gone)
	}
}

// With pruneAfter, an OrgUser whose user the listing lacks is deleted once it has itself read
// NotFound for pruneAfter, and not before.
func TestDirectoryPrunesOnlyAfterTheConfirmedNotFoundTime(t *testing.T) {
	t.Parallel()
	ns, sim := scimOnOwnSimulator(t)
	keys := putStaff(sim, "prune", 3)
	const pruneAfter = 8 * time.Second
	d := waitForDirectory(t, ns, newDirectory(t, ns, 10, func(d *identityv1alpha1.OrgDirectory) {
		d.Spec.PruneAfter = &metav1.Duration{Duration: pruneAfter}
	}).Name, listedAs(3, 3, 0))
	waitForUsersSynced(t, ns, keys)

	sim.DeleteUser(upstreamsim.ProviderSCIM, keys[2])
	relist(t, ns, d.Name)
	gone := directory.OrgUserName(keys[2])
	u := suite.WaitForReady(t, ns, gone, metav1.ConditionFalse, identityv1alpha1.ReasonUserNotFound)
	notFoundAt := meta.FindStatusCondition(u.Status.Conditions, identityv1alpha1.ConditionReady).LastTransitionTime.Time

	var deletedBy time.Time
	envsuite.Eventually(t, envsuite.SettleTimeout, func() error {
		err := suite.Client.Get(envsuite.Ctx(t), client.ObjectKey{Namespace: ns, Name: gone}, &identityv1alpha1.OrgUser{})
		if apierrors.IsNotFound(err) {
			deletedBy = time.Now()
			return nil
		}
		if err != nil {
			return err
		}
		return fmt.Errorf("%s still exists %s after it read NotFound", gone, time.Since(notFoundAt).Round(time.Second))
	})
	if early := notFoundAt.Add(pruneAfter).Sub(deletedBy); early > 0 {
		t.Errorf("%s deleted %s before it had read NotFound for pruneAfter (%s)", gone, early, pruneAfter)
	}
	waitForDirectory(t, ns, d.Name, listedAs(2, 2, 0))
	for _, key := range keys[:2] {
		if u := suite.GetUser(t, ns, directory.OrgUserName(key)); !u.DeletionTimestamp.IsZero() {
			t.Errorf("listed user's OrgUser %s is being deleted", u.Name)
		}
	}
}

// An OrgUser of the name a listed user's would have, made by hand, is never touched: it counts as a
// conflict, and keeps its spec, labels and owners.
func TestDirectoryNeverTouchesAnOrgUserItDoesNotOwn(t *testing.T) {
	t.Parallel()
	ns, sim := scimOnOwnSimulator(t)
	keys := putStaff(sim, "taken", 3)
	taken := directory.OrgUserName(keys[1])
	suite.NewOrgUser(t, ns, taken, "scim", keys[1], func(u *identityv1alpha1.OrgUser) {
		u.Labels = map[string]string{"made": "by-hand"}
		u.Spec.RefreshInterval = &metav1.Duration{Duration: 30 * time.Minute}
	})

	d := waitForDirectory(t, ns, newDirectory(t, ns, 10, func(d *identityv1alpha1.OrgDirectory) {
		d.Spec.UserTemplate.Metadata.Labels = map[string]string{"team": "a"}
		d.Spec.UserTemplate.Spec.RefreshInterval = &metav1.Duration{Duration: 2 * time.Hour}
	}).Name, listedAs(3, 2, 1))
	u := suite.GetUser(t, ns, taken)
	if len(u.OwnerReferences) != 0 || u.Labels["made"] != "by-hand" || u.Labels["team"] != "" ||
		u.Labels[identityv1alpha1.LabelDirectory] != "" || u.Spec.RefreshInterval.Duration != 30*time.Minute {
		t.Errorf("the hand-made OrgUser was touched: owners %v labels %v spec %+v", u.OwnerReferences, u.Labels, u.Spec)
	}
	ready := meta.FindStatusCondition(d.Status.Conditions, identityv1alpha1.ConditionReady)
	if ready == nil || ready.Message == "" {
		t.Fatalf("Ready = %+v", ready)
	}
	requireKeptAsContract(t, d, []string{keys[0], keys[2]})
}

// A template edit reaches every OrgUser at the next listing: labels and annotations added, changed
// and dropped, the spec fields. An owned OrgUser edited or deleted by hand is put back, and labels
// others added stay.
func TestDirectoryTemplateEditReachesEveryOrgUser(t *testing.T) {
	t.Parallel()
	ns, sim := scimOnOwnSimulator(t)
	keys := putStaff(sim, "tpl", 4)
	d := waitForDirectory(t, ns, newDirectory(t, ns, 10, func(d *identityv1alpha1.OrgDirectory) {
		d.Spec.UserTemplate.Metadata.Labels = map[string]string{"team": "a", "old": "x"}
		d.Spec.UserTemplate.Metadata.Annotations = map[string]string{"note": "first"}
		d.Spec.UserTemplate.Spec.RefreshInterval = &metav1.Duration{Duration: 2 * time.Hour}
	}).Name, listedAs(4, 4, 0))
	waitForUsersSynced(t, ns, keys)

	edited, deleted := directory.OrgUserName(keys[0]), directory.OrgUserName(keys[1])
	u := suite.GetUser(t, ns, edited)
	u.Labels["team"] = "hand"
	u.Labels["mine"] = "kept"
	u.Spec.RefreshInterval = &metav1.Duration{Duration: time.Minute}
	envsuite.Must(t, suite.Client.Update(envsuite.Ctx(t), u))
	envsuite.Must(t, suite.Client.Delete(envsuite.Ctx(t), &identityv1alpha1.OrgUser{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: deleted}}))
	// The directory counts the deletion (it has seen it): the listing the edit below starts cannot
	// then read the deleted OrgUser from a cache that lags behind, which would leave its re-creation
	// to the listing after, an interval away.
	waitForDirectory(t, ns, d.Name, listedAs(4, 3, 0))

	generation := editDirectory(t, ns, d.Name, func(d *identityv1alpha1.OrgDirectory) {
		d.Spec.UserTemplate.Metadata.Labels = map[string]string{"team": "b", "new": "y"}
		d.Spec.UserTemplate.Metadata.Annotations = map[string]string{"note": "second"}
		d.Spec.UserTemplate.Spec.RefreshInterval = &metav1.Duration{Duration: 3 * time.Hour}
	})
	d = waitForDirectory(t, ns, d.Name, atGeneration(generation, listedAs(4, 4, 0)))
	requireKeptAsContract(t, d, keys)
	envsuite.Eventually(t, envsuite.SettleTimeout, func() error {
		for name, u := range directoryUsers(t, ns, d.Name) {
			_, old := u.Labels["old"]
			if u.Labels["team"] != "b" || u.Labels["new"] != "y" || old || u.Annotations["note"] != "second" ||
				u.Spec.RefreshInterval == nil || u.Spec.RefreshInterval.Duration != 3*time.Hour {
				return fmt.Errorf("%s: labels %v annotations %v refreshInterval %v, want the edited template", name, u.Labels,
					u.Annotations, u.Spec.RefreshInterval)
			}
			if u.Labels[identityv1alpha1.LabelRole] != "Member" {
				return fmt.Errorf("%s: labels %v, want the mirrored role label kept", name, u.Labels)
			}
		}
		return nil
	})
	if u := suite.GetUser(t, ns, edited); u.Labels["mine"] != "kept" {
		t.Errorf("%s labels %v: a label the template never had was removed", edited, u.Labels)
	}
	suite.WaitForReady(t, ns, deleted, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
}
