package integration

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/test/envsuite"
)

func TestDirectorySpecsAreValidatedByTheAPIServer(t *testing.T) {
	t.Parallel()
	ns := suite.NewNamespace(t, "t", nil, nil)
	cases := []struct {
		name   string
		mutate func(*identityv1alpha1.OrgDirectory)
		want   string
	}{
		{"a name longer than a label value", func(d *identityv1alpha1.OrgDirectory) { d.Name = strings.Repeat("d", 64) },
			"at most 63 characters"},
		{"listInterval below 1m", func(d *identityv1alpha1.OrgDirectory) {
			d.Spec.ListInterval = &metav1.Duration{Duration: 30 * time.Second}
		}, "listInterval must be at least 1m"},
		{"pageSize above 1000", func(d *identityv1alpha1.OrgDirectory) { d.Spec.PageSize = 1001 }, "pageSize"},
		{"the directory label in the template", func(d *identityv1alpha1.OrgDirectory) {
			d.Spec.UserTemplate.Metadata.Labels = map[string]string{identityv1alpha1.LabelDirectory: "other"}
		}, "set by orgsync, not by a template"},
		{"a mirrored label in the template", func(d *identityv1alpha1.OrgDirectory) {
			d.Spec.UserTemplate.Metadata.Labels = map[string]string{identityv1alpha1.LabelRole: "Owner"}
		}, "set by orgsync, not by a template"},
		{"a template refreshInterval below 10s", func(d *identityv1alpha1.OrgDirectory) {
			d.Spec.UserTemplate.Spec.RefreshInterval = &metav1.Duration{Duration: time.Second}
		}, "refreshInterval must be at least 10s"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := &identityv1alpha1.OrgDirectory{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "d-" + envsuite.UniqueSuffix()},
				Spec:       identityv1alpha1.OrgDirectorySpec{ProviderRef: identityv1alpha1.ProviderReference{Name: "scim"}},
			}
			tc.mutate(d)
			requireRejected(t, suite.Client.Create(envsuite.Ctx(t), d), tc.want)
		})
	}
}
