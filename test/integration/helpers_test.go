package integration

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
)

// mixpeekSetup creates a namespace of the test's own with a token Secret and an OrgProvider "mixpeek"
// for the shared simulator.
func mixpeekSetup(t *testing.T, token string) (namespace string) {
	t.Helper()
	namespace = suite.NewNamespace(t, "t", nil, nil)
	suite.NewMixpeekProvider(t, namespace, token, nil)
	return namespace
}

// errorfNotYet describes a state not reached yet, for envsuite.Eventually.
func errorfNotYet(format string, args ...any) error { return fmt.Errorf(format, args...) }

// requireCutToLimits checks that the user's fields an upstream filled with huge were cut to their
// limits (userID and displayName 256 bytes, providerRole 64) on a character boundary.
func requireCutToLimits(t *testing.T, u *identityv1alpha1.OrgUser, huge string) {
	t.Helper()
	for _, f := range []struct {
		name, value string
		max         int
	}{
		{"userID", u.Status.UserID, 256},
		{"displayName", u.Status.DisplayName, 256},
		{"providerRole", u.Status.ProviderRole, 64},
	} {
		if len(f.value) > f.max || len(f.value) < f.max-1 || !utf8.ValidString(f.value) || !strings.HasPrefix(huge, f.value) {
			t.Errorf("%s: %d bytes (valid UTF-8 %v), want the upstream value cut to %d bytes on a character boundary",
				f.name, len(f.value), utf8.ValidString(f.value), f.max)
		}
	}
}
