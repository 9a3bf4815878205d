package gitops

import (
	"os"
	"path/filepath"
	"testing"

	lua "github.com/yuin/gopher-lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/orgsync/orgsync/test/envsuite"
)

// customizations is where the shipped Argo CD scripts live, in Argo's own layout: one directory per
// kind of group identity.orgsync.io.
var customizations = filepath.Join(envsuite.RepoRoot(), "config", "argocd", "resource_customizations", "identity.orgsync.io")

// readScript reads one of the OrgUser's scripts.
func readScript(t *testing.T, rel string) string {
	t.Helper()
	return readKindScript(t, "OrgUser", rel)
}

// readKindScript reads one of kind's scripts.
func readKindScript(t *testing.T, kind, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(customizations, kind, rel))
	envsuite.Must(t, err)
	return string(b)
}

// runArgoLua runs script the way Argo CD does: only the package, base and table libraries, a safe
// os module with just date, and the object as the global obj. It returns the script's result.
func runArgoLua(t *testing.T, script string, obj *unstructured.Unstructured) lua.LValue {
	t.Helper()
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	t.Cleanup(L.Close)
	for name, open := range map[string]lua.LGFunction{lua.LoadLibName: lua.OpenPackage, lua.BaseLibName: lua.OpenBase, lua.TabLibName: lua.OpenTable} {
		envsuite.Must(t, L.CallByParam(lua.P{Fn: L.NewFunction(open), NRet: 0, Protect: true}, lua.LString(name)))
	}
	safeOs := safeOsModule(t, L)
	L.SetGlobal(lua.OsLibName, safeOs)
	L.PreloadModule(lua.OsLibName, func(L *lua.LState) int { L.Push(safeOs); return 1 })
	L.SetGlobal("obj", toLua(L, obj.Object))
	envsuite.Must(t, L.DoString(script))
	return L.Get(-1)
}

// safeOsModule is an os table with only date, as Argo CD offers to scripts.
func safeOsModule(t *testing.T, L *lua.LState) *lua.LTable {
	t.Helper()
	envsuite.Must(t, L.CallByParam(lua.P{Fn: L.NewFunction(lua.OpenOs), NRet: 1, Protect: true}))
	full := L.CheckTable(-1)
	L.Pop(1)
	L.SetGlobal(lua.OsLibName, lua.LNil)
	safe := L.NewTable()
	safe.RawSetString("date", full.RawGetString("date"))
	return safe
}

// toLua converts a decoded JSON object the way Argo CD's decodeValue does.
func toLua(L *lua.LState, value any) lua.LValue {
	switch v := value.(type) {
	case bool:
		return lua.LBool(v)
	case float64:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	case int:
		return lua.LNumber(v)
	case string:
		return lua.LString(v)
	case []any:
		arr := L.CreateTable(len(v), 0)
		for _, item := range v {
			arr.Append(toLua(L, item))
		}
		return arr
	case map[string]any:
		tbl := L.CreateTable(0, len(v))
		for key, item := range v {
			tbl.RawSetH(lua.LString(key), toLua(L, item))
		}
		return tbl
	}
	return lua.LNil
}

// fromLua converts a Lua result back to JSON-like Go values; a table with an array part is a list.
func fromLua(value lua.LValue) any {
	switch v := value.(type) {
	case lua.LBool:
		return bool(v)
	case lua.LNumber:
		if float64(v) == float64(int64(v)) {
			return int64(v)
		}
		return float64(v)
	case lua.LString:
		return string(v)
	case *lua.LTable:
		if n := v.MaxN(); n > 0 {
			list := make([]any, 0, n)
			for i := 1; i <= n; i++ {
				list = append(list, fromLua(v.RawGetInt(i)))
			}
			return list
		}
		m := map[string]any{}
		v.ForEach(func(key, item lua.LValue) { m[key.String()] = fromLua(item) })
		return m
	}
	return nil
}

// argoHealth is what Argo CD shows for obj with the health.lua shipped for obj's kind.
func argoHealth(t *testing.T, obj *unstructured.Unstructured) (status, message string) {
	t.Helper()
	kind := obj.GetKind()
	if kind == "" {
		t.Fatalf("%s/%s has no kind: Argo CD picks the health script by group and kind", obj.GetNamespace(), obj.GetName())
	}
	result, ok := runArgoLua(t, readKindScript(t, kind, "health.lua"), obj).(*lua.LTable)
	if !ok {
		t.Fatalf("the %s health.lua returned %v, want a table", kind, result)
	}
	status, message = result.RawGetString("status").String(), result.RawGetString("message").String()
	switch status {
	case "Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown":
	default:
		t.Fatalf("the %s health.lua returned status %q, which Argo CD does not know", kind, status)
	}
	return status, message
}

func requireArgoHealth(t *testing.T, obj *unstructured.Unstructured, want string) string {
	t.Helper()
	status, message := argoHealth(t, obj)
	if status != want {
		t.Fatalf("Argo CD health of %s/%s = %s (%s), want %s; status: %v", obj.GetNamespace(), obj.GetName(), status, message, want, obj.Object["status"])
	}
	return message
}
