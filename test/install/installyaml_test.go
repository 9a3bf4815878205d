package install

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestInstallYAMLIsUpToDate fails when dist/install.yaml is not what config/default builds
// (a marker, CRD or kustomize change without `make build-installer`).
func TestInstallYAMLIsUpToDate(t *testing.T) {
	want := runTool(t, nil, kustomizeBin, "build", "config/default")
	got := readRepoFile(t, "dist/install.yaml")
	if !bytes.Equal(got, want) {
		t.Fatalf("dist/install.yaml differs from `kustomize build config/default` (%s): run `make build-installer` and commit it",
			firstDifference(got, want))
	}
}

// TestInstallYAMLContents checks what install.yaml must hold, by kind.
func TestInstallYAMLContents(t *testing.T) {
	docs := parseDocs(t, readRepoFile(t, "dist/install.yaml"))
	counts := map[string]int{}
	for _, d := range docs {
		counts[d.obj.GetKind()]++
		if ns := d.obj.GetNamespace(); ns != "" && ns != installNamespace {
			t.Errorf("%v: namespace %q, want %q", d, ns, installNamespace)
		}
	}
	for kind, want := range map[string]int{
		"Namespace": 1, "CustomResourceDefinition": 4, "ServiceAccount": 1, "Deployment": 1, "Service": 1,
		"Role": 1, "RoleBinding": 1, "ClusterRoleBinding": 2,
	} {
		if counts[kind] != want {
			t.Errorf("%d %s objects, want %d", counts[kind], kind, want)
		}
	}
	ns := mustFind(t, docs, "Namespace", installNamespace)
	if got := ns.GetLabels()["pod-security.kubernetes.io/enforce"]; got != "restricted" {
		t.Errorf("namespace %s: label pod-security.kubernetes.io/enforce=%q, want restricted", installNamespace, got)
	}
	mustFind(t, docs, "Service", installPrefix+"controller-manager-metrics-service")
	for _, crd := range []string{"orgusers", "orgproviders", "clusterorgproviders", "orgdirectories"} {
		mustFind(t, docs, "CustomResourceDefinition", crd+".identity.orgsync.io")
	}
	checkWiring(t, docs, installNamespace, installPrefix)
	checkGoMemLimit(t, onlyDeployment(t, docs))
	args := onlyDeployment(t, docs).Spec.Template.Spec.Containers[0].Args
	for _, want := range []string{"--leader-elect", "--metrics-bind-address=:8443", "--health-probe-bind-address=:8081"} {
		if !contains(args, want) {
			t.Errorf("manager args %q lack %s", args, want)
		}
	}
}

// TestInstallYAMLApplies applies install.yaml server-side and reads every object back; the CRDs
// must be accepted (Established) by the API server.
func TestInstallYAMLApplies(t *testing.T) {
	applyInstallYAML(t)
	docs := parseDocs(t, readRepoFile(t, "dist/install.yaml"))
	assertAllExist(t, docs)

	deadline := time.Now().Add(30 * time.Second)
	for _, d := range ofKind(docs, "CustomResourceDefinition") {
		for {
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(d.obj.GroupVersionKind())
			if err := k8s.Get(ctxFor(t), client.ObjectKeyFromObject(d.obj), u); err != nil {
				t.Fatalf("get %v: %v", d, err)
			}
			if established(u) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%v is not Established: %v", d, u.Object["status"])
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// established tells whether a CRD's Established condition is True.
func established(crd *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}

// firstDifference describes where two texts first differ, by line.
func firstDifference(got, want []byte) string {
	gl, wl := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
	for i := 0; i < len(gl) || i < len(wl); i++ {
		var g, w []byte
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if !bytes.Equal(g, w) {
			return fmt.Sprintf("first at line %d: committed %q, generated %q", i+1, g, w)
		}
	}
	return "no line differs"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
