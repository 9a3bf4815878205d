package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/upstreamsim"
)

// Names of what scenario 10 creates; nothing else uses them, so it disturbs no other scenario.
const (
	dayOneNamespace      = "bench-dayone"       // the OrgUsers the manager syncs, and their providers
	dayOneFloorNamespace = "bench-dayone-floor" // the plain client's OrgUsers, never seen by a manager
	dayOneMixpeek        = "dayone-mixpeek"
	dayOneFlashback      = "dayone-flashback"
	// Tokens of their own: the manager keeps answers by credential, so the main population's answers
	// cannot serve the day-one users.
	dayOneMixpeekToken   = "sk_bench_dayone_mixpeek_0123456789"
	dayOneFlashbackToken = "sk_bench_dayone_flashback_0123456789"
)

// dayOne is scenario 10: the path users take on day one. As many OrgUsers as the main population are
// applied at once, as a GitOps sync does (creates from several goroutines), while the manager runs
// and leads, until every one is Ready with its role and state labels. The floor is a plain client
// making the same writes (create, status patch, label patch) for as many objects while one informer
// watches the OrgUsers, as any controller must. It runs after scenario 1, while no manager runs and
// the main population is synced at a 1 h interval, and removes its objects and stops its manager
// before scenario 2, so no later count or memory figure includes them.
func (b *bench) dayOne(ctx context.Context) error {
	cfg := b.cfg
	const name = "10 day one"
	n := cfg.users
	b.step("Scenario 10: day one, %d OrgUsers created by %d writers while the manager leads; first the floor: "+
		"a plain client's create, status patch and label patch per object, with an informer watching", n, writers)
	if b.leader != nil || b.standby != nil {
		return fmt.Errorf("scenario 10 expects no manager to run before it")
	}
	if err := b.createDayOneBase(ctx); err != nil {
		return err
	}

	floor, floorCPU, err := b.dayOneFloor(ctx, n)
	if err != nil {
		return err
	}
	b.progress("floor: %d objects created, status and labels written, seen by the watch, in %s", n, seconds(floor))

	// The manager runs before day one: it has taken in the main population when the users arrive.
	manager, err := b.startIdleLeader(ctx)
	if err != nil {
		return err
	}
	before, err := b.snapshot(ctx)
	if err != nil {
		return err
	}
	deferralsBefore := deferralsByCause(ctx, manager)
	start := time.Now()
	half := n / 2
	err = parallel(ctx, n, func(ctx context.Context, i int) error {
		provider, key := dayOneMixpeek, upstreamsim.BulkMixpeekKey(i)
		if i >= half {
			provider, key = dayOneFlashback, upstreamsim.BulkFlashbackKey(i-half)
		}
		return b.e.createUser(ctx, dayOneNamespace, dayOneUserName(i), identityv1alpha1.OrgProviderKind, provider, key)
	})
	if err != nil {
		return err
	}
	created := time.Since(start)
	ok, pop, err := b.users.waitFor(ctx, inNamespace(dayOneNamespace), max(5*floor, 5*time.Minute), allReadyLabeled(n), manager)
	if err != nil {
		return err
	}
	took := time.Since(start)
	after, err := b.snapshot(ctx)
	if err != nil {
		return err
	}
	b.progress("day one: %d created in %s, all Ready with labels after %s", n, seconds(created), seconds(took))
	// Its peak includes the day-one users, so it stays out of scenario 8's figures.
	peak, peakErr := manager.peakMemory()
	deferralsAfter := deferralsByCause(ctx, manager)
	if path, err := manager.saveHeapProfile(ctx, cfg.workDir, "dayone"); err == nil && path != "" {
		b.progress("heap profile of %s: %s", manager.name, path)
	}

	target := time.Duration(1.5 * float64(floor))
	measured := fmt.Sprintf("%s (%.2f × floor); creates took %s", seconds(took), took.Seconds()/floor.Seconds(), seconds(created))
	if !ok {
		measured += fmt.Sprintf("; only %d of %d Ready with labels (%d Ready)", pop.readyLabeled, n, pop.ready)
	}
	b.table.add(name, fmt.Sprintf("all %d Ready with labels ≤ 1.5 × floor with an informer (%s) = %s", n, seconds(floor), seconds(target)),
		ok && took <= target, "%s", measured)
	b.table.note(name, "CPU used by the floor (info)", "%s", floorCPU)
	b.noteTraffic(name, before, after, n)
	b.table.note(name, "lookups deferred, by cause (info)", "%s", deferralDelta(deferralsBefore, deferralsAfter))
	if peakErr == nil {
		b.table.note(name, "peak RSS of its manager (info)", "%s %.0f MiB, with %d main and %d day-one OrgUsers; not in scenario 8",
			manager.name, float64(peak)/mib, cfg.users, n)
	}

	// Leave the cluster as scenario 2 expects it: no day-one users, providers or Secrets (scenario 3
	// counts the Secret reads of the main providers only), no manager.
	if err := b.deleteUsersIn(ctx, dayOneNamespace); err != nil {
		return err
	}
	if err := b.deleteDayOneProviders(ctx); err != nil {
		return err
	}
	manager.stop()
	b.leader = nil
	return nil
}

// floorRole is the role the manager writes for every bulk Mixpeek user.
const floorRole = "Member"

func dayOneUserName(i int) string { return fmt.Sprintf("day-%05d", i) }

func inNamespace(namespace string) userFilter {
	return func(key types.NamespacedName) bool { return key.Namespace == namespace }
}

func allReadyLabeled(n int) func(population) bool {
	return func(p population) bool { return p.total == n && p.readyLabeled == n }
}

// createDayOneBase creates scenario 10's namespaces, token Secrets and two OrgProviders, unlimited
// (rateLimit 1000/1000) at the default refreshInterval of 1 h.
func (b *bench) createDayOneBase(ctx context.Context) error {
	b.e.sim.AllowToken(dayOneMixpeekToken)
	b.e.sim.AllowToken(dayOneFlashbackToken)
	objs := make([]client.Object, 0, 6)
	objs = append(objs,
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: dayOneNamespace}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: dayOneFloorNamespace}},
		tokenSecret(dayOneNamespace, "dayone-mixpeek-token", dayOneMixpeekToken),
		tokenSecret(dayOneNamespace, "dayone-flashback-token", dayOneFlashbackToken),
	)
	for _, p := range []struct{ name, api string }{{dayOneMixpeek, mixpeekProvider}, {dayOneFlashback, flashbackProvider}} {
		objs = append(objs, &identityv1alpha1.OrgProvider{
			ObjectMeta: metav1.ObjectMeta{Namespace: dayOneNamespace, Name: p.name},
			Spec:       identityv1alpha1.OrgProviderSpec{ProviderConfig: b.e.providerConfig(p.api, p.name+"-token", "", 1000, 1000, time.Hour)},
		})
	}
	return b.e.createAll(ctx, objs...)
}

// deleteDayOneProviders removes the OrgProviders and Secrets createDayOneBase made.
func (b *bench) deleteDayOneProviders(ctx context.Context) error {
	objs := []client.Object{
		&identityv1alpha1.OrgProvider{ObjectMeta: metav1.ObjectMeta{Namespace: dayOneNamespace, Name: dayOneMixpeek}},
		&identityv1alpha1.OrgProvider{ObjectMeta: metav1.ObjectMeta{Namespace: dayOneNamespace, Name: dayOneFlashback}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: dayOneNamespace, Name: "dayone-mixpeek-token"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: dayOneNamespace, Name: "dayone-flashback-token"}},
	}
	return b.e.deleteAll(ctx, objs...)
}

// dayOneFloor makes the day-one writes with a plain client while an informer watches: objects
// shaped like the day-one OrgUsers, on a Mixpeek provider, in their own namespace.
func (b *bench) dayOneFloor(ctx context.Context, n int) (time.Duration, string, error) {
	return b.informedFloor(ctx, "informer-dayone", dayOneFloorNamespace, n, dayOneFloorObject)
}

// floorObject is what the floor writes for one new user: the object it creates, then the status
// and the role and state labels the manager would write for it. The status's observedGeneration
// fields are set from the created object.
type floorObject struct {
	user   *identityv1alpha1.OrgUser
	status identityv1alpha1.OrgUserStatus
}

// informedFloor makes, with a plain client, the writes a controller makes for n new users while an
// informer (the baseline manager, a process of its own like the manager) watches every OrgUser: per
// object a create, a status merge patch shaped like the manager's (two conditions, the mirrored
// fields) and a label merge patch, on the same writers. It is timed until the bench's watch shows
// every object of the namespace Ready with its labels, and removes its objects afterwards.
func (b *bench) informedFloor(ctx context.Context, informerName, namespace string, n int,
	object func(i int) floorObject) (time.Duration, string, error) {
	informer, err := b.startInformer(ctx, informerName)
	if err != nil {
		return 0, "", err
	}
	defer informer.stop()
	cpuBefore := cpuTimes()
	start := time.Now()
	if err := parallel(ctx, n, func(ctx context.Context, i int) error { return b.writeFloorObject(ctx, object(i)) }); err != nil {
		return 0, "", err
	}
	ok, pop, err := b.users.waitFor(ctx, inNamespace(namespace), time.Minute, allReadyLabeled(n), informer)
	if err != nil {
		return 0, "", err
	}
	if !ok {
		return 0, "", fmt.Errorf("the watch shows %d of %d floor objects Ready with labels a minute after they were written", pop.readyLabeled, n)
	}
	took := time.Since(start)
	cpu := cpuDelta(cpuBefore, cpuTimes())
	informer.stop()
	return took, cpu, b.deleteUsersIn(ctx, namespace)
}

// dayOneFloorObject is a day-one user as the manager leaves it: a bulk Mixpeek member.
func dayOneFloorObject(i int) floorObject {
	now := metav1.NewTime(time.Now().UTC().Truncate(time.Second))
	key := upstreamsim.BulkMixpeekKey(i)
	return floorObject{
		user: &identityv1alpha1.OrgUser{
			ObjectMeta: metav1.ObjectMeta{Namespace: dayOneFloorNamespace, Name: dayOneUserName(i)},
			Spec: identityv1alpha1.OrgUserSpec{
				ProviderRef: identityv1alpha1.ProviderReference{Kind: identityv1alpha1.OrgProviderKind, Name: dayOneMixpeek},
				Key:         key,
			},
		},
		status: identityv1alpha1.OrgUserStatus{
			Provider:     "mixpeek",
			UserID:       fmt.Sprintf("usr_bench%010d", i),
			Email:        key,
			DisplayName:  fmt.Sprintf("Bench User %d", i),
			Role:         floorRole,
			ProviderRole: "member",
			State:        "Active",
			CreatedAt:    &now,
			UpdatedAt:    &now,
			Conditions:   syncedConditions(now, "User is active in Mixpeek", "Read from Mixpeek"),
		},
	}
}

// syncedConditions are Ready and Synced True, reason Synced, as the manager writes them after a
// successful read.
func syncedConditions(now metav1.Time, readyMessage, syncedMessage string) []metav1.Condition {
	return []metav1.Condition{
		{Type: identityv1alpha1.ConditionReady, Status: metav1.ConditionTrue,
			LastTransitionTime: now, Reason: identityv1alpha1.ReasonSynced, Message: readyMessage},
		{Type: identityv1alpha1.ConditionSynced, Status: metav1.ConditionTrue,
			LastTransitionTime: now, Reason: identityv1alpha1.ReasonSynced, Message: syncedMessage},
	}
}

// writeFloorObject writes what the manager writes for one new user: the object (created by the
// bench), a status and the role and state labels.
func (b *bench) writeFloorObject(ctx context.Context, o floorObject) error {
	u := o.user
	if err := b.e.k8s.Create(ctx, u); err != nil {
		return fmt.Errorf("create OrgUser %s/%s: %w", u.Namespace, u.Name, err)
	}
	status := o.status
	status.ObservedGeneration = u.Generation
	status.Conditions = append([]metav1.Condition(nil), status.Conditions...)
	for i := range status.Conditions {
		status.Conditions[i].ObservedGeneration = u.Generation
	}
	statusPatch, err := json.Marshal(map[string]any{"status": status})
	if err != nil {
		return err
	}
	if err := b.e.k8s.Status().Patch(ctx, u, client.RawPatch(types.MergePatchType, statusPatch)); err != nil {
		return fmt.Errorf("patch status of OrgUser %s: %w", u.Name, err)
	}
	labelPatch, err := json.Marshal(map[string]any{"metadata": map[string]any{"labels": map[string]string{
		identityv1alpha1.LabelRole: status.Role, identityv1alpha1.LabelState: status.State}}})
	if err != nil {
		return err
	}
	if err := b.e.k8s.Patch(ctx, u, client.RawPatch(types.MergePatchType, labelPatch)); err != nil {
		return fmt.Errorf("patch labels of OrgUser %s: %w", u.Name, err)
	}
	return nil
}

// startInformer starts the baseline manager, which does nothing but cache every OrgUser, and waits
// until its cache has synced: the one informer any controller of OrgUsers must run.
func (b *bench) startInformer(ctx context.Context, name string) (*process, error) {
	p, err := startProcess(b.cfg, name, b.bins.baseline, "--kubeconfig="+b.e.kubeconfig)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(3 * time.Minute)
	for !strings.Contains(readFile(p.log.Name()), baselineSynced) {
		err := p.alive()
		if err == nil && time.Now().After(deadline) {
			err = fmt.Errorf("%s did not sync its cache within 3 minutes; see %s", name, p.log.Name())
		}
		if err == nil {
			err = sleep(ctx, 250*time.Millisecond)
		}
		if err != nil {
			p.stop()
			return nil, err
		}
	}
	return p, nil
}

// deleteUsersIn deletes every OrgUser of the namespace and waits until the bench's watch has seen
// them go.
func (b *bench) deleteUsersIn(ctx context.Context, namespace string) error {
	if err := b.e.k8s.DeleteAllOf(ctx, &identityv1alpha1.OrgUser{}, client.InNamespace(namespace)); err != nil {
		return fmt.Errorf("delete OrgUsers of %s: %w", namespace, err)
	}
	gone, pop, err := b.users.waitFor(ctx, inNamespace(namespace), 3*time.Minute, func(p population) bool { return p.total == 0 })
	if err != nil {
		return err
	}
	if !gone {
		return fmt.Errorf("%d OrgUsers of %s still seen 3 minutes after deleting them", pop.total, namespace)
	}
	return nil
}

// waitIdle waits until the manager's work queues are empty (workqueue_depth 0: nothing ready to
// reconcile; scheduled refreshes wait elsewhere), checked twice a second apart.
// startIdleLeader starts a manager as b.leader and returns once it leads and its work queue is empty.
func (b *bench) startIdleLeader(ctx context.Context) (*process, error) {
	manager, err := b.startManager()
	if err != nil {
		return nil, err
	}
	b.leader = manager
	if _, err := waitLeader(ctx, manager, 2*time.Minute); err != nil {
		return nil, err
	}
	if err := waitIdle(ctx, manager, 2*time.Minute); err != nil {
		return nil, err
	}
	return manager, nil
}

func waitIdle(ctx context.Context, p *process, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	idle := 0
	for idle < 2 {
		if err := p.alive(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return nil // a busy queue is a measurement condition, not a harness failure
		}
		idle++
		if text, err := p.scrape(ctx); err != nil || !text.has("workqueue_depth") || text.sum("workqueue_depth", nil) > 0 {
			idle = 0
		}
		if err := sleep(ctx, time.Second); err != nil {
			return err
		}
	}
	return nil
}

// deferralCauses are the causes of orgsync_ratelimit_deferrals_total.
var deferralCauses = []string{"client", "paused", "concurrency", "inflight"}

// deferralsByCause reads the manager's orgsync_ratelimit_deferrals_total per cause; nil when unreadable.
func deferralsByCause(ctx context.Context, p *process) map[string]float64 {
	text, err := p.scrape(ctx)
	if err != nil {
		return nil
	}
	counts := map[string]float64{}
	for _, cause := range deferralCauses {
		counts[cause] = text.sum("orgsync_ratelimit_deferrals_total", map[string][]string{"cause": {cause}})
	}
	return counts
}

func deferralDelta(before, after map[string]float64) string {
	if before == nil || after == nil {
		return "not readable from the manager's metrics"
	}
	parts := make([]string, 0, len(deferralCauses))
	for _, cause := range deferralCauses {
		parts = append(parts, fmt.Sprintf("%s %.0f", cause, after[cause]-before[cause]))
	}
	return strings.Join(parts, ", ")
}
