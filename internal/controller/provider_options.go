package controller

import (
	"fmt"
	"strings"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/provider"
	"github.com/orgsync/orgsync/internal/provider/scim"
)

// scimOptions turns the CRD's scim block into the client's options. Fields the API server did not
// default (objects built in Go) are left empty: the client applies the same defaults.
func scimOptions(block *identityv1alpha1.SCIMProvider) scim.Options {
	opts := scim.Options{KeyAttribute: block.KeyAttribute}
	if roles := block.Roles; roles != nil {
		mapping := &scim.RoleMapping{Attribute: roles.Attribute, Default: provider.Role(roles.Default)}
		if len(roles.Map) > 0 {
			mapping.Map = make([]scim.RoleMapEntry, 0, len(roles.Map))
			for _, entry := range roles.Map {
				mapping.Map = append(mapping.Map, scim.RoleMapEntry{Value: entry.Value, Role: provider.Role(entry.Role)})
			}
		}
		opts.Roles = mapping
	}
	return opts
}

// optionsProblem describes why api's client cannot use a provider block's options (a scim block
// the CRD cannot check fully, such as a roles attribute naming an extension but no attribute in
// it), or "" when it can or the provider takes no options. The client is built only to check, with
// no credential, and dropped at once.
func optionsProblem(api provider.Provider, baseURL string, options any) string {
	if options == nil {
		return ""
	}
	c, err := api.NewClient(provider.Config{BaseURL: baseURL, Options: options})
	if err != nil {
		return fmt.Sprintf("Invalid %s configuration: %s", api.Name(), strings.TrimPrefix(err.Error(), api.Name()+": "))
	}
	if closer, ok := c.(provider.IdleConnectionCloser); ok {
		closer.CloseIdleConnections()
	}
	return ""
}
