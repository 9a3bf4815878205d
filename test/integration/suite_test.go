// Package integration runs the orgsync controllers against a real API server (envtest: kube-apiserver
// and etcd built by hack/build-k8s-binaries.sh) and the simulated upstream, on test/envsuite's set-up.
package integration

import (
	"os"
	"testing"

	"github.com/orgsync/orgsync/test/envsuite"
)

var suite *envsuite.Suite

func TestMain(m *testing.M) {
	os.Exit(envsuite.Run(m, func(s *envsuite.Suite) { suite = s }))
}
