package gitops

import (
	"encoding/json"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/test/envsuite"
)

// applyRefreshAction does what clicking "refresh" in Argo CD does: discovery offers the action, the
// action script returns the changed object, and the difference is sent as a merge patch. It returns
// the annotation value the action set.
func applyRefreshAction(t *testing.T, obj *unstructured.Unstructured) string {
	t.Helper()
	actions, ok := runArgoLua(t, readScript(t, "actions/discovery.lua"), obj).(*lua.LTable)
	if !ok {
		t.Fatal("discovery.lua did not return a table")
	}
	refresh, ok := actions.RawGetString("refresh").(*lua.LTable)
	if !ok || refresh.RawGetString("disabled") == lua.LTrue {
		t.Fatalf("discovery.lua does not offer an enabled refresh action: %v", fromLua(actions))
	}

	result := fromLua(runArgoLua(t, readScript(t, "actions/refresh/action.lua"), obj))
	content, ok := result.(map[string]any)
	if !ok {
		t.Fatalf("action.lua returned %T, want the object", result)
	}
	changed := &unstructured.Unstructured{Object: content}
	value := changed.GetAnnotations()[identityv1alpha1.ReconcileRequestedAnnotation]
	if _, err := time.Parse(time.RFC3339, value); err != nil {
		t.Fatalf("refresh action set %s to %q, want an RFC 3339 time: %v", identityv1alpha1.ReconcileRequestedAnnotation, value, err)
	}

	patch := client.MergeFrom(obj)
	data, err := patch.Data(changed)
	envsuite.Must(t, err)
	want, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]any{identityv1alpha1.ReconcileRequestedAnnotation: value}}})
	if string(data) != string(want) {
		t.Fatalf("the refresh action changes more than its annotation: patch %s", data)
	}
	envsuite.Must(t, suite.Client.Patch(envsuite.Ctx(t), changed, patch))
	return value
}
