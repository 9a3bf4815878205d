package main

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/upstreamsim"
)

const sharedNamespacePrefix = "shared-"

func sharedKey(i int) string { return fmt.Sprintf("shared-%d@bench.example", i) }

// sharedKeys is scenario 4: many OrgUsers in many namespaces name few distinct keys through one
// ClusterOrgProvider; identical lookups should collapse.
func (b *bench) sharedKeys(ctx context.Context) error {
	cfg := b.cfg
	const name = "4 shared keys"
	perNamespace := cfg.sharedUsers / cfg.sharedNamespaces
	b.step("Scenario 4: %d OrgUsers in %d namespaces naming %d keys through one ClusterOrgProvider",
		perNamespace*cfg.sharedNamespaces, cfg.sharedNamespaces, cfg.sharedKeys)
	for i := range cfg.sharedKeys {
		b.e.sim.PutMixpeekUser(upstreamsim.MixpeekUser{
			UserID: fmt.Sprintf("usr_shared%05d", i), Email: sharedKey(i), UserName: fmt.Sprintf("Shared %d", i),
			Role: "member", Status: "active", InternalID: "int_bench", OrganizationID: "org_bench",
		})
	}
	cop := &identityv1alpha1.ClusterOrgProvider{
		ObjectMeta: metav1.ObjectMeta{Name: sharedProvider},
		Spec: identityv1alpha1.ClusterOrgProviderSpec{
			ProviderConfig: b.e.providerConfig(mixpeekProvider, "shared-token", systemNamespace, 1000, 1000, cfg.interval),
		},
	}
	if err := b.e.k8s.Create(ctx, cop); err != nil {
		return fmt.Errorf("create ClusterOrgProvider: %w", err)
	}
	for ns := range cfg.sharedNamespaces {
		namespace := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: sharedNamespace(ns)}}
		if err := b.e.k8s.Create(ctx, namespace); err != nil {
			return fmt.Errorf("create namespace %s: %w", namespace.Name, err)
		}
	}
	before, perKeyBefore := b.sharedCalls(), b.sharedCallsPerKey()
	collapsedBefore := b.collapsed(ctx)
	start := time.Now()
	err := parallel(ctx, perNamespace*cfg.sharedNamespaces, func(ctx context.Context, i int) error {
		return b.e.createUser(ctx, sharedNamespace(i/perNamespace), fmt.Sprintf("shared-%05d", i),
			identityv1alpha1.ClusterOrgProviderKind, sharedProvider, sharedKey(i%cfg.sharedKeys))
	})
	if err != nil {
		return err
	}
	ok, pop, err := b.users.waitFor(ctx, sharedUsers, max(3*time.Minute, 3*cfg.interval), func(p population) bool {
		return p.total == perNamespace*cfg.sharedNamespaces && p.ready == p.total
	}, b.leader)
	if err != nil {
		return err
	}
	firstRound := b.sharedCalls() - before
	took := time.Since(start)
	fewest, most := spread(perKeyBefore, b.sharedCallsPerKey())
	measured := fmt.Sprintf("%d calls in %s, %d to %d per key", firstRound, seconds(took), fewest, most)
	if !ok {
		measured += fmt.Sprintf("; only %d of %d Ready", pop.ready, perNamespace*cfg.sharedNamespaces)
	}
	// An answer serves the other users of its key for a quarter of the interval (api.md): a round
	// that lasts longer than that reads each key once per window it spans, as it must.
	window := cfg.interval / 4
	windows := int((took + window - 1) / window)
	b.table.add(name, fmt.Sprintf("first round (creation): ≤ %d upstream calls per sharing window (interval/4 = %s; the round spans %d)",
		cfg.sharedKeys, seconds(window), windows), ok && firstRound <= cfg.sharedKeys*windows, "%s", measured)

	// The next round comes one interval (±10 %) after each first read, all of which happened before
	// ready: the window from half an interval to one and a half intervals after ready holds exactly
	// that round, as long as the first round took less than 0.3 intervals.
	if err := b.hold(ctx, cfg.interval/2); err != nil {
		return err
	}
	before, perKeyBefore = b.sharedCalls(), b.sharedCallsPerKey()
	if err := b.hold(ctx, cfg.interval); err != nil {
		return err
	}
	nextRound := b.sharedCalls() - before
	fewest, most = spread(perKeyBefore, b.sharedCallsPerKey())
	b.table.add(name, fmt.Sprintf("next refresh round: ≤ %d upstream calls", cfg.sharedKeys), nextRound <= cfg.sharedKeys,
		"%d calls, %d to %d per key", nextRound, fewest, most)
	if collapsedAfter := b.collapsed(ctx); collapsedBefore >= 0 && collapsedAfter >= 0 {
		b.table.note(name, "orgsync_lookups_collapsed_total (info)", "%.0f", collapsedAfter-collapsedBefore)
	}

	// Leave the cluster as the other scenarios expect it.
	for ns := range cfg.sharedNamespaces {
		if err := b.e.k8s.DeleteAllOf(ctx, &identityv1alpha1.OrgUser{}, client.InNamespace(sharedNamespace(ns))); err != nil {
			return fmt.Errorf("delete OrgUsers of %s: %w", sharedNamespace(ns), err)
		}
	}
	return client.IgnoreNotFound(b.e.k8s.Delete(ctx, cop))
}

func sharedNamespace(i int) string { return fmt.Sprintf("%s%02d", sharedNamespacePrefix, i) }

func (b *bench) sharedCalls() int {
	total := 0
	for i := range b.cfg.sharedKeys {
		total += b.e.sim.Requests(upstreamsim.ProviderMixpeek, sharedKey(i))
	}
	return total
}

func (b *bench) sharedCallsPerKey() []int {
	counts := make([]int, b.cfg.sharedKeys)
	for i := range counts {
		counts[i] = b.e.sim.Requests(upstreamsim.ProviderMixpeek, sharedKey(i))
	}
	return counts
}

// spread is the fewest and most calls any one key got between two readings.
func spread(before, after []int) (fewest, most int) {
	for i := range after {
		calls := after[i] - before[i]
		if i == 0 || calls < fewest {
			fewest = calls
		}
		most = max(most, calls)
	}
	return fewest, most
}

// collapsed reads orgsync_lookups_collapsed_total from the leader; -1 when it does not export it.
func (b *bench) collapsed(ctx context.Context) float64 {
	text, err := b.leader.scrape(ctx)
	if err != nil || !text.has("orgsync_lookups_collapsed_total") {
		return -1
	}
	return text.sum("orgsync_lookups_collapsed_total", nil)
}
