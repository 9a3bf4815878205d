package policy

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/upstreamsim"
	"github.com/orgsync/orgsync/test/envsuite"
)

// trustedNamespace is the namespace the shipped bindings and the Constraint trust.
const trustedNamespace = "orgsync-identities"

// Keys of people in the trusted namespace, from the simulator's seed (see upstreamsim.DemoUsers).
const (
	aliceKey = "alice@example.com"                    // Mixpeek admin, active
	bobKey   = "bob@example.com"                      // Mixpeek member, suspended
	carolKey = "carol@example.com"                    // Mixpeek viewer, pending
	erinKey  = "erin+ops@example.com"                 // Mixpeek member, active
	frankKey = "550e8400-e29b-41d4-a716-446655440000" // Flashback owner, active
	oscarKey = "550e8400-e29b-41d4-a716-446655440007" // Flashback member, deleted
	monaKey  = "mona@example.com"                     // SCIM enterprise_owner (Owner), active
	hubotKey = "hubot@example.com"                    // SCIM billing_manager (Billing), active
	samKey   = "sam@example.com"                      // SCIM user (Member), suspended
	nicoKey  = "Nico.Ops+scim@Example.com"            // SCIM security_manager (Unknown), active
	// nobodyKey has no upstream user: its OrgUser is NotFound.
	nobodyKey = "nobody@example.com"
	// strangerKey has no OrgUser anywhere.
	strangerKey = "stranger@example.com"
	// eveKey has an OrgUser only outside the trusted namespace (see impostorNamespace).
	eveKey = "eve@example.com"
)

var (
	identitiesOnce sync.Once
	// danaKey is an Admin, Active upstream whose OrgUser went Unauthorized: role and state are kept,
	// Ready is False.
	danaKey string
)

// trustedIdentities creates, once per package, the OrgUsers of the trusted namespace and waits until
// the controller has mirrored every one of them.
func trustedIdentities(t *testing.T) {
	t.Helper()
	identitiesOnce.Do(func() { createTrustedIdentities(t) })
	if danaKey == "" {
		t.Fatal("the trusted OrgUsers could not be set up; see the first test that failed")
	}
}

func createTrustedIdentities(t *testing.T) {
	t.Helper()
	suite.EnsureNamespace(t, trustedNamespace)
	suite.NewMixpeekProvider(t, trustedNamespace, envsuite.GoodToken, nil)
	suite.NewFlashbackProvider(t, trustedNamespace, envsuite.GoodToken, nil)
	suite.NewSCIMProvider(t, trustedNamespace, envsuite.GoodToken, nil)
	names := map[string]string{}
	for _, demo := range upstreamsim.DemoUsersOf(upstreamsim.ProviderMixpeek, upstreamsim.ProviderFlashback, upstreamsim.ProviderSCIM) {
		suite.NewOrgUser(t, trustedNamespace, demo.Name, demo.Provider, demo.Key)
		names[demo.Name] = demo.State
	}
	suite.NewOrgUser(t, trustedNamespace, "mixpeek-nobody", "mixpeek", nobodyKey)
	key := envsuite.PutMixpeekUser(suite.Sim, "admin", "active")
	suite.NewOrgUser(t, trustedNamespace, "mixpeek-dana", "mixpeek", key)

	for name := range names {
		suite.WaitForReady(t, trustedNamespace, name, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	}
	suite.WaitForReady(t, trustedNamespace, "mixpeek-nobody", metav1.ConditionFalse, identityv1alpha1.ReasonUserNotFound)
	suite.WaitForReady(t, trustedNamespace, "mixpeek-dana", metav1.ConditionTrue, identityv1alpha1.ReasonSynced)

	// Dana's OrgUser moves to a provider whose token the upstream refuses.
	suite.NewProvider(t, trustedNamespace, "mixpeek-revoked", upstreamsim.ProviderMixpeek, envsuite.UnknownToken, nil)
	dana := suite.GetUser(t, trustedNamespace, "mixpeek-dana")
	patch := client.MergeFrom(dana.DeepCopy())
	dana.Spec.ProviderRef.Name = "mixpeek-revoked"
	envsuite.Must(t, suite.Client.Patch(envsuite.Ctx(t), dana, patch))
	dana = suite.WaitForReady(t, trustedNamespace, "mixpeek-dana", metav1.ConditionFalse, identityv1alpha1.ReasonUnauthorized)
	if dana.Status.Role != "Admin" || dana.Status.State != "Active" {
		t.Fatalf("an Unauthorized OrgUser should keep its mirror, has role %q state %q", dana.Status.Role, dana.Status.State)
	}
	danaKey = key
}

// applyShipped creates every object of a shipped YAML file (documents separated by ---).
func applyShipped(t *testing.T, rel string) {
	t.Helper()
	for _, obj := range readShipped(t, rel) {
		err := suite.Client.Create(envsuite.Ctx(t), obj)
		if err != nil && !strings.Contains(err.Error(), "already exists") {
			t.Fatalf("create %s %s from %s: %v", obj.GetKind(), obj.GetName(), rel, err)
		}
	}
}

func readShipped(t *testing.T, rel string) []*unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(envsuite.RepoRoot(), "config", "policies", rel))
	envsuite.Must(t, err)
	var out []*unstructured.Unstructured
	for _, doc := range strings.Split(string(data), "\n---\n") {
		obj := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &obj.Object); err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		if len(obj.Object) == 0 {
			continue
		}
		out = append(out, obj)
	}
	if len(out) == 0 {
		t.Fatalf("%s holds no objects", rel)
	}
	return out
}
