package controller

import (
	"reflect"
	"strings"
	"testing"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/provider"
	"github.com/orgsync/orgsync/internal/provider/flashback"
	"github.com/orgsync/orgsync/internal/provider/mixpeek"
	"github.com/orgsync/orgsync/internal/provider/scim"
)

func TestBackendOfSCIMBlock(t *testing.T) {
	cfg := &identityv1alpha1.ProviderConfig{SCIM: &identityv1alpha1.SCIMProvider{
		BaseURL: "https://api.example.com/scim/v2", KeyAttribute: "externalId",
		Roles: &identityv1alpha1.SCIMRoles{Attribute: "groups", Default: "Member", Map: []identityv1alpha1.SCIMRoleMapEntry{
			{Value: "admins", Role: "Admin"}, {Value: "owners", Role: "Owner"},
		}},
	}}
	name, baseURL, options, err := backend(cfg)
	if err != nil || name != scim.Name || baseURL != "https://api.example.com/scim/v2" {
		t.Fatalf("backend = %q %q %v", name, baseURL, err)
	}
	want := scim.Options{KeyAttribute: scim.KeyExternalID, Roles: &scim.RoleMapping{Attribute: "groups", Default: provider.RoleMember,
		Map: []scim.RoleMapEntry{{Value: "admins", Role: provider.RoleAdmin}, {Value: "owners", Role: provider.RoleOwner}}}}
	if !reflect.DeepEqual(options, want) {
		t.Errorf("options = %#v, want %#v", options, want)
	}

	// The options are a copy: editing the cached object later cannot reach a running client.
	cfg.SCIM.Roles.Map[0].Role = "Viewer"
	if got := options.(scim.Options).Roles.Map[0].Role; got != provider.RoleAdmin {
		t.Errorf("options share the object's map: role %q", got)
	}

	if _, _, options, _ := backend(&identityv1alpha1.ProviderConfig{SCIM: &identityv1alpha1.SCIMProvider{BaseURL: "https://x"}}); !reflect.DeepEqual(options, scim.Options{}) {
		t.Errorf("bare scim block: options = %#v, want the zero Options (the client's defaults)", options)
	}
	if _, _, options, _ := backend(&identityv1alpha1.ProviderConfig{Mixpeek: &identityv1alpha1.MixpeekProvider{}}); options != nil {
		t.Errorf("mixpeek options = %#v, want nil", options)
	}
}

func TestBackendNamesAllThreeBlocks(t *testing.T) {
	tests := map[string]*identityv1alpha1.ProviderConfig{
		"none":               {},
		"mixpeek and scim":   {Mixpeek: &identityv1alpha1.MixpeekProvider{}, SCIM: &identityv1alpha1.SCIMProvider{}},
		"flashback and scim": {Flashback: &identityv1alpha1.FlashbackProvider{}, SCIM: &identityv1alpha1.SCIMProvider{}},
		"all three": {Mixpeek: &identityv1alpha1.MixpeekProvider{}, Flashback: &identityv1alpha1.FlashbackProvider{},
			SCIM: &identityv1alpha1.SCIMProvider{}},
	}
	for name, cfg := range tests {
		_, _, _, err := backend(cfg)
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		for _, block := range []string{"mixpeek", "flashback", "scim"} {
			if !strings.Contains(err.Error(), block) {
				t.Errorf("%s: message %q does not mention %s", name, err, block)
			}
		}
	}
}

func TestOptionsProblem(t *testing.T) {
	registry := provider.Registry{mixpeek.Name: mixpeek.Provider{}, flashback.Name: flashback.Provider{}, scim.Name: scim.Provider{}}
	if got := optionsProblem(registry[mixpeek.Name], "https://api.mixpeek.com", nil); got != "" {
		t.Errorf("mixpeek: %q", got)
	}
	good := scimOptions(&identityv1alpha1.SCIMProvider{Roles: &identityv1alpha1.SCIMRoles{Attribute: "roles"}})
	if got := optionsProblem(registry[scim.Name], "https://api.example.com/scim/v2", good); got != "" {
		t.Errorf("good scim block: %q", got)
	}
	bad := scimOptions(&identityv1alpha1.SCIMProvider{Roles: &identityv1alpha1.SCIMRoles{
		Attribute: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:"}})
	got := optionsProblem(registry[scim.Name], "https://api.example.com/scim/v2", bad)
	if !strings.HasPrefix(got, "Invalid scim configuration: roles.attribute") {
		t.Errorf("extension without attribute: %q", got)
	}
	if got := optionsProblem(registry[scim.Name], "", good); got == "" {
		t.Errorf("scim block without baseURL passes")
	}
}
