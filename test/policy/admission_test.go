package policy

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/test/envsuite"
)

// Rule (a) on the real API server: granting ClusterRole admin needs a trusted OrgUser that says Admin
// or Owner, Active and Ready.
func TestPrivilegedGrantNeedsActiveAdminOrgUser(t *testing.T) {
	t.Parallel()
	trustedIdentities(t)
	applyShipped(t, "admission/privileged-grant.yaml")
	impostor := impostorNamespace(t)
	ns := suite.NewNamespace(t, "team", nil, nil)
	lead := newPerson(t, "ops-lead@example.com")

	refused := "granting ClusterRole admin to "
	requireDenied(t, lead, roleBinding(ns, "admin", bobKey),
		refused+bobKey+" is refused: OrgUser orgsync-identities/mixpeek-bob says role Member, state Suspended, Ready True")
	requireDenied(t, lead, roleBinding(ns, "admin", erinKey),
		refused+erinKey+" is refused: OrgUser orgsync-identities/mixpeek-erin-ops says role Member, state Active, Ready True")
	requireDenied(t, lead, roleBinding(ns, "admin", carolKey),
		"OrgUser orgsync-identities/mixpeek-carol says role Viewer, state Pending, Ready True")
	requireDenied(t, lead, roleBinding(ns, "admin", nobodyKey),
		"OrgUser orgsync-identities/mixpeek-nobody says role <none>, state NotFound, Ready False")
	requireDenied(t, lead, roleBinding(ns, "admin", danaKey),
		"OrgUser orgsync-identities/mixpeek-dana says role Admin, state Active, Ready False")
	requireDenied(t, lead, roleBinding(ns, "admin", oscarKey),
		"OrgUser orgsync-identities/flashback-oscar says role Member, state Deleted, Ready True")
	requireDenied(t, lead, roleBinding(ns, "admin", "BOB@example.com"), "OrgUser orgsync-identities/mixpeek-bob")
	requireDenied(t, lead, clusterRoleBinding("admin", bobKey), "OrgUser orgsync-identities/mixpeek-bob says role Member")

	// SCIM users, their roles from the provider's roles map: an enterprise owner may be granted admin,
	// a billing manager, a suspended member and an undocumented role may not.
	requireDenied(t, lead, roleBinding(ns, "admin", hubotKey),
		refused+hubotKey+" is refused: OrgUser orgsync-identities/scim-hubot says role Billing, state Active, Ready True")
	requireDenied(t, lead, roleBinding(ns, "admin", samKey),
		"OrgUser orgsync-identities/scim-sam says role Member, state Suspended, Ready True")
	requireDenied(t, lead, roleBinding(ns, "admin", "nico.ops+scim@example.com"),
		"OrgUser orgsync-identities/scim-nico-ops says role Unknown, state Active, Ready True")
	requireAllowed(t, lead, roleBinding(ns, "admin", monaKey))
	requireAllowed(t, lead, clusterRoleBinding("admin", monaKey))

	requireAllowed(t, lead, roleBinding(ns, "admin", aliceKey))
	requireAllowed(t, lead, roleBinding(ns, "admin", frankKey))
	requireAllowed(t, lead, clusterRoleBinding("admin", aliceKey))
	requireAllowed(t, lead, roleBinding(ns, "view", bobKey)) // not a privileged ClusterRole
	// The documented gap of a ValidatingAdmissionPolicy: nobody mirrors this subject, so nothing refuses.
	requireAllowed(t, lead, roleBinding(ns, "admin", strangerKey))
	// The impostor's OrgUser says bob is an active Admin; it is not in the trusted namespace.
	requireDenied(t, lead, roleBinding(impostor, "admin", bobKey), "OrgUser orgsync-identities/mixpeek-bob says role Member")
}

// Rule (b): a person the trusted OrgUsers call Suspended, Deleted or NotFound may not touch the
// resources the binding names.
func TestInactivePeopleAreRefused(t *testing.T) {
	t.Parallel()
	trustedIdentities(t)
	applyShipped(t, "admission/inactive-requester.yaml")
	ns := suite.NewNamespace(t, "work", nil, nil)

	bob := newPerson(t, bobKey)
	requireDenied(t, bob, configMap(ns),
		"bob@example.com may not create configmaps: OrgUser orgsync-identities/mixpeek-bob says the account is Suspended")
	requireDenied(t, bob, deployment(ns), "bob@example.com may not create deployments: OrgUser orgsync-identities/mixpeek-bob says the account is Suspended")
	requireDenied(t, newPerson(t, nobodyKey), configMap(ns),
		"nobody@example.com may not create configmaps: OrgUser orgsync-identities/mixpeek-nobody says the account is NotFound")
	requireDenied(t, newPerson(t, oscarKey), configMap(ns),
		oscarKey+" may not create configmaps: OrgUser orgsync-identities/flashback-oscar says the account is Deleted")

	requireDenied(t, newPerson(t, samKey), configMap(ns),
		"sam@example.com may not create configmaps: OrgUser orgsync-identities/scim-sam says the account is Suspended")
	requireAllowed(t, newPerson(t, monaKey), configMap(ns))
	requireAllowed(t, newPerson(t, nicoKey), configMap(ns))

	requireAllowed(t, bob, serviceAccount(ns)) // not a resource the binding names
	requireAllowed(t, newPerson(t, aliceKey), configMap(ns))
	requireAllowed(t, newPerson(t, carolKey), configMap(ns)) // Pending is not refused
	requireAllowed(t, newPerson(t, strangerKey), configMap(ns))
}

// Rule (c): workloads in a namespace owned by one person stop being admitted once that person is no
// longer Active.
func TestOwnedNamespaceRefusesWorkloadsOnceOwnerInactive(t *testing.T) {
	t.Parallel()
	applyShipped(t, "admission/namespace-owner.yaml")
	owned := map[string]string{"identity.orgsync.io/owned-by-person": "true"}
	bot := newPerson(t, "ci-bot")

	ownerKey := envsuite.PutMixpeekUser(suite.Sim, "member", "active")
	home := suite.NewNamespace(t, "home", owned, map[string]string{"identity.orgsync.io/owner": ownerKey})
	suite.NewMixpeekProvider(t, home, envsuite.GoodToken, nil)
	suite.NewOrgUser(t, home, "owner", "mixpeek", ownerKey)

	orphan := suite.NewNamespace(t, "orphan", owned, map[string]string{"identity.orgsync.io/owner": ownerKey})
	requireDenied(t, bot, deployment(orphan), "no params found for policy binding with `Deny` parameterNotFoundAction")

	otherKey := envsuite.PutMixpeekUser(suite.Sim, "admin", "active")
	swapped := suite.NewNamespace(t, "swapped", owned, map[string]string{"identity.orgsync.io/owner": ownerKey})
	suite.NewMixpeekProvider(t, swapped, envsuite.GoodToken, nil)
	suite.NewOrgUser(t, swapped, "owner", "mixpeek", otherKey)
	suite.WaitForReady(t, swapped, "owner", metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	requireDenied(t, bot, deployment(swapped), "OrgUser "+swapped+"/owner mirrors "+otherKey+", not the owner the namespace annotation identity.orgsync.io/owner names ("+ownerKey+")")

	suite.WaitForReady(t, home, "owner", metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	requireAllowed(t, bot, deployment(home))
	requireAllowed(t, bot, deployment(suite.NewNamespace(t, "shared", nil, nil)))

	envsuite.SetMixpeekUser(suite.Sim, ownerKey, "member", "suspended")
	suite.ForceRefresh(t, home, "owner")
	requireDenied(t, bot, deployment(home),
		"workloads in namespace "+home+" are refused: its owner "+ownerKey+" is Suspended (OrgUser "+home+"/owner)")

	envsuite.SetMixpeekUser(suite.Sim, ownerKey, "member", "active")
	suite.ForceRefresh(t, home, "owner")
	requireAllowed(t, bot, deployment(home))
}
