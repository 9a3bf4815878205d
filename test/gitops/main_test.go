// Package gitops checks that OrgUsers and OrgDirectories read right to the tools that deploy them
// from Git: Argo CD's health checks and the OrgUser's refresh action (run with gopher-lua as Argo runs
// them), kstatus (Flux), kubectl, and the role and state labels surviving other field managers. The
// objects are ones the controllers really produced on a real API server, and, for OrgDirectory, also
// a table of every status shape the type can take.
package gitops

import (
	"os"
	"testing"

	"github.com/orgsync/orgsync/test/envsuite"
)

var suite *envsuite.Suite

func TestMain(m *testing.M) {
	os.Exit(envsuite.Run(m, func(s *envsuite.Suite) { suite = s }))
}
