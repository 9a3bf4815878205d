package directory

import (
	"reflect"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
)

func testDirectory() *identityv1alpha1.OrgDirectory {
	return &identityv1alpha1.OrgDirectory{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "slack", UID: "dir-uid"},
		Spec: identityv1alpha1.OrgDirectorySpec{
			ProviderRef: identityv1alpha1.ProviderReference{Name: "slack-scim"},
			UserTemplate: identityv1alpha1.OrgUserTemplate{
				Metadata: identityv1alpha1.OrgUserTemplateMetadata{
					Labels:      map[string]string{"team": "a", identityv1alpha1.LabelRole: "Owner"},
					Annotations: map[string]string{"note": "from slack"},
				},
				Spec: identityv1alpha1.OrgUserTemplateSpec{RefreshInterval: &metav1.Duration{Duration: 2 * time.Hour}},
			},
		},
	}
}

func TestDesiredOrgUser(t *testing.T) {
	d := testDirectory()
	got := desiredOrgUser(d, "Alice.Smith+ops@Example.com")

	if got.Namespace != "team-a" || got.Name != "alice-smith-ops-example-com-dff8f0a8" {
		t.Errorf("name = %s/%s, want the directory's namespace and the key's OrgUser name", got.Namespace, got.Name)
	}
	wantLabels := map[string]string{"team": "a", identityv1alpha1.LabelDirectory: "slack"}
	if !reflect.DeepEqual(got.Labels, wantLabels) {
		t.Errorf("labels = %v, want the template's (without the mirrored role label) and the directory label: %v", got.Labels, wantLabels)
	}
	if !reflect.DeepEqual(got.Annotations, map[string]string{"note": "from slack"}) {
		t.Errorf("annotations = %v, want the template's", got.Annotations)
	}
	wantSpec := identityv1alpha1.OrgUserSpec{
		ProviderRef:     identityv1alpha1.ProviderReference{Kind: identityv1alpha1.OrgProviderKind, Name: "slack-scim"},
		Key:             "Alice.Smith+ops@Example.com",
		RefreshInterval: &metav1.Duration{Duration: 2 * time.Hour},
	}
	if !reflect.DeepEqual(got.Spec, wantSpec) {
		t.Errorf("spec = %+v, want %+v", got.Spec, wantSpec)
	}
	if len(got.OwnerReferences) != 1 {
		t.Fatalf("ownerReferences = %v, want one", got.OwnerReferences)
	}
	ref := got.OwnerReferences[0]
	if ref.APIVersion != "identity.orgsync.io/v1alpha1" || ref.Kind != "OrgDirectory" || ref.Name != "slack" || ref.UID != "dir-uid" ||
		ref.Controller == nil || !*ref.Controller || ref.BlockOwnerDeletion == nil || !*ref.BlockOwnerDeletion {
		t.Errorf("ownerReference = %+v, want the directory as controller, blocking owner deletion", ref)
	}

	// The template is copied, not shared: a later edit of the directory does not reach into it.
	d.Spec.UserTemplate.Metadata.Annotations["note"] = "edited"
	d.Spec.UserTemplate.Spec.RefreshInterval.Duration = time.Minute
	if got.Annotations["note"] != "from slack" || got.Spec.RefreshInterval.Duration != 2*time.Hour {
		t.Error("the desired OrgUser shares maps or pointers with the directory")
	}
}

func TestMend(t *testing.T) {
	d := testDirectory()
	desired := desiredOrgUser(d, "bob@example.com")
	asDesired := func(edit func(u *identityv1alpha1.OrgUser)) *identityv1alpha1.OrgUser {
		u := desired.DeepCopy()
		u.ResourceVersion = "7"
		// What the OrgUser controller and a person added stays.
		u.Labels[identityv1alpha1.LabelRole] = "Member"
		u.Labels["mine"] = "x"
		if edit != nil {
			edit(u)
		}
		return u
	}
	tests := []struct {
		name        string
		existing    *identityv1alpha1.OrgUser
		dropped     droppedKeys
		wantChanged bool
		check       func(t *testing.T, out *identityv1alpha1.OrgUser)
	}{
		{name: "as the template says: nothing to write", existing: asDesired(nil)},
		{name: "template label edited by hand", wantChanged: true,
			existing: asDesired(func(u *identityv1alpha1.OrgUser) { u.Labels["team"] = "b" }),
			check: func(t *testing.T, out *identityv1alpha1.OrgUser) {
				if out.Labels["team"] != "a" || out.Labels["mine"] != "x" || out.Labels[identityv1alpha1.LabelRole] != "Member" {
					t.Errorf("labels = %v, want team=a back and the others' labels kept", out.Labels)
				}
			}},
		{name: "directory label removed by hand", wantChanged: true,
			existing: asDesired(func(u *identityv1alpha1.OrgUser) { delete(u.Labels, identityv1alpha1.LabelDirectory) }),
			check: func(t *testing.T, out *identityv1alpha1.OrgUser) {
				if out.Labels[identityv1alpha1.LabelDirectory] != "slack" {
					t.Errorf("labels = %v, want the directory label back", out.Labels)
				}
			}},
		{name: "annotation removed by hand", wantChanged: true,
			existing: asDesired(func(u *identityv1alpha1.OrgUser) { u.Annotations = nil }),
			check: func(t *testing.T, out *identityv1alpha1.OrgUser) {
				if out.Annotations["note"] != "from slack" {
					t.Errorf("annotations = %v, want the template's back", out.Annotations)
				}
			}},
		{name: "spec edited by hand", wantChanged: true,
			existing: asDesired(func(u *identityv1alpha1.OrgUser) {
				u.Spec.Suspend = true
				u.Spec.RefreshInterval = nil
				u.Spec.ProviderRef.Name = "elsewhere"
			}),
			check: func(t *testing.T, out *identityv1alpha1.OrgUser) {
				if out.Spec.Suspend || out.Spec.RefreshInterval == nil || out.Spec.RefreshInterval.Duration != 2*time.Hour ||
					out.Spec.ProviderRef.Name != "slack-scim" {
					t.Errorf("spec = %+v, want the template's and the directory's providerRef back", out.Spec)
				}
			}},
		{name: "blockOwnerDeletion turned off by hand", wantChanged: true,
			existing: asDesired(func(u *identityv1alpha1.OrgUser) { u.OwnerReferences[0].BlockOwnerDeletion = nil }),
			check: func(t *testing.T, out *identityv1alpha1.OrgUser) {
				if b := out.OwnerReferences[0].BlockOwnerDeletion; b == nil || !*b {
					t.Errorf("ownerReference = %+v, want blockOwnerDeletion back", out.OwnerReferences[0])
				}
			}},
		{name: "a key the template dropped is removed, others' keys stay", wantChanged: true,
			existing: asDesired(func(u *identityv1alpha1.OrgUser) { u.Labels["old"] = "1"; u.Annotations["old-note"] = "2" }),
			dropped:  droppedKeys{labels: []string{"old"}, annotations: []string{"old-note"}},
			check: func(t *testing.T, out *identityv1alpha1.OrgUser) {
				if _, ok := out.Labels["old"]; ok || out.Labels["mine"] != "x" {
					t.Errorf("labels = %v, want old removed and mine kept", out.Labels)
				}
				if _, ok := out.Annotations["old-note"]; ok {
					t.Errorf("annotations = %v, want old-note removed", out.Annotations)
				}
			}},
		{name: "a dropped key already gone: nothing to write", existing: asDesired(nil), dropped: droppedKeys{labels: []string{"old"}}},
		{name: "kind left to the default reads as OrgProvider",
			existing: asDesired(func(u *identityv1alpha1.OrgUser) { u.Spec.ProviderRef.Kind = "" })},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.existing.DeepCopy()
			out, changed := mend(tc.existing, desired, tc.dropped)
			if changed != tc.wantChanged {
				t.Errorf("changed = %v, want %v", changed, tc.wantChanged)
			}
			if !reflect.DeepEqual(tc.existing, before) {
				t.Error("mend changed the object it was given (a cached object)")
			}
			if d := differs(tc.existing, desired, tc.dropped); d != changed {
				t.Errorf("differs = %v, but the full comparison says changed = %v", d, changed)
			}
			if !changed {
				if out != nil {
					t.Errorf("nothing to write, but mend returned an object: %+v", out.ObjectMeta)
				}
				return
			}
			if out.ResourceVersion != "7" || out.Spec.Key != "bob@example.com" {
				t.Errorf("mended object lost its resourceVersion or key: %+v", out.ObjectMeta)
			}
			if tc.check != nil {
				tc.check(t, out)
			}
		})
	}
}

func TestDroppedSince(t *testing.T) {
	applied := &identityv1alpha1.OrgUserTemplateMetadata{
		Labels:      map[string]string{"team": "a", "old": "1"},
		Annotations: map[string]string{"note": "x", "old-note": "y"},
	}
	current := &identityv1alpha1.OrgUserTemplateMetadata{Labels: map[string]string{"team": "b"}, Annotations: map[string]string{"note": "x"}}
	got := droppedSince(applied, current)
	if !reflect.DeepEqual(got, droppedKeys{labels: []string{"old"}, annotations: []string{"old-note"}}) {
		t.Errorf("droppedSince = %+v, want the label old and the annotation old-note", got)
	}
	if got := droppedSince(nil, current); len(got.labels)+len(got.annotations) != 0 {
		t.Errorf("droppedSince with no template applied in this process = %+v, want nothing", got)
	}
}
