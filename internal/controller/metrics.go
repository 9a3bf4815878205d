package controller

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/provider"
)

var (
	// lastSuccessSeconds exports freshness instead of a status heartbeat: alert on time() - this.
	lastSuccessSeconds = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "orgsync_orguser_last_success_timestamp_seconds",
		Help: "Unix time of the last successful upstream read of each OrgUser.",
	}, []string{"namespace", "name"})

	upstreamCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "orgsync_upstream_requests_total",
		Help: "Upstream user lookups by provider and result (ok or the error kind).",
	}, []string{"provider", "result"})
)

func init() {
	metrics.Registry.MustRegister(lastSuccessSeconds, upstreamCalls)
}

func recordFreshness(user *identityv1alpha1.OrgUser, at time.Time) {
	lastSuccessSeconds.WithLabelValues(user.Namespace, user.Name).Set(float64(at.Unix()))
}

func forgetFreshness(name types.NamespacedName) {
	lastSuccessSeconds.DeleteLabelValues(name.Namespace, name.Name)
}

// recordUpstreamCall counts one request sent upstream, by its result.
func recordUpstreamCall(providerName string, err error) {
	result := "ok"
	if err != nil {
		result = string(provider.KindOf(err))
	}
	upstreamCalls.WithLabelValues(providerName, result).Inc()
}
