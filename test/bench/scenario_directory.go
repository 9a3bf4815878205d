package main

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/controller/directory"
	"github.com/orgsync/orgsync/internal/upstreamsim"
)

// Names of scenario 11's objects; nothing else uses them, so it disturbs no other scenario.
const (
	directoryNamespace      = "bench-directory"       // the OrgDirectory, its provider and its OrgUsers
	directoryFloorNamespace = "bench-directory-floor" // the plain client's OrgUsers, never seen by a manager
	directoryProvider       = "directory-scim"
	directoryName           = "everyone"
	// A token of its own: the manager keeps answers by credential, so scenario 9's SCIM answers
	// cannot serve the directory's users.
	directoryToken       = "sk_bench_directory_0123456789"
	directoryTokenSecret = "directory-scim-token"
	// directoryFloorOwner is the UID of the ownerReference the floor's objects carry: the API server
	// keeps it as written (no garbage collector runs), so the floor stores what the directory's
	// OrgUsers hold without an OrgDirectory a manager could list.
	directoryFloorOwner = types.UID("00000000-0000-4000-a000-000000000011")

	directoryTimeFactor  = 1.5
	directoryCallsFactor = 1.1
	directoryRSSFactor   = 1.3
)

// directory is scenario 11: one OrgDirectory over an organization of cfg.users SCIM users. First
// the floor: with no manager running, a plain client creates as many OrgUsers shaped like the
// directory's (name, labels, controller ownerReference, spec) and writes each one's status and
// labels while one informer watches. Then a fresh manager starts, leads and takes in whatever
// OrgUsers exist, and the OrgDirectory is created, timed until the watch shows every one of its
// OrgUsers Ready with labels. Then the steady state over cfg.directoryListings listings: SCIM calls
// per listInterval, and OrgUser writes. Last, the manager's peak RSS next to the bare baseline's,
// started with every OrgUser present. It removes its directory, OrgUsers, provider and Secret.
func (b *bench) directory(ctx context.Context) error {
	cfg := b.cfg
	n := cfg.users
	b.step("Scenario 11: one OrgDirectory over %d SCIM users, pageSize %d, listInterval and refreshInterval %s; "+
		"first the floor: %d OrgUsers like the directory's, created, status and labels written by a plain client with an informer watching",
		n, cfg.directoryPageSize, cfg.directoryInterval, n)
	// A running manager would write the floor objects' status, and the peak RSS reported is the
	// peak of a manager that ran this scenario only.
	for _, p := range []*process{b.leader, b.standby} {
		if p != nil {
			p.stop()
		}
	}
	b.leader, b.standby = nil, nil
	restoreSCIM := b.trimSCIMOrganization(n)
	defer restoreSCIM()
	if err := b.createDirectoryWorld(ctx); err != nil {
		return err
	}

	floor, floorCPU, err := b.informedFloor(ctx, "informer-directory", directoryFloorNamespace, n, directoryFloorObject)
	if err != nil {
		return err
	}
	b.progress("floor: %d objects created, status and labels written, seen by the watch, in %s", n, seconds(floor))

	manager, err := b.startIdleLeader(ctx)
	if err != nil {
		return err
	}
	if err := b.directoryFirstSync(ctx, floor, floorCPU); err != nil {
		return err
	}
	if err := b.directorySteadyState(ctx); err != nil {
		return err
	}
	if err := b.directoryMemory(ctx, manager); err != nil {
		return err
	}
	return b.removeDirectoryWorld(ctx)
}

// directoryScenario is scenario 11's name in the table.
const directoryScenario = "11 directory"

// directoryFirstSync creates the OrgDirectory and times it until the watch shows every one of its
// OrgUsers Ready with labels, against the floor.
func (b *bench) directoryFirstSync(ctx context.Context, floor time.Duration, floorCPU string) error {
	cfg := b.cfg
	const name = directoryScenario
	n := cfg.users
	pages := (n + cfg.directoryPageSize - 1) / cfg.directoryPageSize
	before, err := b.snapshot(ctx)
	if err != nil {
		return err
	}
	scimBefore, listBefore := b.e.sim.ProviderRequests(upstreamsim.ProviderSCIM), b.e.sim.SCIMListRequests()
	start := time.Now()
	if err := b.e.k8s.Create(ctx, b.orgDirectory()); err != nil {
		return fmt.Errorf("create OrgDirectory: %w", err)
	}
	ok, pop, err := b.users.waitFor(ctx, inNamespace(directoryNamespace), max(5*floor, 5*time.Minute), allReadyLabeled(n), b.leader)
	if err != nil {
		return err
	}
	took := time.Since(start)
	after, err := b.snapshot(ctx)
	if err != nil {
		return err
	}
	b.firstListingEnd.at = time.Now()
	b.firstListingEnd.scim, b.firstListingEnd.list = b.e.sim.ProviderRequests(upstreamsim.ProviderSCIM), b.e.sim.SCIMListRequests()
	scimFirst, listFirst := b.firstListingEnd.scim-scimBefore, b.firstListingEnd.list-listBefore
	b.progress("directory: %d of %d OrgUsers Ready with labels after %s, %d SCIM requests", pop.readyLabeled, n, seconds(took), scimFirst)

	target := time.Duration(directoryTimeFactor * float64(floor))
	measured := fmt.Sprintf("%s vs floor %s (%s ×)", seconds(took), seconds(floor), ratio(took.Seconds(), floor.Seconds()))
	if !ok {
		measured += fmt.Sprintf("; only %d of %d Ready with labels (%d Ready, %d OrgUsers)", pop.readyLabeled, n, pop.ready, pop.total)
	}
	b.table.add(name, fmt.Sprintf("all %d OrgUsers created and Ready with labels ≤ %.1f × floor with an informer (%s) = %s",
		n, directoryTimeFactor, seconds(floor), seconds(target)), ok && took <= target, "%s", measured)
	b.table.note(name, "CPU used by the floor (info)", "%s", floorCPU)
	b.noteTraffic(name, before, after, n)
	b.table.note(name, "SCIM requests in the first sync (info)",
		"%d: %d listing pages (%d for %d users at %d a page), %d others (/ServiceProviderConfig, per-user reads)",
		scimFirst, listFirst, pages, n, cfg.directoryPageSize, scimFirst-listFirst)
	d, err := b.getDirectory(ctx)
	if err != nil {
		return err
	}
	b.table.note(name, "OrgDirectory status after the first sync (info)", "%s", describeDirectory(d))
	return nil
}

// directorySteadyState measures from the end of a listing to the end of the
// cfg.directoryListings-th next one, so the window holds exactly that many listings, whatever their
// spacing: SCIM calls per listInterval, and OrgUser writes.
func (b *bench) directorySteadyState(ctx context.Context) error {
	cfg := b.cfg
	const name = directoryScenario
	n := cfg.users
	if err := b.hold(ctx, cfg.steadySettle); err != nil {
		return err
	}
	// Read after the settling time: a listing that ended during it must not start the window late.
	d, err := b.getDirectory(ctx)
	if err != nil {
		return err
	}
	listingTimeout := 2*cfg.directoryInterval + time.Minute
	last, listedOK, err := b.waitNextListing(ctx, d.Status.LastListedAt, listingTimeout)
	if err != nil {
		return err
	}
	before, err := b.snapshot(ctx)
	if err != nil {
		return err
	}
	scimBefore, listBefore := b.e.sim.ProviderRequests(upstreamsim.ProviderSCIM), b.e.sim.SCIMListRequests()
	between, listedBetween := scimBefore-b.firstListingEnd.scim, listBefore-b.firstListingEnd.list
	b.table.note(name, "SCIM requests from the end of the first sync to the steady window (info)",
		"%d in %s: %d listing pages, %d others (per-user reads)", between, seconds(time.Since(b.firstListingEnd.at)),
		listedBetween, between-listedBetween)
	modifiedBefore := b.users.modifiedEventsIn(directoryNamespace)
	dirWritesBefore, err := b.directoryStatusWrites(ctx)
	if err != nil {
		return err
	}
	listings := 0
	for listedOK && listings < cfg.directoryListings {
		if last, listedOK, err = b.waitNextListing(ctx, last, listingTimeout); err != nil {
			return err
		}
		if listedOK {
			listings++
		}
	}
	after, err := b.snapshot(ctx)
	if err != nil {
		return err
	}
	scimSteady, listSteady := b.e.sim.ProviderRequests(upstreamsim.ProviderSCIM)-scimBefore, b.e.sim.SCIMListRequests()-listBefore
	modifiedHere := b.users.modifiedEventsIn(directoryNamespace) - modifiedBefore
	dirWritesAfter, err := b.directoryStatusWrites(ctx)
	if err != nil {
		return err
	}

	window := after.at.Sub(before.at)
	perInterval := float64(scimSteady) / (window.Seconds() / cfg.directoryInterval.Seconds())
	bound := directoryCallsFactor * float64(n) / float64(cfg.directoryPageSize)
	measured := fmt.Sprintf("%.1f (%d SCIM calls in %s: %d listing pages, %d others; %s)",
		perInterval, scimSteady, seconds(window), listSteady, scimSteady-listSteady, plural(listings, "listing"))
	if listings < cfg.directoryListings {
		measured += fmt.Sprintf("; only %d of %d listings completed, none for %s", listings, cfg.directoryListings, listingTimeout)
	}
	b.table.add(name, fmt.Sprintf("steady state over %s: SCIM calls per listInterval ≤ %.1f × %d users / %d a page = %.0f",
		plural(cfg.directoryListings, "listing"), directoryCallsFactor, n, cfg.directoryPageSize, bound),
		listings == cfg.directoryListings && perInterval <= bound, "%s", measured)
	b.table.note(name, "SCIM calls per listInterval with per-user reads (info)", "%d (one per user); measured %s × fewer",
		n, ratio(float64(n), perInterval))
	modified := after.modified - before.modified
	api := after.api.minus(before.api)
	b.table.add(name, "steady state: zero OrgUser writes", listings > 0 && modifiedHere == 0 && modified == 0 &&
		api.statusWrites == 0 && api.objectWrites == 0,
		"%d MODIFIED watch events (%d in %s), %.0f status and %.0f object PATCH/UPDATE/APPLY (the API server's counters, every namespace)",
		modified, modifiedHere, directoryNamespace, api.statusWrites, api.objectWrites)
	b.table.note(name, "steady state: OrgDirectory status writes and Events (info)", "%.0f status writes for %s; %d Events",
		dirWritesAfter-dirWritesBefore, plural(listings, "listing"), after.events-before.events)
	return nil
}

// directoryMemory compares the manager's peak RSS with the bare baseline's, started with every
// OrgUser present.
func (b *bench) directoryMemory(ctx context.Context, manager *process) error {
	const name = directoryScenario
	others := b.users.count(func(key types.NamespacedName) bool { return key.Namespace != directoryNamespace }).total
	basePeak, err := b.baselinePeak(ctx, "baseline-directory")
	if err != nil {
		return err
	}
	peak, err := manager.peakMemory()
	if err != nil {
		return err
	}
	if path, err := manager.saveHeapProfile(ctx, b.cfg.workDir, "directory"); err == nil && path != "" {
		b.progress("heap profile of %s: %s", manager.name, path)
	}
	b.table.add(name, fmt.Sprintf("peak RSS of the manager ≤ %.1f × bare baseline with the same OrgUsers", directoryRSSFactor),
		float64(peak) <= directoryRSSFactor*float64(basePeak), "%s %.0f MiB vs baseline %.0f MiB (%s ×), %d directory and %d other OrgUsers",
		manager.name, float64(peak)/mib, float64(basePeak)/mib, ratio(float64(peak), float64(basePeak)), b.cfg.users, others)
	return nil
}

// orgDirectory is the scenario's OrgDirectory.
func (b *bench) orgDirectory() *identityv1alpha1.OrgDirectory {
	return &identityv1alpha1.OrgDirectory{
		ObjectMeta: metav1.ObjectMeta{Namespace: directoryNamespace, Name: directoryName},
		Spec: identityv1alpha1.OrgDirectorySpec{
			ProviderRef:  identityv1alpha1.ProviderReference{Kind: identityv1alpha1.OrgProviderKind, Name: directoryProvider},
			ListInterval: &metav1.Duration{Duration: b.cfg.directoryInterval},
			PageSize:     int32(b.cfg.directoryPageSize), //nolint:gosec // a small constant
		},
	}
}

// directoryFloorObject is the i-th user of the organization as the directory and the manager leave
// it: named, labelled, owned and specified as the directory makes it, with the status and labels of
// an active SCIM user.
func directoryFloorObject(i int) floorObject {
	key := upstreamsim.BulkSCIMKey(i)
	// SeedBulk's creation and modification time of every SCIM user.
	seeded := metav1.NewTime(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	now := metav1.NewTime(time.Now().UTC().Truncate(time.Second))
	return floorObject{
		user: &identityv1alpha1.OrgUser{
			ObjectMeta: metav1.ObjectMeta{
				Namespace: directoryFloorNamespace,
				Name:      directory.OrgUserName(key),
				Labels:    map[string]string{identityv1alpha1.LabelDirectory: directoryName},
				OwnerReferences: []metav1.OwnerReference{{
					APIVersion: identityv1alpha1.GroupVersion.String(), Kind: identityv1alpha1.OrgDirectoryKind,
					Name: directoryName, UID: directoryFloorOwner, Controller: new(true), BlockOwnerDeletion: new(true),
				}},
			},
			Spec: identityv1alpha1.OrgUserSpec{
				ProviderRef: identityv1alpha1.ProviderReference{Kind: identityv1alpha1.OrgProviderKind, Name: directoryProvider},
				Key:         key,
			},
		},
		status: identityv1alpha1.OrgUserStatus{
			Provider:     upstreamsim.ProviderSCIM,
			UserID:       upstreamsim.BulkSCIMID(i),
			Email:        key,
			DisplayName:  fmt.Sprintf("Bench User %d", i),
			Role:         scimFloorRole,
			ProviderRole: "user",
			State:        "Active",
			CreatedAt:    &seeded,
			UpdatedAt:    &seeded,
			Conditions:   syncedConditions(now, "User is mirrored from scim", "User is mirrored from scim"),
		},
	}
}

// scimFloorRole is the role the manager writes for every bulk SCIM user (roles ["user"]).
const scimFloorRole = "Unknown"

// trimSCIMOrganization leaves exactly the first n bulk SCIM users in the simulator, the organization
// the directory lists (SeedBulk seeds cfg.bulkUsers(), which scenario 9 may need more of), and
// returns what puts the others back.
func (b *bench) trimSCIMOrganization(n int) func() {
	seeded := b.cfg.bulkUsers()
	for i := n; i < seeded; i++ {
		b.e.sim.DeleteUser(upstreamsim.ProviderSCIM, upstreamsim.BulkSCIMID(i))
	}
	return func() {
		if seeded > n {
			b.e.sim.SeedBulk(seeded) // the same users again, unchanged
		}
	}
}

// createDirectoryWorld creates scenario 11's namespaces, its token Secret and its SCIM OrgProvider:
// keyAttribute userName, rateLimit 1000/1000, refreshInterval cfg.directoryInterval.
func (b *bench) createDirectoryWorld(ctx context.Context) error {
	b.e.sim.AllowToken(directoryToken)
	config := identityv1alpha1.ProviderConfig{
		Auth:            identityv1alpha1.ProviderAuth{SecretRef: identityv1alpha1.SecretKeyReference{Name: directoryTokenSecret}},
		CABundle:        b.e.sim.CABundle(),
		RefreshInterval: &metav1.Duration{Duration: b.cfg.directoryInterval},
		RateLimit:       &identityv1alpha1.RateLimit{RequestsPerSecond: scimRateLimit, Burst: scimRateLimit},
		SCIM:            &identityv1alpha1.SCIMProvider{BaseURL: b.e.sim.SCIMBaseURL(), KeyAttribute: scimKeyAttribute},
	}
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: directoryNamespace}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: directoryFloorNamespace}},
		tokenSecret(directoryNamespace, directoryTokenSecret, directoryToken),
		&identityv1alpha1.OrgProvider{
			ObjectMeta: metav1.ObjectMeta{Namespace: directoryNamespace, Name: directoryProvider},
			Spec:       identityv1alpha1.OrgProviderSpec{ProviderConfig: config},
		},
	}
	return b.e.createAll(ctx, objs...)
}

// removeDirectoryWorld deletes the OrgDirectory first (else it would create its OrgUsers again at
// the next listing), then its OrgUsers (no garbage collector runs to cascade), its provider and its
// Secret.
func (b *bench) removeDirectoryWorld(ctx context.Context) error {
	d := &identityv1alpha1.OrgDirectory{ObjectMeta: metav1.ObjectMeta{Namespace: directoryNamespace, Name: directoryName}}
	if err := client.IgnoreNotFound(b.e.k8s.Delete(ctx, d)); err != nil {
		return fmt.Errorf("delete OrgDirectory: %w", err)
	}
	if err := b.deleteUsersIn(ctx, directoryNamespace); err != nil {
		return err
	}
	objs := []client.Object{
		&identityv1alpha1.OrgProvider{ObjectMeta: metav1.ObjectMeta{Namespace: directoryNamespace, Name: directoryProvider}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: directoryNamespace, Name: directoryTokenSecret}},
	}
	return b.e.deleteAll(ctx, objs...)
}

func (b *bench) getDirectory(ctx context.Context) (*identityv1alpha1.OrgDirectory, error) {
	d := &identityv1alpha1.OrgDirectory{}
	if err := b.e.k8s.Get(ctx, client.ObjectKey{Namespace: directoryNamespace, Name: directoryName}, d); err != nil {
		return nil, fmt.Errorf("get OrgDirectory: %w", err)
	}
	return d, nil
}

// waitNextListing polls the OrgDirectory until its lastListedAt differs from since (a listing
// completed; its status is written after its last page), and returns the new one; ok is false
// when none came within timeout.
func (b *bench) waitNextListing(ctx context.Context, since *metav1.Time, timeout time.Duration) (*metav1.Time, bool, error) {
	deadline := time.Now().Add(timeout)
	for {
		d, err := b.getDirectory(ctx)
		if err != nil {
			return since, false, err
		}
		if at := d.Status.LastListedAt; at != nil && (since == nil || !at.Equal(since)) {
			return at, true, nil
		}
		if err := b.live(b.leader); err != nil {
			return since, false, err
		}
		if time.Now().After(deadline) {
			return since, false, nil
		}
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return since, false, err
		}
	}
}

// describeDirectory renders the OrgDirectory's status for the table.
func describeDirectory(d *identityv1alpha1.OrgDirectory) string {
	ready := "no Ready condition"
	if c := meta.FindStatusCondition(d.Status.Conditions, identityv1alpha1.ConditionReady); c != nil {
		ready = fmt.Sprintf("Ready %s %s (%q)", c.Status, c.Reason, c.Message)
	}
	return fmt.Sprintf("%s; listedUsers %d, users %d, conflicts %d", ready, d.Status.ListedUsers, d.Status.Users, d.Status.Conflicts)
}

// directoryStatusWrites counts the OrgDirectory status writes the API server served.
func (b *bench) directoryStatusWrites(ctx context.Context) (float64, error) {
	m, err := b.e.apiServerMetrics(ctx)
	if err != nil {
		return 0, err
	}
	return m.sum("apiserver_request_total", map[string][]string{
		"resource": {"orgdirectories"}, "subresource": {"status"}, "verb": {"PATCH", "UPDATE", "APPLY"}}), nil
}

// plural is "1 listing", "2 listings".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
