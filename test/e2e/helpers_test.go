//go:build e2e

package e2e

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/controller"
	"github.com/orgsync/orgsync/internal/upstreamsim"
)

// Both install paths name these the same (install.yaml's namePrefix, the chart's release "orgsync").
const (
	systemNamespace = "orgsync-system"
	deploymentName  = "orgsync-controller-manager"
	metricsService  = "orgsync-controller-manager-metrics-service"
	// nodeName is the one node hack/e2e-node.sh registers.
	nodeName     = "orgsync-e2e"
	releaseName  = "orgsync"
	secretName   = "upstream-token"
	providerName = "mixpeek"
)

// installed is what the manager currently runs from: "", "install.yaml" or "chart".
var installed string

// installYAML is dist/install.yaml with the image re-tagged to the one imported into the node: its
// own tag, :latest, would mean pull policy Always, and the node has no registry to pull from.
func installYAML(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "dist", "install.yaml"))
	if err != nil {
		t.Fatalf("read dist/install.yaml: %v", err)
	}
	const want = "image: orgsync/controller:latest"
	if strings.Count(string(data), want) != 1 {
		t.Fatalf("dist/install.yaml should name the manager image once as %q (the README's default)", want)
	}
	return []byte(strings.Replace(string(data), want, "image: "+image, 1))
}

// useInstallYAML makes the manager run from dist/install.yaml, applied as the README says.
func useInstallYAML(t *testing.T) {
	t.Helper()
	if installed == "install.yaml" {
		return
	}
	uninstallAll()
	if _, err := tool(kubectlBin, installYAML(t), "apply", "--server-side", "-f", "-"); err != nil {
		t.Fatalf("kubectl apply --server-side -f dist/install.yaml: %v", err)
	}
	installed = "install.yaml"
	start := time.Now()
	kubectl(t, "-n", systemNamespace, "rollout", "status", "deployment/"+deploymentName, "--timeout=3m")
	t.Logf("dist/install.yaml: rollout complete %.1fs after kubectl apply", time.Since(start).Seconds())
}

// uninstallAll removes whatever install is in place, CRDs and every orgsync object included.
func uninstallAll() {
	switch installed {
	case "install.yaml":
		data, err := os.ReadFile(filepath.Join(repoRoot, "dist", "install.yaml"))
		if err == nil {
			_, _ = tool(kubectlBin, data, "delete", "--ignore-not-found", "--wait", "--timeout=3m", "-f", "-")
		}
	case "chart":
		_, _ = tool(helmBin, nil, "uninstall", releaseName, "--namespace", systemNamespace, "--wait", "--timeout=3m")
		_, _ = tool(kubectlBin, nil, "delete", "--ignore-not-found", "--wait", "--timeout=3m", "namespace", systemNamespace)
		_, _ = tool(kubectlBin, nil, "delete", "--ignore-not-found", "--wait", "--timeout=3m", "crd",
			"orgusers.identity.orgsync.io", "orgproviders.identity.orgsync.io",
			"clusterorgproviders.identity.orgsync.io", "orgdirectories.identity.orgsync.io")
	}
	installed = ""
}

// allowPrivateAddresses adds --allow-private-addresses to the manager's arguments, the way the
// README tells on-premises users of install.yaml to (the simulator is on a private address).
func allowPrivateAddresses(t *testing.T) {
	t.Helper()
	ctx := ctxFor(t, time.Minute)
	dep := &appsv1.Deployment{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: systemNamespace, Name: deploymentName}, dep); err != nil {
		t.Fatalf("get the Deployment: %v", err)
	}
	for _, arg := range dep.Spec.Template.Spec.Containers[0].Args {
		if arg == "--allow-private-addresses" {
			return
		}
	}
	kubectl(t, "-n", systemNamespace, "patch", "deployment", deploymentName, "--type=json",
		`-p=[{"op":"add","path":"/spec/template/spec/containers/0/args/-","value":"--allow-private-addresses"}]`)
	kubectl(t, "-n", systemNamespace, "rollout", "status", "deployment/"+deploymentName, "--timeout=3m")
}

// tenant makes what a team applies before its OrgUsers: a namespace, the token Secret and a Mixpeek
// OrgProvider whose baseURL is the simulator, trusted through caBundle. It is deleted after the test.
func tenant(t *testing.T, namespace string) {
	t.Helper()
	ctx := ctxFor(t, time.Minute)
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: secretName},
			StringData: map[string]string{"token": simToken}},
		&identityv1alpha1.OrgProvider{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: providerName},
			Spec: identityv1alpha1.OrgProviderSpec{ProviderConfig: identityv1alpha1.ProviderConfig{
				Mixpeek:  &identityv1alpha1.MixpeekProvider{BaseURL: sim.URL()},
				Auth:     identityv1alpha1.ProviderAuth{SecretRef: identityv1alpha1.SecretKeyReference{Name: secretName}},
				CABundle: sim.CABundle(),
			}}},
	}
	for _, obj := range objs {
		if err := k8s.Create(ctx, obj); err != nil {
			t.Fatalf("create %T %s: %v", obj, obj.GetName(), err)
		}
	}
	t.Cleanup(func() {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}
		if err := k8s.Delete(context.Background(), ns); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete namespace %s: %v", namespace, err)
		}
	})
}

// demoUser is one of the simulator's Mixpeek users, with what the manager should mirror.
func demoUser(t *testing.T, email string) upstreamsim.DemoUser {
	t.Helper()
	for _, u := range upstreamsim.DemoUsersOf(upstreamsim.ProviderMixpeek) {
		if u.Key == email {
			return u
		}
	}
	t.Fatalf("the simulator has no Mixpeek demo user %s", email)
	return upstreamsim.DemoUser{}
}

func createOrgUser(t *testing.T, namespace, name, key string) {
	t.Helper()
	refresh := metav1.Duration{Duration: time.Hour}
	u := &identityv1alpha1.OrgUser{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: identityv1alpha1.OrgUserSpec{
			ProviderRef:     identityv1alpha1.ProviderReference{Kind: identityv1alpha1.OrgProviderKind, Name: providerName},
			Key:             key,
			RefreshInterval: &refresh,
		},
	}
	if err := k8s.Create(ctxFor(t, time.Minute), u); err != nil {
		t.Fatalf("create OrgUser %s/%s: %v", namespace, name, err)
	}
}

// waitSynced waits until the manager has mirrored the user: Ready for the current generation, with
// the role and state the simulator serves.
func waitSynced(t *testing.T, namespace, name string, want upstreamsim.DemoUser, timeout time.Duration) *identityv1alpha1.OrgUser {
	t.Helper()
	u := &identityv1alpha1.OrgUser{}
	last := "never read"
	err := wait.PollUntilContextTimeout(ctxFor(t, timeout+time.Minute), 250*time.Millisecond, timeout, true,
		func(ctx context.Context) (bool, error) {
			if err := k8s.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, u); err != nil {
				last = err.Error()
				return false, nil
			}
			ready := meta.FindStatusCondition(u.Status.Conditions, identityv1alpha1.ConditionReady)
			if ready == nil {
				last = "no Ready condition"
				return false, nil
			}
			last = fmt.Sprintf("Ready=%s reason %s: %s; role %q state %q", ready.Status, ready.Reason, ready.Message, u.Status.Role, u.Status.State)
			return ready.Status == metav1.ConditionTrue && ready.ObservedGeneration == u.Generation &&
				u.Status.Role == want.Role && u.Status.State == want.State, nil
		})
	if err != nil {
		t.Fatalf("OrgUser %s/%s was not synced from the simulator within %s (want role %s, state %s); last seen: %s\n%s",
			namespace, name, timeout, want.Role, want.State, last, managerLogs(t))
	}
	return u
}

// managerLogs is the tail of every manager pod's log, for failure messages.
func managerLogs(t *testing.T) string {
	t.Helper()
	out, err := tool(kubectlBin, nil, "-n", systemNamespace, "logs", "--all-containers", "--prefix", "--tail=30",
		"-l", "app.kubernetes.io/name=orgsync")
	if err != nil {
		return "(no manager logs: " + err.Error() + ")"
	}
	return "manager logs:\n" + out
}

// managerPods are the manager's pods that are not being deleted.
func managerPods(t *testing.T, ctx context.Context) []corev1.Pod {
	t.Helper()
	pods := &corev1.PodList{}
	if err := k8s.List(ctx, pods, client.InNamespace(systemNamespace), client.MatchingLabels{"app.kubernetes.io/name": "orgsync"}); err != nil {
		t.Fatalf("list the manager's pods: %v", err)
	}
	var live []corev1.Pod
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil {
			live = append(live, p)
		}
	}
	return live
}

// leaseHolder is the pod that holds the leader election Lease (its identity starts with the pod's
// host name, which is the pod's name), or "" while nobody does.
func leaseHolder(ctx context.Context) (string, error) {
	lease := &coordinationv1.Lease{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: systemNamespace, Name: controller.LeaderElectionID}, lease); err != nil {
		if apierrors.IsNotFound(err) {
			return "", nil
		}
		return "", fmt.Errorf("get the Lease: %w", err)
	}
	if lease.Spec.HolderIdentity == nil {
		return "", nil
	}
	holder, _, _ := strings.Cut(*lease.Spec.HolderIdentity, "_")
	return holder, nil
}

// waitLeader waits until a pod accepted by ok holds the lease, and returns its name.
func waitLeader(t *testing.T, timeout time.Duration, what string, ok func(pod string) bool) string {
	t.Helper()
	var holder string
	err := wait.PollUntilContextTimeout(ctxFor(t, timeout+time.Minute), 250*time.Millisecond, timeout, true,
		func(ctx context.Context) (bool, error) {
			h, err := leaseHolder(ctx)
			if err != nil {
				return false, err
			}
			holder = h
			return h != "" && ok(h), nil
		})
	if err != nil {
		t.Fatalf("%s did not take the lease within %s (holder: %q): %v\n%s", what, timeout, holder, err, managerLogs(t))
	}
	return holder
}

// waitRollout waits until the Deployment runs replicas up-to-date, ready pods and nothing else.
func waitRollout(t *testing.T, replicas int32, timeout time.Duration) {
	t.Helper()
	var last string
	err := wait.PollUntilContextTimeout(ctxFor(t, timeout+time.Minute), 250*time.Millisecond, timeout, true,
		func(ctx context.Context) (bool, error) {
			dep := &appsv1.Deployment{}
			if err := k8s.Get(ctx, client.ObjectKey{Namespace: systemNamespace, Name: deploymentName}, dep); err != nil {
				return false, err
			}
			s := dep.Status
			last = fmt.Sprintf("replicas %d, updated %d, ready %d, available %d", s.Replicas, s.UpdatedReplicas, s.ReadyReplicas, s.AvailableReplicas)
			pods := managerPods(t, ctx)
			return s.ObservedGeneration == dep.Generation && s.Replicas == replicas && s.UpdatedReplicas == replicas &&
				s.ReadyReplicas == replicas && s.AvailableReplicas == replicas && len(pods) == int(replicas), nil
		})
	if err != nil {
		t.Fatalf("the Deployment did not roll out %d replicas within %s (%s): %v\n%s", replicas, timeout, last, err, managerLogs(t))
	}
}

// errNoContainer is returned while a pod's container has not started.
var errNoContainer = errors.New("container not started")

// statusJSON is the OrgUser's status, to tell a status write from a metadata change.
func statusJSON(t *testing.T, u *identityv1alpha1.OrgUser) string {
	t.Helper()
	data, err := json.Marshal(u.Status)
	if err != nil {
		t.Fatalf("marshal status: %v", err)
	}
	return string(data)
}

// token is a short-lived token of the ServiceAccount, as the TokenRequest API issues it.
func token(t *testing.T, ctx context.Context, namespace, serviceAccount string) string {
	t.Helper()
	expiry := int64(600)
	tr, err := clientset.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, serviceAccount,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("token for %s/%s: %v", namespace, serviceAccount, err)
	}
	return tr.Status.Token
}

// scrape GETs url (with the bearer token, if any) and fails unless the answer has status want. The
// metrics endpoint's certificate is the manager's own self-signed one, so it is not verified, as a
// ServiceMonitor's insecureSkipVerify (the chart's default) does not.
func scrape(t *testing.T, url, bearer string, want int) string {
	t.Helper()
	httpClient := &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, //nolint:gosec // self-signed
	}
	defer httpClient.CloseIdleConnections()
	var lastErr error
	// The Service's endpoints follow the pods' readiness; a just-rolled pod can be missing for a moment.
	for range 20 {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			t.Fatalf("request: %v", err)
		}
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := httpClient.Do(req)
		if err != nil {
			lastErr = err
			time.Sleep(500 * time.Millisecond)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("GET %s (token: %t) answered %d, want %d: %.300s", url, bearer != "", resp.StatusCode, want, body)
		}
		return string(body)
	}
	t.Fatalf("GET %s through the Service failed: %v", url, lastErr)
	return ""
}
