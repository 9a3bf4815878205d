// Package metricsauth guards the metrics endpoint: a request must carry a bearer token the API
// server accepts (TokenReview) for an identity the API server lets GET the path (SubjectAccessReview,
// e.g. the metrics-reader ClusterRole). It does what controller-runtime's
// filters.WithAuthenticationAndAuthorization does, with the same cache lifetimes, on the manager's own
// client instead of k8s.io/apiserver: that module and what it brings (gRPC, OpenTelemetry, CEL) made
// the binary 33 MB larger and its resident set 18 MiB larger at start, for two API calls.
package metricsauth
