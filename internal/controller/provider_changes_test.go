package controller

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
)

func TestProviderEditsThatRereadUsers(t *testing.T) {
	base := func() *identityv1alpha1.ClusterOrgProvider {
		return &identityv1alpha1.ClusterOrgProvider{Spec: identityv1alpha1.ClusterOrgProviderSpec{ProviderConfig: identityv1alpha1.ProviderConfig{
			Mixpeek:         &identityv1alpha1.MixpeekProvider{BaseURL: "https://api.mixpeek.com"},
			Auth:            identityv1alpha1.ProviderAuth{SecretRef: identityv1alpha1.SecretKeyReference{Name: "t", Key: "token", Namespace: "ops"}},
			RefreshInterval: &metav1.Duration{Duration: time.Hour},
			Timeout:         &metav1.Duration{Duration: 10 * time.Second},
			RateLimit:       &identityv1alpha1.RateLimit{RequestsPerSecond: 5, Burst: 10},
		}}}
	}
	tests := []struct {
		name   string
		edit   func(*identityv1alpha1.ClusterOrgProvider)
		reread bool
	}{
		{"rateLimit", func(p *identityv1alpha1.ClusterOrgProvider) { p.Spec.RateLimit.RequestsPerSecond = 50 }, false},
		{"timeout", func(p *identityv1alpha1.ClusterOrgProvider) { p.Spec.Timeout.Duration = time.Minute }, false},
		{"refreshInterval", func(p *identityv1alpha1.ClusterOrgProvider) { p.Spec.RefreshInterval.Duration = time.Minute }, false},
		{"labels only", func(p *identityv1alpha1.ClusterOrgProvider) { p.Labels = map[string]string{"team": "a"} }, false},
		{"baseURL", func(p *identityv1alpha1.ClusterOrgProvider) { p.Spec.Mixpeek.BaseURL = "https://eu.mixpeek.com" }, true},
		{"provider block", func(p *identityv1alpha1.ClusterOrgProvider) {
			p.Spec.Mixpeek, p.Spec.Flashback = nil, &identityv1alpha1.FlashbackProvider{}
		}, true},
		{"to scim", func(p *identityv1alpha1.ClusterOrgProvider) {
			p.Spec.Mixpeek, p.Spec.SCIM = nil, &identityv1alpha1.SCIMProvider{BaseURL: "https://api.example.com/scim/v2"}
		}, true},
		{"caBundle", func(p *identityv1alpha1.ClusterOrgProvider) { p.Spec.CABundle = []byte("pem") }, true},
		{"secret name", func(p *identityv1alpha1.ClusterOrgProvider) { p.Spec.Auth.SecretRef.Name = "other" }, true},
		{"namespaceSelector", func(p *identityv1alpha1.ClusterOrgProvider) {
			p.Spec.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}}
		}, true},
	}
	pred := providerChangeRereadsUsers()
	scimBase := func() *identityv1alpha1.ClusterOrgProvider {
		p := base()
		p.Spec.Mixpeek = nil
		p.Spec.SCIM = &identityv1alpha1.SCIMProvider{BaseURL: "https://api.example.com/scim/v2", KeyAttribute: "userName",
			Roles: &identityv1alpha1.SCIMRoles{Attribute: "roles", Default: "Unknown",
				Map: []identityv1alpha1.SCIMRoleMapEntry{{Value: "enterprise_owner", Role: "Owner"}}}}
		return p
	}
	for name, edit := range map[string]func(*identityv1alpha1.SCIMProvider){
		"scim baseURL":       func(s *identityv1alpha1.SCIMProvider) { s.BaseURL = "https://other.example.com/scim/v2" },
		"scim keyAttribute":  func(s *identityv1alpha1.SCIMProvider) { s.KeyAttribute = "externalId" },
		"scim roles.map":     func(s *identityv1alpha1.SCIMProvider) { s.Roles.Map[0].Role = "Admin" },
		"scim roles.default": func(s *identityv1alpha1.SCIMProvider) { s.Roles.Default = "Member" },
		"scim roles removed": func(s *identityv1alpha1.SCIMProvider) { s.Roles = nil },
	} {
		oldObj, newObj := scimBase(), scimBase()
		edit(newObj.Spec.SCIM)
		if !pred.Update(event.UpdateEvent{ObjectOld: oldObj, ObjectNew: newObj}) {
			t.Errorf("edit of %s does not re-read users", name)
		}
	}
	if oldObj, newObj := scimBase(), scimBase(); pred.Update(event.UpdateEvent{ObjectOld: oldObj, ObjectNew: newObj}) {
		t.Errorf("an unchanged scim block re-reads users")
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			oldObj, newObj := base(), base()
			tc.edit(newObj)
			if got := pred.Update(event.UpdateEvent{ObjectOld: oldObj, ObjectNew: newObj}); got != tc.reread {
				t.Errorf("edit of %s re-reads users = %v, want %v", tc.name, got, tc.reread)
			}
		})
	}
	if !pred.Create(event.CreateEvent{Object: base()}) || !pred.Delete(event.DeleteEvent{Object: base()}) {
		t.Errorf("creating or deleting a provider must reach its users")
	}
}
