package install

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The install.yaml objects, as config/default names them.
const (
	installNamespace = "orgsync-system"
	installPrefix    = "orgsync-"
)

func ctxFor(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// doc is one object of a multi-document YAML stream, with its source text.
type doc struct {
	raw []byte
	obj *unstructured.Unstructured
}

func (d doc) String() string {
	if d.obj.GetNamespace() == "" {
		return d.obj.GetKind() + " " + d.obj.GetName()
	}
	return fmt.Sprintf("%s %s/%s", d.obj.GetKind(), d.obj.GetNamespace(), d.obj.GetName())
}

// parseDocs splits a YAML stream into objects, skipping empty documents (only comments).
func parseDocs(t *testing.T, data []byte) []doc {
	t.Helper()
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs []doc
	for {
		raw, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("split YAML: %v", err)
		}
		js, err := utilyaml.ToJSON(raw)
		if err != nil {
			t.Fatalf("YAML document is not valid: %v\n%s", err, raw)
		}
		var m map[string]any
		if err := json.Unmarshal(js, &m); err != nil {
			t.Fatalf("YAML document is not an object: %v\n%s", err, raw)
		}
		if m == nil {
			continue
		}
		docs = append(docs, doc{raw: raw, obj: &unstructured.Unstructured{Object: m}})
	}
	return docs
}

// joinDocs is the inverse of parseDocs, for feeding documents to kubectl.
func joinDocs(docs []doc) []byte {
	var b bytes.Buffer
	for _, d := range docs {
		b.WriteString("---\n")
		b.Write(d.raw)
		if !bytes.HasSuffix(d.raw, []byte("\n")) {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

func ofKind(docs []doc, kind string) []doc {
	var out []doc
	for _, d := range docs {
		if d.obj.GetKind() == kind {
			out = append(out, d)
		}
	}
	return out
}

func without(docs []doc, kind string) []doc {
	var out []doc
	for _, d := range docs {
		if d.obj.GetKind() != kind {
			out = append(out, d)
		}
	}
	return out
}

// mustFind returns the one object of that kind and name.
func mustFind(t *testing.T, docs []doc, kind, name string) *unstructured.Unstructured {
	t.Helper()
	var found *unstructured.Unstructured
	for _, d := range ofKind(docs, kind) {
		if d.obj.GetName() == name {
			if found != nil {
				t.Fatalf("%s %q appears twice", kind, name)
			}
			found = d.obj
		}
	}
	if found == nil {
		t.Fatalf("no %s %q among %v", kind, name, docs)
	}
	return found
}

// onlyDeployment returns the manager Deployment, the one Deployment there must be.
func onlyDeployment(t *testing.T, docs []doc) *appsv1.Deployment {
	t.Helper()
	deps := ofKind(docs, "Deployment")
	if len(deps) != 1 {
		t.Fatalf("want exactly one Deployment, got %v", deps)
	}
	var dep appsv1.Deployment
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(deps[0].obj.Object, &dep); err != nil {
		t.Fatalf("convert Deployment: %v", err)
	}
	return &dep
}

func readRepoFile(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, rel))
	if err != nil {
		t.Fatalf("read %s: %v", rel, err)
	}
	return b
}

// runTool runs a command in the repository root and returns its stdout; it fails the test with
// stderr when the command fails.
func runTool(t *testing.T, stdin []byte, bin string, args ...string) []byte {
	t.Helper()
	out, err := tryTool(t, stdin, bin, args...)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return out
}

func tryTool(t *testing.T, stdin []byte, bin string, args ...string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(),
		"KUBECONFIG="+kubeconfig,
		"HELM_CACHE_HOME="+filepath.Join(toolHome, "helm", "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(toolHome, "helm", "config"),
		"HELM_DATA_HOME="+filepath.Join(toolHome, "helm", "data"),
	)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("%s %s: %v\nstderr:\n%s\nstdout:\n%s",
			filepath.Base(bin), strings.Join(args, " "), err, stderr.String(), stdout.String())
	}
	return stdout.Bytes(), nil
}

// kubectl runs bin/k8s/kubectl against envtest.
func kubectl(t *testing.T, stdin []byte, args ...string) {
	t.Helper()
	runTool(t, stdin, kubectlBin, append([]string{"--cache-dir", filepath.Join(toolHome, "kube-cache")}, args...)...)
}

// helmTemplate renders dist/chart as release `release` in namespace ns with the given
// helm flags (--set ...).
func helmTemplate(t *testing.T, release, ns string, flags ...string) []doc {
	t.Helper()
	out, err := tryHelmTemplate(t, release, ns, flags...)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return parseDocs(t, out)
}

func tryHelmTemplate(t *testing.T, release, ns string, flags ...string) ([]byte, error) {
	t.Helper()
	args := append([]string{"template", release, filepath.Join(repoRoot, "dist", "chart"), "--namespace", ns}, flags...)
	return tryTool(t, nil, helmBin, args...)
}

// createNamespace creates a namespace (once per test binary run) that enforces the "restricted"
// Pod Security Standard.
func createRestrictedNamespace(t *testing.T, name string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
		"pod-security.kubernetes.io/enforce":         "restricted",
		"pod-security.kubernetes.io/enforce-version": "latest",
	}}}
	if err := k8s.Create(ctxFor(t), ns); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create namespace %s: %v", name, err)
	}
}

var (
	installOnce sync.Once
	installErr  error
)

// applyInstallYAML applies dist/install.yaml to envtest once; tests that need the installed
// objects call it, whatever order they run in.
func applyInstallYAML(t *testing.T) {
	t.Helper()
	installOnce.Do(func() {
		_, installErr = tryTool(t, nil, kubectlBin, "--cache-dir", filepath.Join(toolHome, "kube-cache"),
			"apply", "--server-side", "--field-manager=install-test", "-f", filepath.Join("dist", "install.yaml"))
	})
	if installErr != nil {
		t.Fatalf("kubectl apply --server-side -f dist/install.yaml: %v", installErr)
	}
}

// assertAllExist reads every object back from the API server.
func assertAllExist(t *testing.T, docs []doc) {
	t.Helper()
	ctx := ctxFor(t)
	for _, d := range docs {
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(d.obj.GroupVersionKind())
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(d.obj), got); err != nil {
			t.Errorf("%v was not created: %v", d, err)
		}
	}
}

// podFromTemplate makes a Pod out of a Deployment's pod template, as the ReplicaSet controller
// would (envtest runs no controllers, and Pod Security admission enforces on Pods only). The name
// gets a random suffix, so the tests can run more than once against the same API server.
func podFromTemplate(dep *appsv1.Deployment, namespace, name string) *corev1.Pod {
	tmpl := dep.Spec.Template.DeepCopy()
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: name + "-", Namespace: namespace,
			Labels: tmpl.Labels, Annotations: tmpl.Annotations,
		},
		Spec: tmpl.Spec,
	}
}

// serviceAccountUser is how a ServiceAccount appears to the authorizer.
func serviceAccountUser(namespace, name string) (string, []string) {
	return "system:serviceaccount:" + namespace + ":" + name,
		[]string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"}
}

// access is one request for a SubjectAccessReview.
type access struct {
	verb, group, resource, subresource, namespace string
}

func (a access) String() string {
	r := a.resource
	if a.subresource != "" {
		r += "/" + a.subresource
	}
	if a.group != "" {
		r += "." + a.group
	}
	if a.namespace != "" {
		return fmt.Sprintf("%s %s in %s", a.verb, r, a.namespace)
	}
	return fmt.Sprintf("%s %s (cluster-wide)", a.verb, r)
}

// allowed asks the API server's authorizer whether the user may do a.
func allowed(t *testing.T, user string, groups []string, a access) bool {
	t.Helper()
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: user, Groups: groups,
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Namespace: a.namespace, Verb: a.verb, Group: a.group, Resource: a.resource, Subresource: a.subresource,
		},
	}}
	if err := k8s.Create(ctxFor(t), sar); err != nil {
		t.Fatalf("SubjectAccessReview %v: %v", a, err)
	}
	return sar.Status.Allowed
}

// checkGoMemLimit: the manager container's GOMEMLIMIT is its own memory limit, in bytes (no divisor),
// so the Go runtime's soft memory limit follows whatever limit the Deployment is given.
func checkGoMemLimit(t *testing.T, dep *appsv1.Deployment) {
	t.Helper()
	c := dep.Spec.Template.Spec.Containers[0]
	if c.Name != "manager" {
		t.Fatalf("first container is %q, want manager", c.Name)
	}
	var found []corev1.EnvVar
	for _, e := range c.Env {
		if e.Name == "GOMEMLIMIT" {
			found = append(found, e)
		}
	}
	if len(found) != 1 {
		t.Fatalf("manager env %+v: want exactly one GOMEMLIMIT", c.Env)
	}
	e := found[0]
	var ref *corev1.ResourceFieldSelector
	if e.ValueFrom != nil {
		ref = e.ValueFrom.ResourceFieldRef
	}
	if e.Value != "" || ref == nil || ref.ContainerName != "manager" || ref.Resource != "limits.memory" || !ref.Divisor.IsZero() {
		t.Errorf("GOMEMLIMIT = %+v (valueFrom %+v), want valueFrom.resourceFieldRef {containerName: manager, resource: limits.memory} without a divisor",
			e, e.ValueFrom)
	}
	if _, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok {
		t.Errorf("manager has no memory limit (%+v): GOMEMLIMIT would be the node's allocatable memory", c.Resources)
	}
}
