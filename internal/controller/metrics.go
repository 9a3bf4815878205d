package controller

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
)

var (
	reconcileErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "orgsync_reconcile_errors_total",
		Help: "OrgUser reconciles that did not sync the user, by reason (a condition reason, or KubernetesAPI).",
	}, []string{"reason"})

	orgUsersDesc = prometheus.NewDesc("orgsync_orgusers",
		"OrgUsers by provider, role, state and Ready status.", []string{"provider", "role", "state", "ready"}, nil)

	sinceSyncDesc = prometheus.NewDesc("orgsync_orguser_seconds_since_last_sync",
		"Seconds since each OrgUser was last read successfully (OrgUsers never read are left out).", nil, nil)

	sinceSyncBuckets = []float64{60, 300, 900, 1800, 3600, 2 * 3600, 3 * 3600, 6 * 3600, 12 * 3600, 24 * 3600}
)

func init() {
	metrics.Registry.MustRegister(reconcileErrors)
}

// usersCollector summarizes OrgUsers at scrape time from the cache: one series per provider, role,
// state and Ready, never one per OrgUser, so a cluster of thousands of users stays cheap to scrape.
type usersCollector struct {
	r *OrgUserReconciler
}

func (c usersCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- orgUsersDesc
	ch <- sinceSyncDesc
}

func (c usersCollector) Collect(ch chan<- prometheus.Metric) {
	if _, leader := c.r.becameLeader(); !leader {
		// A standby knows nothing fresh: its figures would read 0 s for every user.
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	users := &identityv1alpha1.OrgUserList{}
	// Read-only: a deep copy of every OrgUser on each scrape would cost tens of MiB at 10,000 users.
	if err := c.r.List(ctx, users, client.UnsafeDisableDeepCopy); err != nil {
		return
	}
	type group struct{ provider, role, state, ready string }
	counts := map[group]float64{}
	now := c.r.now()
	buckets := make(map[float64]uint64, len(sinceSyncBuckets))
	var n uint64
	var sum float64
	for i := range users.Items {
		u := &users.Items[i]
		ready := "Unknown"
		if cond := meta.FindStatusCondition(u.Status.Conditions, identityv1alpha1.ConditionReady); cond != nil {
			ready = string(cond.Status)
		}
		counts[group{u.Status.Provider, u.Status.Role, u.Status.State, ready}]++
		last := c.r.lastSuccess(u, c.r.memory.get(u))
		if last.IsZero() {
			continue
		}
		age := max(0, now.Sub(last).Seconds())
		n++
		sum += age
		for _, b := range sinceSyncBuckets {
			if age <= b {
				buckets[b]++
			}
		}
	}
	for g, v := range counts {
		ch <- prometheus.MustNewConstMetric(orgUsersDesc, prometheus.GaugeValue, v, g.provider, g.role, g.state, g.ready)
	}
	ch <- prometheus.MustNewConstHistogram(sinceSyncDesc, n, sum, buckets)
}

// registerUsersCollector exports the OrgUser summaries of r. Only the first reconciler of a process
// is exported (tests may start several managers in one process).
func registerUsersCollector(r *OrgUserReconciler) {
	_ = metrics.Registry.Register(usersCollector{r: r})
}
