package integration

import (
	"fmt"
	"testing"
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
