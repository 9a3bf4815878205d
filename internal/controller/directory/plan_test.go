package directory

import (
	"errors"
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/provider"
)

func TestPlanListing(t *testing.T) {
	d := testDirectory()
	validKey := func(key string) error {
		if len(key) > 320 || key == "bad\x00key" {
			return errors.New("invalid")
		}
		return nil
	}
	owned := func(key string, edit ...func(*identityv1alpha1.OrgUser)) identityv1alpha1.OrgUser {
		u := desiredOrgUser(d, key)
		for _, e := range edit {
			e(u)
		}
		return *u
	}
	handMade := func(key string) identityv1alpha1.OrgUser {
		u := owned(key)
		u.OwnerReferences = nil
		return u
	}
	otherDirectorys := func(key string) identityv1alpha1.OrgUser {
		u := owned(key)
		u.OwnerReferences[0].UID = "other-directory"
		return u
	}
	listed := func(keys ...string) []provider.User {
		users := make([]provider.User, 0, len(keys))
		for i, k := range keys {
			users = append(users, provider.User{ID: string(rune('a' + i)), Key: k})
		}
		return users
	}
	deleting := func(u *identityv1alpha1.OrgUser) { u.DeletionTimestamp = &metav1.Time{Time: time.Now()} }
	edited := func(u *identityv1alpha1.OrgUser) { u.Labels["team"] = "edited" }

	tests := []struct {
		name                                   string
		users                                  []provider.User
		existing                               []identityv1alpha1.OrgUser
		renewed                                []string
		create, mend, kept, missing, conflicts int
		unusable, duplicates                   int
		// read are the kept OrgUsers asked to read at once.
		read []string
	}{
		{name: "first listing creates every user", users: listed("a@x", "b@x", "c@x"), create: 3},
		{name: "second identical listing changes nothing and asks nobody to read", users: listed("a@x", "b@x"),
			existing: []identityv1alpha1.OrgUser{owned("a@x"), owned("b@x")}, kept: 2},
		{name: "an OrgUser whose answer is new is asked to read", users: listed("a@x", "b@x"), renewed: []string{"b@x"},
			existing: []identityv1alpha1.OrgUser{owned("a@x"), owned("b@x")}, kept: 2, read: []string{"b@x"}},
		{name: "a renewed key without an OrgUser is created, not asked to read", users: listed("a@x"), renewed: []string{"a@x"},
			create: 1},
		{name: "a renewed key whose name another object holds is a conflict, not read", users: listed("a@x"),
			renewed: []string{"a@x"}, existing: []identityv1alpha1.OrgUser{handMade("a@x")}, conflicts: 1},
		{name: "edited and deleted by hand: mended and created again", users: listed("a@x", "b@x"),
			existing: []identityv1alpha1.OrgUser{owned("a@x", edited)}, create: 1, mend: 1, kept: 1},
		{name: "hand-made and other directory's objects are conflicts, never touched", users: listed("a@x", "b@x", "c@x"),
			existing: []identityv1alpha1.OrgUser{handMade("a@x"), otherDirectorys("b@x")}, create: 1, conflicts: 2},
		{name: "an owned object for another key is a conflict", users: listed("a@x"),
			existing: []identityv1alpha1.OrgUser{owned("a@x", func(u *identityv1alpha1.OrgUser) { u.Spec.Key = "A@x" })}, conflicts: 1},
		{name: "owned users the listing lacks are missing; hand-made ones are not the directory's",
			users:    listed("a@x"),
			existing: []identityv1alpha1.OrgUser{owned("a@x"), owned("gone@x"), handMade("mine@x")}, kept: 1, missing: 1},
		{name: "an owned object being deleted is left to go", users: listed("a@x"),
			existing: []identityv1alpha1.OrgUser{owned("a@x", deleting), owned("b@x", deleting)}},
		{name: "keys no OrgUser can hold are counted, not created", users: listed("", "bad\x00key", "ok@x"), create: 1, unusable: 2},
		{name: "a key listed twice makes one OrgUser", users: listed("a@x", "a@x"), create: 1, duplicates: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := planListing(d, tc.users, tc.renewed, tc.existing, droppedKeys{}, validKey)
			got := [7]int{len(p.create), len(p.mend), len(p.kept), len(p.missing), p.conflicts, p.unusableKeys, p.duplicateKeys}
			want := [7]int{tc.create, tc.mend, tc.kept, tc.missing, tc.conflicts, tc.unusable, tc.duplicates}
			if got != want {
				t.Errorf("create, mend, kept, missing, conflicts, unusable, duplicates = %v, want %v", got, want)
			}
			var read []string
			for _, u := range p.read {
				read = append(read, u.Spec.Key)
			}
			if !slices.Equal(read, tc.read) {
				t.Errorf("asked to read %v, want %v", read, tc.read)
			}
			for _, m := range p.mend {
				if m.to.Labels["team"] != "a" {
					t.Errorf("mended %s has labels %v, want the template's", m.to.Name, m.to.Labels)
				}
			}
		})
	}
}
