package main

import (
	"context"
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

// Names of scenario 9's objects; its namespace keeps its users out of the main population.
const (
	scimNamespace          = "bench-scim"
	scimProvider           = "scim"
	scimMixpeekProvider    = "scim-mixpeek"
	scimToken              = "sk_bench_scim_0123456789"
	scimMixpeekToken       = "sk_bench_scim_mixpeek_0123456789"
	scimUserPrefix         = "sc-"
	scimMixpeekUserPrefix  = "mx-"
	scimKeyAttribute       = "userName"
	scimRateLimit          = 1000
	scimCompareTimeFactor  = 1.5
	scimCallsPerUserLow    = 0.9
	scimCallsPerUserHigh   = 1.1
	scimProviderSettleTime = 2 * time.Second
)

func scimUsersWithPrefix(prefix string) userFilter {
	return func(key types.NamespacedName) bool {
		return key.Namespace == scimNamespace && strings.HasPrefix(key.Name, prefix)
	}
}

// scimMixpeekKey is the key of scenario 9's i-th Mixpeek user: a bulk user after the main
// population's, so that no main OrgUser shares it.
func (b *bench) scimMixpeekKey(i int) string {
	return upstreamsim.BulkMixpeekKey(b.cfg.perProvider() + i)
}

// scim is scenario 9: scimUsers OrgUsers on a SCIM OrgProvider (keyAttribute userName) reach Ready,
// timed against as many OrgUsers on a fresh Mixpeek OrgProvider in the same run; both providers have
// rate limits that do not bind, both populations are timed alike (from the first creation until all
// are Ready, one after the other, Mixpeek first). Then one refresh round of SCIM calls is counted.
func (b *bench) scim(ctx context.Context) error {
	cfg := b.cfg
	const name = "9 scim"
	n := cfg.scimUsers
	b.step("Scenario 9: %d OrgUsers on a SCIM OrgProvider (keyAttribute %s) against %d on a fresh Mixpeek OrgProvider, "+
		"rateLimit %d/%d, refreshInterval %s", n, scimKeyAttribute, n, scimRateLimit, scimRateLimit, cfg.interval)
	if b.leader == nil {
		manager, err := b.startManager()
		if err != nil {
			return err
		}
		b.leader = manager
		if _, err := waitLeader(ctx, manager, 2*time.Minute); err != nil {
			return err
		}
	}
	if err := b.createSCIMWorld(ctx); err != nil {
		return err
	}
	if err := b.hold(ctx, scimProviderSettleTime); err != nil {
		return err
	}

	mixpeekBefore, cpuBefore := b.scimMixpeekCalls(), cpuTimes()
	mixpeekTook, mixpeekOK, mixpeekPop, err := b.timeFirstSync(ctx, scimMixpeekProvider, scimMixpeekUserPrefix, b.scimMixpeekKey)
	if err != nil {
		return err
	}
	mixpeekFirst, mixpeekCPU := b.scimMixpeekCalls()-mixpeekBefore, cpuDelta(cpuBefore, cpuTimes())
	b.progress("Mixpeek: %d of %d Ready in %s, %d Mixpeek requests", mixpeekPop.ready, n, seconds(mixpeekTook), mixpeekFirst)
	scimBefore, cpuBefore := b.e.sim.ProviderRequests(upstreamsim.ProviderSCIM), cpuTimes()
	scimTook, scimOK, scimPop, err := b.timeFirstSync(ctx, scimProvider, scimUserPrefix, upstreamsim.BulkSCIMKey)
	if err != nil {
		return err
	}
	scimFirst, scimCPU := b.e.sim.ProviderRequests(upstreamsim.ProviderSCIM)-scimBefore, cpuDelta(cpuBefore, cpuTimes())
	b.progress("SCIM: %d of %d Ready in %s, %d SCIM requests", scimPop.ready, n, seconds(scimTook), scimFirst)

	target := time.Duration(scimCompareTimeFactor * float64(mixpeekTook))
	measured := fmt.Sprintf("%s vs Mixpeek %s (%s ×)", seconds(scimTook), seconds(mixpeekTook),
		ratio(scimTook.Seconds(), mixpeekTook.Seconds()))
	if !scimOK {
		measured += fmt.Sprintf("; only %d of %d SCIM users Ready", scimPop.ready, n)
	}
	if !mixpeekOK {
		measured += fmt.Sprintf("; only %d of %d Mixpeek users Ready", mixpeekPop.ready, n)
	}
	b.table.add(name, fmt.Sprintf("all %d Ready ≤ %.1f × %d Mixpeek users' time (%s) = %s", n, scimCompareTimeFactor, n,
		seconds(mixpeekTook), seconds(target)), scimOK && mixpeekOK && scimTook <= target, "%s", measured)
	b.table.note(name, "upstream requests in the first sync (info)", "SCIM %d, Mixpeek %d, for %d users each", scimFirst, mixpeekFirst, n)
	b.table.note(name, "CPU used by the SCIM first sync (info)", "%s; the simulator runs in the bench", scimCPU)
	b.table.note(name, "CPU used by the Mixpeek first sync (info)", "%s", mixpeekCPU)

	// As in scenario 4: from half an interval to one and a half intervals after the SCIM users were
	// all Ready holds one refresh round of each of them (given ±10 % jitter and a first sync shorter
	// than 0.3 intervals; a longer one spreads the round, and the count over one interval stays about
	// one per user).
	if err := b.hold(ctx, cfg.interval/2); err != nil {
		return err
	}
	start := time.Now()
	scimBefore, mixpeekBefore = b.e.sim.ProviderRequests(upstreamsim.ProviderSCIM), b.scimMixpeekCalls()
	if err := b.hold(ctx, cfg.interval); err != nil {
		return err
	}
	scimRound := b.e.sim.ProviderRequests(upstreamsim.ProviderSCIM) - scimBefore
	mixpeekRound := b.scimMixpeekCalls() - mixpeekBefore
	perUser := float64(scimRound) / float64(n)
	b.table.add(name, fmt.Sprintf("one refresh round (%s): %.1f–%.1f SCIM calls per user", cfg.interval,
		scimCallsPerUserLow, scimCallsPerUserHigh),
		perUser >= scimCallsPerUserLow && perUser <= scimCallsPerUserHigh,
		"%.2f (%d calls in %s for %d users)", perUser, scimRound, seconds(time.Since(start)), n)
	b.table.note(name, "Mixpeek calls per user in the same window (info)", "%.2f (%d calls)", float64(mixpeekRound)/float64(n), mixpeekRound)
	b.table.note(name, "simulator latency (info)", "%s on every request, both providers", cfg.latency)

	// Leave the cluster as it was.
	if err := b.e.k8s.DeleteAllOf(ctx, &identityv1alpha1.OrgUser{}, client.InNamespace(scimNamespace)); err != nil {
		return fmt.Errorf("delete OrgUsers of %s: %w", scimNamespace, err)
	}
	return nil
}

// createSCIMWorld creates scenario 9's namespace, token Secrets and its two fresh OrgProviders.
func (b *bench) createSCIMWorld(ctx context.Context) error {
	cfg := b.cfg
	b.e.sim.AllowToken(scimToken)
	b.e.sim.AllowToken(scimMixpeekToken)
	limit := &identityv1alpha1.RateLimit{RequestsPerSecond: scimRateLimit, Burst: scimRateLimit}
	providerConfig := func(secretName string) identityv1alpha1.ProviderConfig {
		return identityv1alpha1.ProviderConfig{
			Auth:            identityv1alpha1.ProviderAuth{SecretRef: identityv1alpha1.SecretKeyReference{Name: secretName}},
			CABundle:        b.e.sim.CABundle(),
			RefreshInterval: &metav1.Duration{Duration: cfg.interval},
			RateLimit:       limit.DeepCopy(),
		}
	}
	scimConfig := providerConfig("scim-token")
	scimConfig.SCIM = &identityv1alpha1.SCIMProvider{BaseURL: b.e.sim.SCIMBaseURL(), KeyAttribute: scimKeyAttribute}
	mixpeekConfig := providerConfig("scim-mixpeek-token")
	mixpeekConfig.Mixpeek = &identityv1alpha1.MixpeekProvider{BaseURL: b.e.sim.URL()}
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: scimNamespace}},
		tokenSecret(scimNamespace, "scim-token", scimToken),
		tokenSecret(scimNamespace, "scim-mixpeek-token", scimMixpeekToken),
		&identityv1alpha1.OrgProvider{
			ObjectMeta: metav1.ObjectMeta{Namespace: scimNamespace, Name: scimProvider},
			Spec:       identityv1alpha1.OrgProviderSpec{ProviderConfig: scimConfig},
		},
		&identityv1alpha1.OrgProvider{
			ObjectMeta: metav1.ObjectMeta{Namespace: scimNamespace, Name: scimMixpeekProvider},
			Spec:       identityv1alpha1.OrgProviderSpec{ProviderConfig: mixpeekConfig},
		},
	}
	return b.e.createAll(ctx, objs...)
}

// timeFirstSync creates scimUsers OrgUsers on provider, named prefix plus a number, with key(i), and
// waits until all are Ready: the time is from the first creation until the watch shows them all Ready.
func (b *bench) timeFirstSync(ctx context.Context, provider, prefix string, key func(int) string) (time.Duration, bool, population, error) {
	n := b.cfg.scimUsers
	filter := scimUsersWithPrefix(prefix)
	start := time.Now()
	err := parallel(ctx, n, func(ctx context.Context, i int) error {
		return b.e.createUser(ctx, scimNamespace, fmt.Sprintf("%s%05d", prefix, i), identityv1alpha1.OrgProviderKind, provider, key(i))
	})
	if err != nil {
		return 0, false, population{}, err
	}
	ok, pop, err := b.users.waitFor(ctx, filter, max(5*time.Minute, 3*b.cfg.interval), func(p population) bool {
		return p.total == n && p.ready == n
	}, b.leader)
	return time.Since(start), ok, pop, err
}

// scimMixpeekCalls is how many requests reached the simulator for scenario 9's Mixpeek keys.
func (b *bench) scimMixpeekCalls() int {
	total := 0
	for i := range b.cfg.scimUsers {
		total += b.e.sim.Requests(upstreamsim.ProviderMixpeek, b.scimMixpeekKey(i))
	}
	return total
}
