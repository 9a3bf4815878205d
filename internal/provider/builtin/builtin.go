// Package builtin lists every provider API this repository implements, for the processes that run
// them all against the simulated upstream: the demo and the envtest suites.
//
// cmd/main.go builds its registry explicitly instead (the project's rule: the providers a manager
// serves are spelled out where it starts, not gathered through init() side effects or a helper); a
// new provider is added there and here.
package builtin

import (
	"github.com/orgsync/orgsync/internal/provider"
	"github.com/orgsync/orgsync/internal/provider/flashback"
	"github.com/orgsync/orgsync/internal/provider/mixpeek"
	"github.com/orgsync/orgsync/internal/provider/scim"
)

// Providers returns a new registry of every implemented provider: Mixpeek, Flashback and SCIM 2.0.
func Providers() provider.Registry {
	return provider.Registry{
		mixpeek.Name:   mixpeek.Provider{},
		flashback.Name: flashback.Provider{},
		scim.Name:      scim.Provider{},
	}
}
