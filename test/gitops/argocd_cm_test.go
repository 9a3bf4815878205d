package gitops

import (
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/orgsync/orgsync/test/envsuite"
)

// The argocd-cm snippet carries the same scripts as the resource_customizations files, under the keys
// Argo CD reads for identity.orgsync.io/OrgUser and identity.orgsync.io/OrgDirectory, and no others.
func TestArgoCDConfigMapMatchesScripts(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join(envsuite.RepoRoot(), "config", "argocd", "argocd-cm.yaml"))
	envsuite.Must(t, err)
	var cm struct {
		Kind     string                `json:"kind"`
		Metadata struct{ Name string } `json:"metadata"`
		Data     map[string]string     `json:"data"`
	}
	envsuite.Must(t, yaml.Unmarshal(data, &cm))
	if cm.Kind != "ConfigMap" || cm.Metadata.Name != "argocd-cm" {
		t.Fatalf("argocd-cm.yaml is a %s named %q, want the ConfigMap argocd-cm", cm.Kind, cm.Metadata.Name)
	}
	if got := cm.Data["resource.customizations.health.identity.orgsync.io_OrgUser"]; got != readScript(t, "health.lua") {
		t.Errorf("the health script in argocd-cm.yaml differs from health.lua")
	}
	if got := cm.Data["resource.customizations.health.identity.orgsync.io_OrgDirectory"]; got != readKindScript(t, "OrgDirectory", "health.lua") {
		t.Errorf("the OrgDirectory health script in argocd-cm.yaml differs from OrgDirectory/health.lua")
	}
	for key := range cm.Data {
		switch key {
		case "resource.customizations.health.identity.orgsync.io_OrgUser",
			"resource.customizations.actions.identity.orgsync.io_OrgUser",
			"resource.customizations.health.identity.orgsync.io_OrgDirectory":
		default:
			t.Errorf("argocd-cm.yaml has a key %q without a script file under resource_customizations", key)
		}
	}
	var actions struct {
		Discovery   string `json:"discovery.lua"`
		Definitions []struct {
			Name   string `json:"name"`
			Action string `json:"action.lua"`
		} `json:"definitions"`
	}
	envsuite.Must(t, yaml.UnmarshalStrict([]byte(cm.Data["resource.customizations.actions.identity.orgsync.io_OrgUser"]), &actions))
	if actions.Discovery != readScript(t, "actions/discovery.lua") {
		t.Errorf("the discovery script in argocd-cm.yaml differs from actions/discovery.lua")
	}
	if len(actions.Definitions) != 1 || actions.Definitions[0].Name != "refresh" || actions.Definitions[0].Action != readScript(t, "actions/refresh/action.lua") {
		t.Errorf("argocd-cm.yaml should define exactly the refresh action of actions/refresh/action.lua, has %+v", actions.Definitions)
	}
}
