// Package gitops checks that OrgUsers read right to the tools that deploy them from Git: Argo CD's
// health check and refresh action (run with gopher-lua as Argo runs them), kstatus (Flux), kubectl,
// and the role and state labels surviving other field managers. Every object is one the controller
// really produced on a real API server.
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
