//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/upstreamsim"
)

// TestInstallYAML applies dist/install.yaml as the README says and watches the manager run: the
// rollout completes, both probes keep passing for a minute without a restart, and the process runs
// as the manifests promise (non-root uid 65532, no capabilities, no new privileges, RuntimeDefault
// seccomp, read-only root filesystem, the README's memory limit) in a namespace enforcing the
// restricted Pod Security Standard.
func TestInstallYAML(t *testing.T) {
	useInstallYAML(t)
	ctx := ctxFor(t, 3*time.Minute)

	ns := &corev1.Namespace{}
	if err := k8s.Get(ctx, client.ObjectKey{Name: systemNamespace}, ns); err != nil {
		t.Fatalf("get namespace %s: %v", systemNamespace, err)
	}
	if got := ns.Labels["pod-security.kubernetes.io/enforce"]; got != "restricted" {
		t.Errorf("namespace %s enforces Pod Security %q, want restricted (the README's promise)", systemNamespace, got)
	}

	pods := managerPods(t, ctx)
	if len(pods) != 1 {
		t.Fatalf("want 1 manager pod, got %d", len(pods))
	}
	pod := pods[0]

	// A minute of both probes: liveness runs from 15s every 20s, readiness every 10s; a failing one
	// shows as an Unhealthy event, a restart, or the pod leaving Ready.
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		p := &corev1.Pod{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(&pod), p); err != nil {
			t.Fatalf("the manager pod %s went away: %v", pod.Name, err)
		}
		if len(p.Status.ContainerStatuses) != 1 {
			t.Fatalf("pod %s has %d container statuses, want 1", p.Name, len(p.Status.ContainerStatuses))
		}
		cs := p.Status.ContainerStatuses[0]
		if cs.RestartCount != 0 {
			t.Fatalf("the manager restarted %d times (last state %+v)\n%s", cs.RestartCount, cs.LastTerminationState, managerLogs(t))
		}
		if !cs.Ready {
			t.Fatalf("the manager is no longer ready (state %+v)\n%s", cs.State, managerLogs(t))
		}
		time.Sleep(5 * time.Second)
	}
	events := &corev1.EventList{}
	if err := k8s.List(ctx, events, client.InNamespace(systemNamespace)); err != nil {
		t.Fatalf("list events: %v", err)
	}
	for _, e := range events.Items {
		if e.InvolvedObject.Name == pod.Name && (e.Reason == "Unhealthy" || e.Reason == "BackOff" || e.Reason == "Failed") {
			t.Errorf("event %s on the manager pod: %s", e.Reason, e.Message)
		}
	}

	proc := containerProcess(t, ctx, &pod)
	status := procStatus(t, proc)
	for _, field := range []string{"Uid", "Gid"} {
		for _, id := range strings.Fields(status[field]) {
			if id != "65532" {
				t.Errorf("the manager runs with %s %q, want 65532 throughout (real, effective, saved, filesystem)", field, status[field])
				break
			}
		}
	}
	for _, field := range []string{"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"} {
		if v, err := strconv.ParseUint(status[field], 16, 64); err != nil || v != 0 {
			t.Errorf("the manager has capabilities %s=%s, want none", field, status[field])
		}
	}
	if status["NoNewPrivs"] != "1" {
		t.Errorf("the manager runs with NoNewPrivs %q, want 1 (allowPrivilegeEscalation: false)", status["NoNewPrivs"])
	}
	// 2 is SECCOMP_MODE_FILTER: the runtime's default profile is loaded.
	if status["Seccomp"] != "2" {
		t.Errorf("the manager runs with Seccomp mode %q, want 2 (RuntimeDefault filter)", status["Seccomp"])
	}
	if opts := rootMountOptions(t, proc); !contains(strings.Split(opts, ","), "ro") {
		t.Errorf("the manager's root filesystem is mounted %q, want read-only", opts)
	}

	// The README: limits 1 CPU / 384Mi, and GOMEMLIMIT follows the memory limit.
	wantMemory := resource.MustParse("384Mi")
	cgroup := containerCgroup(t, proc, "memory")
	if got := readTrim(t, filepath.Join("/sys/fs/cgroup/memory", cgroup, "memory.limit_in_bytes")); got != strconv.FormatInt(wantMemory.Value(), 10) {
		t.Errorf("the manager's memory cgroup limit is %s bytes, want %d (384Mi, the README's)", got, wantMemory.Value())
	}
	if env := procEnviron(t, proc); env["GOMEMLIMIT"] != strconv.FormatInt(wantMemory.Value(), 10) {
		t.Errorf("the manager runs with GOMEMLIMIT=%q, want %d (the container's memory limit)", env["GOMEMLIMIT"], wantMemory.Value())
	}
	cpu := containerCgroup(t, proc, "cpu")
	quota := readTrim(t, filepath.Join("/sys/fs/cgroup/cpu", cpu, "cpu.cfs_quota_us"))
	period := readTrim(t, filepath.Join("/sys/fs/cgroup/cpu", cpu, "cpu.cfs_period_us"))
	if quota != period {
		t.Errorf("the manager's CPU quota is %sus per %sus, want one CPU", quota, period)
	}
}

// TestSyncOverPodNetwork: the manager in its pod reaches an on-premises upstream (the simulator, on
// the node's private address) over the pod network only after private addresses are allowed as the
// README says; before, the egress guard refuses it and says so in the OrgUser's status.
func TestSyncOverPodNetwork(t *testing.T) {
	useInstallYAML(t)
	const namespace = "e2e-sync"
	tenant(t, namespace)
	alice := demoUser(t, "alice@example.com")

	private := false
	dep := kubectl(t, "-n", systemNamespace, "get", "deployment", deploymentName, "-o", "jsonpath={.spec.template.spec.containers[0].args}")
	if strings.Contains(dep, "--allow-private-addresses") {
		private = true
	}
	createOrgUser(t, namespace, "alice", alice.Key)
	if !private {
		waitRefused(t, namespace, "alice", time.Minute)
		allowPrivateAddresses(t)
	}
	before := sim.Requests(upstreamsim.ProviderMixpeek, alice.Key)
	u := waitSynced(t, namespace, "alice", alice, 2*time.Minute)
	if sim.Requests(upstreamsim.ProviderMixpeek, alice.Key) <= before {
		t.Errorf("OrgUser alice is synced but the simulator saw no request for it")
	}
	if u.Status.Email != alice.Key {
		t.Errorf("status.email = %q, want %q", u.Status.Email, alice.Key)
	}
}

// waitRefused waits until the OrgUser reports the egress guard's refusal.
func waitRefused(t *testing.T, namespace, name string, timeout time.Duration) {
	t.Helper()
	u := &identityv1alpha1.OrgUser{}
	var last string
	err := wait.PollUntilContextTimeout(ctxFor(t, timeout+time.Minute), 250*time.Millisecond, timeout, true,
		func(ctx context.Context) (bool, error) {
			if err := k8s.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, u); err != nil {
				return false, err
			}
			for _, c := range u.Status.Conditions {
				last += fmt.Sprintf("%s=%s %s: %s; ", c.Type, c.Status, c.Reason, c.Message)
				if strings.Contains(c.Message, "egress guard refused") {
					return true, nil
				}
			}
			last = ""
			return false, nil
		})
	if err != nil {
		t.Fatalf("without --allow-private-addresses, OrgUser %s/%s should report the egress guard's refusal within %s; conditions: %s",
			namespace, name, timeout, last)
	}
}

// TestLeaderFailover runs two replicas: one holds the lease; when that pod is deleted another takes
// over, and it serves a forced refresh. Across the handover the OrgUser's status is written once,
// for the refresh: the new leader does not rewrite what the old one wrote.
func TestLeaderFailover(t *testing.T) {
	useInstallYAML(t)
	allowPrivateAddresses(t)
	const namespace = "e2e-failover"
	tenant(t, namespace)
	bob := demoUser(t, "bob@example.com")
	createOrgUser(t, namespace, "bob", bob.Key)

	kubectl(t, "-n", systemNamespace, "scale", "deployment", deploymentName, "--replicas=2")
	t.Cleanup(func() {
		if _, err := tool(kubectlBin, nil, "-n", systemNamespace, "scale", "deployment", deploymentName, "--replicas=1"); err != nil {
			t.Errorf("scale back to one replica: %v", err)
		}
	})
	waitRollout(t, 2, 3*time.Minute)
	synced := waitSynced(t, namespace, "bob", bob, 2*time.Minute)

	ctx := ctxFor(t, 5*time.Minute)
	pods := managerPods(t, ctx)
	names := map[string]bool{}
	for _, p := range pods {
		names[p.Name] = true
	}
	leader := waitLeader(t, time.Minute, "one of the two replicas", func(pod string) bool { return names[pod] })
	t.Logf("replicas %v; %s leads", names, leader)

	watcher, err := k8s.Watch(ctx, &identityv1alpha1.OrgUserList{}, client.InNamespace(namespace),
		&client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: synced.ResourceVersion}})
	if err != nil {
		t.Fatalf("watch OrgUsers: %v", err)
	}
	defer watcher.Stop()

	// With the node cordoned the ReplicaSet's replacement pod waits unscheduled, so the takeover is
	// the standby's, as when the leader's node is lost.
	kubectl(t, "cordon", nodeName)
	t.Cleanup(func() {
		if _, err := tool(kubectlBin, nil, "uncordon", nodeName); err != nil {
			t.Errorf("uncordon: %v", err)
		}
	})
	deleted := time.Now()
	if err := k8s.Delete(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: systemNamespace, Name: leader}}); err != nil {
		t.Fatalf("delete the leader pod %s: %v", leader, err)
	}
	next := waitLeader(t, 2*time.Minute, "another replica", func(pod string) bool { return pod != leader })
	if !names[next] {
		t.Fatalf("%s took the lease, which is not the standby (replicas %v)", next, names)
	}
	t.Logf("the standby %s took the lease %.1fs after leader %s was deleted", next, time.Since(deleted).Seconds(), leader)

	value := forceRefresh(t, namespace, "bob")

	var statusWrites []string
	lastStatus := statusJSON(t, synced)
	timeout := time.After(30 * time.Second)
	for done := false; !done; {
		select {
		case ev, ok := <-watcher.ResultChan():
			if !ok {
				t.Fatalf("the OrgUser watch ended early")
			}
			u, isUser := ev.Object.(*identityv1alpha1.OrgUser)
			if !isUser || u.Name != "bob" {
				continue
			}
			if s := statusJSON(t, u); s != lastStatus {
				statusWrites = append(statusWrites, fmt.Sprintf("%s lastHandledReconcileAt=%q", ev.Type, u.Status.LastHandledReconcileAt))
				lastStatus = s
			}
			if u.Status.LastHandledReconcileAt == value {
				done = true
			}
		case <-timeout:
			t.Fatalf("the new leader did not serve the forced refresh within 30s; status writes seen: %v\n%s", statusWrites, managerLogs(t))
		}
	}
	if len(statusWrites) != 1 {
		t.Errorf("across the failover the OrgUser's status was written %d times, want once (the forced refresh): %v", len(statusWrites), statusWrites)
	}
	waitSynced(t, namespace, "bob", bob, time.Minute)
}

// forceRefresh sets the reconcile-requested-at annotation and returns its value.
func forceRefresh(t *testing.T, namespace, name string) string {
	t.Helper()
	value := time.Now().UTC().Format(time.RFC3339Nano)
	kubectl(t, "-n", namespace, "annotate", "--overwrite", "orguser", name, identityv1alpha1.ReconcileRequestedAnnotation+"="+value)
	return value
}

// TestMetricsThroughService scrapes the manager through its metrics Service as Prometheus would:
// without a token it is refused with 401, a ServiceAccount without the README's metrics role with
// 403, and one bound to orgsync-metrics-reader gets the metrics.
func TestMetricsThroughService(t *testing.T) {
	useInstallYAML(t)
	ctx := ctxFor(t, 3*time.Minute)
	const namespace = "e2e-metrics"
	kubectl(t, "create", "namespace", namespace)
	t.Cleanup(func() { _, _ = tool(kubectlBin, nil, "delete", "namespace", namespace, "--wait=false") })
	kubectl(t, "-n", namespace, "create", "serviceaccount", "scraper")
	kubectl(t, "-n", namespace, "create", "serviceaccount", "stranger")
	kubectl(t, "create", "clusterrolebinding", "e2e-metrics-scraper", "--clusterrole=orgsync-metrics-reader",
		"--serviceaccount="+namespace+":scraper")
	t.Cleanup(func() { _, _ = tool(kubectlBin, nil, "delete", "clusterrolebinding", "e2e-metrics-scraper") })

	// Only the leader runs the controllers whose metrics are asserted below; with one replica the
	// Service reaches the leader.
	waitRollout(t, 1, 2*time.Minute)
	waitLeader(t, time.Minute, "the manager", func(string) bool { return true })

	svc := &corev1.Service{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: systemNamespace, Name: metricsService}, svc); err != nil {
		t.Fatalf("get the metrics Service: %v", err)
	}
	url := fmt.Sprintf("https://%s:%d/metrics", svc.Spec.ClusterIP, svc.Spec.Ports[0].Port)

	scrape(t, url, "", 401)
	scrape(t, url, token(t, ctx, namespace, "stranger"), 403)
	body := scrape(t, url, token(t, ctx, namespace, "scraper"), 200)
	for _, metric := range []string{"controller_runtime_reconcile_total", "rest_client_requests_total"} {
		if !strings.Contains(body, metric) {
			t.Errorf("the metrics lack %s", metric)
		}
	}
}

// TestGarbageCollectorCascade: deleting an OrgDirectory removes the OrgUsers it made, through their
// owner references and the controller-manager's garbage collector.
func TestGarbageCollectorCascade(t *testing.T) {
	useInstallYAML(t)
	allowPrivateAddresses(t)
	const namespace = "e2e-directory"
	ctx := ctxFor(t, 5*time.Minute)
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: secretName},
			StringData: map[string]string{"token": simToken}},
		&identityv1alpha1.OrgProvider{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "scim"},
			Spec: identityv1alpha1.OrgProviderSpec{ProviderConfig: identityv1alpha1.ProviderConfig{
				SCIM:     &identityv1alpha1.SCIMProvider{BaseURL: sim.SCIMBaseURL()},
				Auth:     identityv1alpha1.ProviderAuth{SecretRef: identityv1alpha1.SecretKeyReference{Name: secretName}},
				CABundle: sim.CABundle(),
			}}},
		&identityv1alpha1.OrgDirectory{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "scim"},
			Spec: identityv1alpha1.OrgDirectorySpec{
				ProviderRef: identityv1alpha1.ProviderReference{Kind: identityv1alpha1.OrgProviderKind, Name: "scim"},
			}},
	}
	for _, obj := range objs {
		if err := k8s.Create(ctx, obj); err != nil {
			t.Fatalf("create %T %s: %v", obj, obj.GetName(), err)
		}
	}
	t.Cleanup(func() { _, _ = tool(kubectlBin, nil, "delete", "namespace", namespace, "--wait=false") })

	want := len(upstreamsim.DemoUsersOf(upstreamsim.ProviderSCIM))
	listUsers := func(ctx context.Context) ([]identityv1alpha1.OrgUser, error) {
		users := &identityv1alpha1.OrgUserList{}
		err := k8s.List(ctx, users, client.InNamespace(namespace), client.MatchingLabels{identityv1alpha1.LabelDirectory: "scim"})
		return users.Items, err
	}
	var got int
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		users, err := listUsers(ctx)
		got = len(users)
		return err == nil && got == want, err
	})
	if err != nil {
		t.Fatalf("the OrgDirectory made %d OrgUsers within 2m, want %d: %v\n%s", got, want, err, managerLogs(t))
	}
	users, _ := listUsers(ctx)
	for _, u := range users {
		if len(u.OwnerReferences) != 1 || u.OwnerReferences[0].Kind != "OrgDirectory" {
			t.Fatalf("OrgUser %s should be owned by its OrgDirectory, has owner references %+v", u.Name, u.OwnerReferences)
		}
	}

	if err := k8s.Delete(ctx, objs[3]); err != nil {
		t.Fatalf("delete the OrgDirectory: %v", err)
	}
	err = wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		users, err := listUsers(ctx)
		got = len(users)
		return err == nil && got == 0, err
	})
	if err != nil {
		t.Fatalf("%d OrgUsers of the deleted OrgDirectory remain after 2m: the garbage collector did not cascade: %v", got, err)
	}
}

// containerProcess is the host PID of the pod's (only) container's main process, found through the
// kubelet's cgroups.
func containerProcess(t *testing.T, ctx context.Context, pod *corev1.Pod) int {
	t.Helper()
	p := &corev1.Pod{}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(pod), p); err != nil {
		t.Fatalf("get pod %s: %v", pod.Name, err)
	}
	if len(p.Status.ContainerStatuses) == 0 || p.Status.ContainerStatuses[0].ContainerID == "" {
		t.Fatalf("pod %s: %v", pod.Name, errNoContainer)
	}
	_, id, _ := strings.Cut(p.Status.ContainerStatuses[0].ContainerID, "://")
	matches, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup/pids/kubepods*", "*", "*", id, "cgroup.procs"))
	more, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup/pids/kubepods*", "*", id, "cgroup.procs"))
	matches = append(matches, more...)
	if len(matches) != 1 {
		t.Fatalf("found %d cgroups for container %s of pod %s, want 1", len(matches), id, pod.Name)
	}
	first := strings.Fields(readTrim(t, matches[0]))
	if len(first) == 0 {
		t.Fatalf("container %s has no process", id)
	}
	pid, err := strconv.Atoi(first[0])
	if err != nil {
		t.Fatalf("cgroup.procs of container %s: %v", id, err)
	}
	return pid
}

func procStatus(t *testing.T, pid int) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, line := range strings.Split(readTrim(t, fmt.Sprintf("/proc/%d/status", pid)), "\n") {
		k, v, _ := strings.Cut(line, ":")
		out[k] = strings.TrimSpace(v)
	}
	return out
}

func procEnviron(t *testing.T, pid int) map[string]string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		t.Fatalf("read the manager's environment: %v", err)
	}
	out := map[string]string{}
	for _, kv := range strings.Split(string(data), "\x00") {
		k, v, _ := strings.Cut(kv, "=")
		out[k] = v
	}
	return out
}

// rootMountOptions are the per-mount options of / as the process sees it.
func rootMountOptions(t *testing.T, pid int) string {
	t.Helper()
	for _, line := range strings.Split(readTrim(t, fmt.Sprintf("/proc/%d/mountinfo", pid)), "\n") {
		f := strings.Fields(line)
		if len(f) > 5 && f[4] == "/" {
			return f[5]
		}
	}
	t.Fatalf("the manager's mountinfo has no / mount")
	return ""
}

// containerCgroup is the process's cgroup path in the v1 hierarchy of controller.
func containerCgroup(t *testing.T, pid int, controller string) string {
	t.Helper()
	for _, line := range strings.Split(readTrim(t, fmt.Sprintf("/proc/%d/cgroup", pid)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) == 3 && contains(strings.Split(parts[1], ","), controller) {
			return parts[2]
		}
	}
	t.Fatalf("process %d is in no %s cgroup", pid, controller)
	return ""
}

func readTrim(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return strings.TrimSpace(string(data))
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
