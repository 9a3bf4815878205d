package controller

import (
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/event"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
)

func TestMirroredLabels(t *testing.T) {
	tests := []struct {
		name        string
		role, state string
		want        map[string]string
	}{
		{"synced", "Admin", "Active", map[string]string{identityv1alpha1.LabelRole: "Admin", identityv1alpha1.LabelState: "Active"}},
		{"not found clears the role", "", "NotFound", map[string]string{identityv1alpha1.LabelState: "NotFound"}},
		{"never synced", "", "", map[string]string{}},
		{"a value no label can hold is left out", "Admin Role!", "Active", map[string]string{identityv1alpha1.LabelState: "Active"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := mirroredLabels(&identityv1alpha1.OrgUserStatus{Role: tc.role, State: tc.state})
			if len(got) != len(tc.want) {
				t.Fatalf("labels = %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("label %s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

func TestLabelsMirroredIgnoresOtherLabels(t *testing.T) {
	want := map[string]string{identityv1alpha1.LabelRole: "Admin", identityv1alpha1.LabelState: "Active"}
	have := map[string]string{identityv1alpha1.LabelRole: "Admin", identityv1alpha1.LabelState: "Active", "team": "a"}
	if !labelsMirrored(have, want) {
		t.Error("other labels should not count as a difference")
	}
	delete(have, identityv1alpha1.LabelState)
	if labelsMirrored(have, want) {
		t.Error("a missing state label should count as a difference")
	}
	if labelsMirrored(map[string]string{identityv1alpha1.LabelRole: "Member"}, map[string]string{}) {
		t.Error("a role label left over after status.role was cleared should count as a difference")
	}
}

func TestMirroredLabelsEditedPassesHandEditsOnly(t *testing.T) {
	status := goodStatus()
	mirrored := orgUser("a", "a@example.com", status)
	edited := mirrored.DeepCopy()
	edited.Labels = map[string]string{identityv1alpha1.LabelRole: "Owner", identityv1alpha1.LabelState: "Active"}
	stripped := mirrored.DeepCopy()
	stripped.Labels = nil
	p := mirroredLabelsEdited()
	tests := []struct {
		name     string
		old, new *identityv1alpha1.OrgUser
		want     bool
	}{
		{"label changed by hand", mirrored, edited, true},
		{"labels removed by hand", mirrored, stripped, true},
		{"our own apply mends them", stripped, mirrored, false},
		{"status changed, labels not yet", stripped, stripped, false},
	}
	for _, tc := range tests {
		if got := p.Update(event.UpdateEvent{ObjectOld: tc.old, ObjectNew: tc.new}); got != tc.want {
			t.Errorf("%s: passes = %v, want %v", tc.name, got, tc.want)
		}
	}
}
