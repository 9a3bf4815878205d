// Package policy evaluates the shipped role-driven policies with the real engines against OrgUsers
// the controller really produced: the ValidatingAdmissionPolicies on the real kube-apiserver, with
// requests sent by envtest users that authenticate with their own client certificates, and the
// Gatekeeper ConstraintTemplate's Rego with OPA.
package policy

import (
	"os"
	"testing"

	"github.com/orgsync/orgsync/test/envsuite"
)

var suite *envsuite.Suite

func TestMain(m *testing.M) {
	os.Exit(envsuite.Run(m, func(s *envsuite.Suite) { suite = s }))
}
