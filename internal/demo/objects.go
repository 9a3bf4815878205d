package demo

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/upstreamsim"
)

const (
	namespace  = "orgsync-demo"
	secretName = "demo-token"
	// missingUser is an OrgUser whose key the simulated Mixpeek does not know.
	missingUser = "mixpeek-nobody"
)

// createObjects applies what a user would: a namespace, the token Secret, one OrgProvider per
// provider trusting the simulator's CA, and one OrgUser per simulated user plus one that does not exist.
func createObjects(ctx context.Context, c client.Client, sim *upstreamsim.Server, token string) ([]string, error) {
	demoUsers := servedDemoUsers()
	objs := make([]client.Object, 0, 8+len(demoUsers))
	objs = append(objs,
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: secretName},
			StringData: map[string]string{"token": token}},
		&identityv1alpha1.OrgProvider{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "mixpeek"},
			Spec: identityv1alpha1.OrgProviderSpec{ProviderConfig: providerConfig(sim, upstreamsim.ProviderMixpeek)}},
		&identityv1alpha1.OrgProvider{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "flashback"},
			Spec: identityv1alpha1.OrgProviderSpec{ProviderConfig: providerConfig(sim, upstreamsim.ProviderFlashback)}},
		&identityv1alpha1.OrgProvider{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: scimProvider},
			Spec: identityv1alpha1.OrgProviderSpec{ProviderConfig: providerConfig(sim, upstreamsim.ProviderSCIM)}},
	)
	names := make([]string, 0, len(demoUsers)+1)
	for _, u := range demoUsers {
		objs = append(objs, orgUser(u.Name, u.Provider, u.Key))
		names = append(names, u.Name)
	}
	objs = append(objs, orgUser(missingUser, upstreamsim.ProviderMixpeek, "nobody@example.com"))
	names = append(names, missingUser)

	if err := createAll(ctx, c, objs...); err != nil {
		return nil, err
	}
	return names, nil
}

// createAll creates objs in order.
func createAll(ctx context.Context, c client.Client, objs ...client.Object) error {
	for _, obj := range objs {
		if err := c.Create(ctx, obj); err != nil {
			return fmt.Errorf("create %T %s: %w", obj, obj.GetName(), err)
		}
	}
	return nil
}

// servedDemoUsers are the simulator's demo users of the providers the demo's manager registers:
// all of them (Mixpeek, Flashback and SCIM).
func servedDemoUsers() []upstreamsim.DemoUser {
	return upstreamsim.DemoUsersOf(upstreamsim.ProviderMixpeek, upstreamsim.ProviderFlashback, upstreamsim.ProviderSCIM)
}

func providerConfig(sim *upstreamsim.Server, providerName string) identityv1alpha1.ProviderConfig {
	cfg := identityv1alpha1.ProviderConfig{
		Auth:     identityv1alpha1.ProviderAuth{SecretRef: identityv1alpha1.SecretKeyReference{Name: secretName}},
		CABundle: sim.CABundle(),
	}
	switch providerName {
	case upstreamsim.ProviderMixpeek:
		cfg.Mixpeek = &identityv1alpha1.MixpeekProvider{BaseURL: sim.URL()}
	case upstreamsim.ProviderSCIM:
		cfg.SCIM = &identityv1alpha1.SCIMProvider{BaseURL: sim.SCIMBaseURL(), Roles: demoSCIMRoles()}
	default:
		cfg.Flashback = &identityv1alpha1.FlashbackProvider{BaseURL: sim.URL()}
	}
	return cfg
}

// demoSCIMRoles is the GitHub Enterprise roles map the simulator's SCIM demo users expect.
func demoSCIMRoles() *identityv1alpha1.SCIMRoles {
	roles := &identityv1alpha1.SCIMRoles{Attribute: "roles"}
	for _, entry := range upstreamsim.DemoSCIMRoles() {
		roles.Map = append(roles.Map, identityv1alpha1.SCIMRoleMapEntry{Value: entry.Value, Role: entry.Role})
	}
	return roles
}

func orgUser(name, providerName, key string) *identityv1alpha1.OrgUser {
	return &identityv1alpha1.OrgUser{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: identityv1alpha1.OrgUserSpec{
			ProviderRef: identityv1alpha1.ProviderReference{Kind: identityv1alpha1.OrgProviderKind, Name: providerName},
			Key:         key,
		},
	}
}
