package controller

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// LeaderElectionID is the name of the Lease the managers of one installation compete for.
const LeaderElectionID = "orgsync.identity.orgsync.io"

// ManagerOptions are the manager options every orgsync process starts from: cmd/main.go, the demo
// and every test suite, so that the tests run the manager production runs. A caller adds only what
// differs between processes (metrics and probe addresses, leader election and its timing).
//
// They set:
//   - Scheme: the caller's, with the client-go and orgsync types registered.
//   - Cache: CacheOptions, which strips managedFields and the last-applied annotation from every
//     cached object (most of the memory of thousands of OrgUsers).
//   - Client.Cache.DisableFor Secret: credential Secrets are read from the API server one named
//     Secret at a time, so the manager never lists, watches or caches the cluster's Secrets (its RBAC
//     grants Secrets get only).
//   - LeaderElectionID and LeaderElectionReleaseOnCancel: a leader that stops on purpose hands the
//     Lease over at once instead of after it expires. LeaderElection itself stays off.
//   - Metrics and health probes off ("0"): a process that wants them binds its own addresses.
func ManagerOptions(scheme *runtime.Scheme) ctrl.Options {
	return ctrl.Options{
		Scheme: scheme,
		Cache:  CacheOptions(),
		Client: client.Options{Cache: &client.CacheOptions{
			DisableFor: []client.Object{&corev1.Secret{}},
		}},
		LeaderElectionID:              LeaderElectionID,
		LeaderElectionReleaseOnCancel: true,
		Metrics:                       metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress:        "0",
	}
}
