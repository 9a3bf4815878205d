package connection

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/orgsync/orgsync/internal/provider"
)

// providerLabel names the provider object's API on every metric.
const providerLabel = "provider"

var (
	upstreamRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "orgsync_upstream_requests_total",
		Help: "Requests sent to the upstream API, by provider, outcome (ok or the error kind) and HTTP status code (none when no answer came).",
	}, []string{providerLabel, "outcome", "code"})

	upstreamDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "orgsync_upstream_request_duration_seconds",
		Help:    "Time from sending a request upstream to its answer or failure, by provider and outcome.",
		Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
	}, []string{providerLabel, "outcome"})

	inFlightRequests = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "orgsync_upstream_inflight_requests",
		Help: "Requests to the upstream API waiting for their answer, by provider.",
	}, []string{providerLabel})

	deferrals = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "orgsync_ratelimit_deferrals_total",
		Help: "Lookups put off without sending anything, by provider and cause: " +
			"client (token bucket), paused (after a 429) or concurrency (budget in use).",
	}, []string{providerLabel, "cause"})

	pauses = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "orgsync_ratelimit_pauses_total",
		Help: "Provider-wide pauses begun because the upstream answered 429 (or 503) with Retry-After.",
	}, []string{providerLabel})

	collapsedLookups = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "orgsync_lookups_collapsed_total",
		Help: "Lookups answered by an identical lookup (same provider, credential and key) in flight or just made, " +
			"without a request of their own.",
	}, []string{providerLabel})
)

func init() {
	metrics.Registry.MustRegister(upstreamRequests, upstreamDuration, inFlightRequests, deferrals, pauses, collapsedLookups)
}

func observeRequest(providerName string, err error, took time.Duration) {
	outcome := "ok"
	if err != nil {
		outcome = string(provider.KindOf(err))
	}
	upstreamRequests.WithLabelValues(providerName, outcome, statusCode(err)).Inc()
	upstreamDuration.WithLabelValues(providerName, outcome).Observe(took.Seconds())
}
