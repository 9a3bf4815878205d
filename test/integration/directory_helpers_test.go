package integration

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/controller/directory"
	"github.com/orgsync/orgsync/internal/upstreamsim"
	"github.com/orgsync/orgsync/test/envsuite"
)

// newDirectory creates the OrgDirectory "staff" over the namespace's OrgProvider "scim", listing
// pageSize users a page; mutate may change it before it is created.
func newDirectory(t *testing.T, ns string, pageSize int32, mutate ...func(*identityv1alpha1.OrgDirectory)) *identityv1alpha1.OrgDirectory {
	t.Helper()
	d := &identityv1alpha1.OrgDirectory{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "staff"},
		Spec: identityv1alpha1.OrgDirectorySpec{
			ProviderRef: identityv1alpha1.ProviderReference{Name: "scim"},
			PageSize:    pageSize,
		},
	}
	for _, m := range mutate {
		m(d)
	}
	envsuite.Must(t, suite.Client.Create(envsuite.Ctx(t), d))
	return d
}

func getDirectory(t *testing.T, ns, name string) *identityv1alpha1.OrgDirectory {
	t.Helper()
	d := &identityv1alpha1.OrgDirectory{}
	envsuite.Must(t, suite.Client.Get(envsuite.Ctx(t), client.ObjectKey{Namespace: ns, Name: name}, d))
	return d
}

// waitForDirectory re-reads the directory until check accepts it.
func waitForDirectory(t *testing.T, ns, name string, check func(*identityv1alpha1.OrgDirectory) error) *identityv1alpha1.OrgDirectory {
	t.Helper()
	var d *identityv1alpha1.OrgDirectory
	envsuite.Eventually(t, envsuite.SettleTimeout, func() error {
		d = getDirectory(t, ns, name)
		return check(d)
	})
	return d
}

// directoryReady checks Ready's status and reason at the directory's generation.
func directoryReady(status metav1.ConditionStatus, reason string) func(*identityv1alpha1.OrgDirectory) error {
	return func(d *identityv1alpha1.OrgDirectory) error {
		c := meta.FindStatusCondition(d.Status.Conditions, identityv1alpha1.ConditionReady)
		if c == nil || c.Status != status || c.Reason != reason || c.ObservedGeneration != d.Generation ||
			d.Status.ObservedGeneration != d.Generation {
			return fmt.Errorf("directory %s: want Ready=%s/%s at generation %d, have %s (observedGeneration %d)",
				d.Name, status, reason, d.Generation, envsuite.DescribeConditions(d.Status.Conditions), d.Status.ObservedGeneration)
		}
		return nil
	}
}

// listedAs checks a Listed directory's counts.
func listedAs(listed, users, conflicts int32) func(*identityv1alpha1.OrgDirectory) error {
	return func(d *identityv1alpha1.OrgDirectory) error {
		if err := directoryReady(metav1.ConditionTrue, identityv1alpha1.ReasonListed)(d); err != nil {
			return err
		}
		st := d.Status
		if st.ListedUsers != listed || st.Users != users || st.Conflicts != conflicts || st.LastListedAt == nil {
			return fmt.Errorf("listedUsers/users/conflicts = %d/%d/%d (lastListedAt %v), want %d/%d/%d",
				st.ListedUsers, st.Users, st.Conflicts, st.LastListedAt, listed, users, conflicts)
		}
		return nil
	}
}

// putStaff registers n SCIM users "<prefix>-NN@example.com" with ids "<prefix>-NN" (so they list in
// that order) and returns their userNames, which are their keys.
func putStaff(sim *upstreamsim.Server, prefix string, n int) []string {
	keys := make([]string, 0, n)
	for i := range n {
		key := fmt.Sprintf("%s-%02d@example.com", prefix, i)
		sim.PutSCIMUser(upstreamsim.SCIMUser{
			ID: fmt.Sprintf("%s-%02d", prefix, i), UserName: key, DisplayName: fmt.Sprintf("Staff %d", i),
			Emails: []upstreamsim.SCIMEmail{{Value: strings.ToLower(key), Primary: true}}, Active: true, Roles: []string{"user"},
			Created: time.Date(2025, 1, 2, 9, 0, 0, 0, time.UTC),
		})
		keys = append(keys, key)
	}
	return keys
}

// directoryUsers are the namespace's OrgUsers labelled as the directory's, by name.
func directoryUsers(t *testing.T, ns, name string) map[string]identityv1alpha1.OrgUser {
	t.Helper()
	list := &identityv1alpha1.OrgUserList{}
	envsuite.Must(t, suite.Client.List(envsuite.Ctx(t), list, client.InNamespace(ns),
		client.MatchingLabels{identityv1alpha1.LabelDirectory: name}))
	out := make(map[string]identityv1alpha1.OrgUser, len(list.Items))
	for _, u := range list.Items {
		out[u.Name] = u
	}
	return out
}

// requireKeptAsContract checks that every key has its OrgUser, named, labelled, owned and specified
// as the contract says, and that there are no others.
func requireKeptAsContract(t *testing.T, d *identityv1alpha1.OrgDirectory, keys []string) {
	t.Helper()
	users := directoryUsers(t, d.Namespace, d.Name)
	for _, key := range keys {
		name := directory.OrgUserName(key)
		u, ok := users[name]
		if !ok {
			t.Errorf("no OrgUser %s for key %s", name, key)
			continue
		}
		owner := metav1.GetControllerOf(&u)
		if owner == nil || owner.UID != d.UID || owner.Kind != "OrgDirectory" || owner.BlockOwnerDeletion == nil || !*owner.BlockOwnerDeletion {
			t.Errorf("%s: controller %+v, want the directory, blocking owner deletion", name, owner)
		}
		if u.Spec.Key != key || u.Spec.ProviderRef.Name != "scim" {
			t.Errorf("%s: key %q providerRef %+v, want %q and the directory's provider", name, u.Spec.Key, u.Spec.ProviderRef, key)
		}
	}
	if len(users) != len(keys) {
		t.Errorf("%d OrgUsers carry the directory label, want %d: %v", len(users), len(keys), sortedNames(users))
	}
}

func sortedNames(users map[string]identityv1alpha1.OrgUser) []string {
	names := make([]string, 0, len(users))
	for name := range users {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// waitForUsersSynced waits until every key's OrgUser is Ready and Synced.
func waitForUsersSynced(t *testing.T, ns string, keys []string) {
	t.Helper()
	for _, key := range keys {
		suite.WaitForReady(t, ns, directory.OrgUserName(key), metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	}
}

// lookupsOf is how many SCIM requests looked up one of keys (listing requests look up none).
func lookupsOf(sim *upstreamsim.Server, keys []string) int {
	n := 0
	for _, key := range keys {
		n += sim.Requests(upstreamsim.ProviderSCIM, key)
	}
	return n
}

// editDirectory changes the directory's spec (a spec change lists at once) and returns its new
// generation.
func editDirectory(t *testing.T, ns, name string, edit func(*identityv1alpha1.OrgDirectory)) int64 {
	t.Helper()
	var generation int64
	envsuite.Eventually(t, envsuite.SettleTimeout, func() error {
		d := getDirectory(t, ns, name)
		edit(d)
		if err := suite.Client.Update(envsuite.Ctx(t), d); err != nil {
			return err
		}
		generation = d.Generation
		return nil
	})
	return generation
}

// relist makes the directory list again now, by a spec edit that changes nothing a listing
// applies: a page size one larger.
func relist(t *testing.T, ns, name string) int64 {
	t.Helper()
	return editDirectory(t, ns, name, func(d *identityv1alpha1.OrgDirectory) { d.Spec.PageSize++ })
}

// atGeneration wraps check so it only accepts the directory once it observed generation.
func atGeneration(generation int64, check func(*identityv1alpha1.OrgDirectory) error) func(*identityv1alpha1.OrgDirectory) error {
	return func(d *identityv1alpha1.OrgDirectory) error {
		if d.Status.ObservedGeneration < generation {
			return fmt.Errorf("directory %s observed generation %d, want %d", d.Name, d.Status.ObservedGeneration, generation)
		}
		return check(d)
	}
}
