package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/test/envsuite"
)

// requireRejected asserts the API server refuses obj as Invalid, with a message containing want.
func requireRejected(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("the API server accepted the object; want a rejection mentioning %q", want)
	}
	if !apierrors.IsInvalid(err) {
		t.Fatalf("want an Invalid error, got %v", err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("rejection %q does not mention %q", err.Error(), want)
	}
}

func TestProviderSpecsAreValidatedByTheAPIServer(t *testing.T) {
	t.Parallel()
	ns := suite.NewNamespace(t, "t", nil, nil)
	base := func() identityv1alpha1.ProviderConfig {
		return identityv1alpha1.ProviderConfig{
			Mixpeek: &identityv1alpha1.MixpeekProvider{},
			Auth:    identityv1alpha1.ProviderAuth{SecretRef: identityv1alpha1.SecretKeyReference{Name: "s"}},
		}
	}
	cases := []struct {
		name   string
		mutate func(*identityv1alpha1.ProviderConfig)
		want   string
	}{
		{"no provider block", func(c *identityv1alpha1.ProviderConfig) { c.Mixpeek = nil }, "exactly one provider block"},
		{"two provider blocks", func(c *identityv1alpha1.ProviderConfig) { c.Flashback = &identityv1alpha1.FlashbackProvider{} }, "exactly one provider block"},
		{"plain http baseURL", func(c *identityv1alpha1.ProviderConfig) { c.Mixpeek.BaseURL = "http://api.mixpeek.com" }, "baseURL must be an https:// URL"},
		{"baseURL without host", func(c *identityv1alpha1.ProviderConfig) { c.Mixpeek.BaseURL = "https://" }, "baseURL must be an https:// URL"},
		{"refreshInterval below 10s", func(c *identityv1alpha1.ProviderConfig) {
			c.RefreshInterval = &metav1.Duration{Duration: 5 * time.Second}
		}, "refreshInterval must be at least 10s"},
		{"refreshInterval above 720h", func(c *identityv1alpha1.ProviderConfig) {
			c.RefreshInterval = &metav1.Duration{Duration: 721 * time.Hour}
		}, "refreshInterval must be at least 10s and at most 720h"},
		{"refreshInterval of 900000h", func(c *identityv1alpha1.ProviderConfig) {
			c.RefreshInterval = &metav1.Duration{Duration: 900000 * time.Hour}
		}, "refreshInterval must be at least 10s and at most 720h"},
		{"timeout above 5m", func(c *identityv1alpha1.ProviderConfig) {
			c.Timeout = &metav1.Duration{Duration: 5*time.Minute + time.Second}
		}, "timeout must be more than 0s and at most 5m"},
		{"zero timeout", func(c *identityv1alpha1.ProviderConfig) { c.Timeout = &metav1.Duration{} }, "timeout must be more than 0s"},
		{"secret namespace on an OrgProvider", func(c *identityv1alpha1.ProviderConfig) { c.Auth.SecretRef.Namespace = "ops" }, "auth.secretRef.namespace is not allowed on an OrgProvider"},
		{"mixpeek and scim", func(c *identityv1alpha1.ProviderConfig) {
			c.SCIM = &identityv1alpha1.SCIMProvider{BaseURL: "https://api.example.com/scim/v2"}
		}, "exactly one provider block must be set: mixpeek, flashback or scim"},
		{"scim without baseURL", func(c *identityv1alpha1.ProviderConfig) { c.Mixpeek, c.SCIM = nil, &identityv1alpha1.SCIMProvider{} }, "baseURL must be an https:// URL"},
		{"scim plain http baseURL", func(c *identityv1alpha1.ProviderConfig) {
			c.Mixpeek, c.SCIM = nil, &identityv1alpha1.SCIMProvider{BaseURL: "http://api.example.com/scim/v2"}
		}, "baseURL must be an https:// URL"},
		{"scim keyAttribute", func(c *identityv1alpha1.ProviderConfig) {
			c.Mixpeek, c.SCIM = nil, &identityv1alpha1.SCIMProvider{BaseURL: "https://api.example.com/scim/v2", KeyAttribute: "email"}
		}, "keyAttribute"},
		{"scim role not normalized", func(c *identityv1alpha1.ProviderConfig) {
			c.Mixpeek, c.SCIM = nil, &identityv1alpha1.SCIMProvider{BaseURL: "https://api.example.com/scim/v2", Roles: &identityv1alpha1.SCIMRoles{
				Map: []identityv1alpha1.SCIMRoleMapEntry{{Value: "admins", Role: "Superuser"}}}}
		}, "roles.map[0].role"},
		{"scim empty map value", func(c *identityv1alpha1.ProviderConfig) {
			c.Mixpeek, c.SCIM = nil, &identityv1alpha1.SCIMProvider{BaseURL: "https://api.example.com/scim/v2", Roles: &identityv1alpha1.SCIMRoles{
				Map: []identityv1alpha1.SCIMRoleMapEntry{{Value: "", Role: "Admin"}}}}
		}, "roles.map[0].value"},
		{"scim default not normalized", func(c *identityv1alpha1.ProviderConfig) {
			c.Mixpeek, c.SCIM = nil, &identityv1alpha1.SCIMProvider{BaseURL: "https://api.example.com/scim/v2", Roles: &identityv1alpha1.SCIMRoles{Default: "admin"}}
		}, "roles.default"},
		{"negative requestsPerSecond", func(c *identityv1alpha1.ProviderConfig) {
			c.RateLimit = &identityv1alpha1.RateLimit{RequestsPerSecond: -1}
		}, "requestsPerSecond"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base()
			tc.mutate(&cfg)
			p := &identityv1alpha1.OrgProvider{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "p" + string(rune('a'+i))},
				Spec: identityv1alpha1.OrgProviderSpec{ProviderConfig: cfg}}
			requireRejected(t, suite.Client.Create(envsuite.Ctx(t), p), tc.want)
		})
	}

	t.Run("refreshInterval of 720h is accepted", func(t *testing.T) {
		cfg := base()
		cfg.RefreshInterval = &metav1.Duration{Duration: 720 * time.Hour}
		cfg.Timeout = &metav1.Duration{Duration: 5 * time.Minute}
		p := &identityv1alpha1.OrgProvider{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "max-refresh"},
			Spec: identityv1alpha1.OrgProviderSpec{ProviderConfig: cfg}}
		if err := suite.Client.Create(envsuite.Ctx(t), p); err != nil {
			t.Errorf("refreshInterval 720h and timeout 5m must be accepted: %v", err)
		}
	})

	t.Run("ClusterOrgProvider refreshInterval is at most 720h", func(t *testing.T) {
		cfg := base()
		cfg.Auth.SecretRef.Namespace = ns
		cfg.RefreshInterval = &metav1.Duration{Duration: 721 * time.Hour}
		cop := &identityv1alpha1.ClusterOrgProvider{ObjectMeta: metav1.ObjectMeta{Name: "long-" + envsuite.UniqueSuffix()},
			Spec: identityv1alpha1.ClusterOrgProviderSpec{ProviderConfig: cfg}}
		requireRejected(t, suite.Client.Create(envsuite.Ctx(t), cop), "refreshInterval must be at least 10s and at most 720h")
		cop.Spec.RefreshInterval = &metav1.Duration{Duration: 720 * time.Hour}
		envsuite.Must(t, suite.Client.Create(envsuite.Ctx(t), cop))
		t.Cleanup(func() { _ = suite.Client.Delete(envsuite.Ctx(t), cop) })
	})

	t.Run("ClusterOrgProvider requires the Secret's namespace", func(t *testing.T) {
		cop := &identityv1alpha1.ClusterOrgProvider{ObjectMeta: metav1.ObjectMeta{Name: "no-ns-" + envsuite.UniqueSuffix()},
			Spec: identityv1alpha1.ClusterOrgProviderSpec{ProviderConfig: base()}}
		requireRejected(t, suite.Client.Create(envsuite.Ctx(t), cop), "auth.secretRef.namespace is required on a ClusterOrgProvider")
	})
}

func TestProviderDefaults(t *testing.T) {
	t.Parallel()
	ns := suite.NewNamespace(t, "t", nil, nil)
	p := suite.NewOrgProvider(t, ns, "defaults", identityv1alpha1.ProviderConfig{
		Flashback: &identityv1alpha1.FlashbackProvider{},
		Auth:      identityv1alpha1.ProviderAuth{SecretRef: identityv1alpha1.SecretKeyReference{Name: "s"}},
	})
	envsuite.Must(t, suite.Client.Get(envsuite.Ctx(t), client.ObjectKeyFromObject(p), p))
	s := p.Spec
	if s.Flashback.BaseURL != "https://backend.flashback.tech" || s.Auth.SecretRef.Key != "token" {
		t.Errorf("baseURL %q key %q", s.Flashback.BaseURL, s.Auth.SecretRef.Key)
	}
	if s.RefreshInterval == nil || s.RefreshInterval.Duration != time.Hour || s.Timeout == nil || s.Timeout.Duration != 10*time.Second {
		t.Errorf("refreshInterval %v timeout %v, want 1h and 10s", s.RefreshInterval, s.Timeout)
	}
	if s.RateLimit == nil || s.RateLimit.RequestsPerSecond != 5 || s.RateLimit.Burst != 10 {
		t.Errorf("rateLimit %+v, want 5 rps burst 10 when the block is omitted", s.RateLimit)
	}

	sc := suite.NewOrgProvider(t, ns, "scim-defaults", identityv1alpha1.ProviderConfig{
		SCIM: &identityv1alpha1.SCIMProvider{BaseURL: "https://api.example.com/scim/v2", Roles: &identityv1alpha1.SCIMRoles{}},
		Auth: identityv1alpha1.ProviderAuth{SecretRef: identityv1alpha1.SecretKeyReference{Name: "s"}},
	})
	envsuite.Must(t, suite.Client.Get(envsuite.Ctx(t), client.ObjectKeyFromObject(sc), sc))
	if got := sc.Spec.SCIM; got.KeyAttribute != "userName" || got.Roles.Attribute != "roles" || got.Roles.Default != "Unknown" {
		t.Errorf("scim defaults: keyAttribute %q roles.attribute %q roles.default %q, want userName, roles, Unknown",
			got.KeyAttribute, got.Roles.Attribute, got.Roles.Default)
	}

	m := suite.NewOrgProvider(t, ns, "mixpeek-defaults", identityv1alpha1.ProviderConfig{
		Mixpeek: &identityv1alpha1.MixpeekProvider{},
		Auth:    identityv1alpha1.ProviderAuth{SecretRef: identityv1alpha1.SecretKeyReference{Name: "s"}},
	})
	envsuite.Must(t, suite.Client.Get(envsuite.Ctx(t), client.ObjectKeyFromObject(m), m))
	if m.Spec.Mixpeek.BaseURL != "https://api.mixpeek.com" {
		t.Errorf("mixpeek baseURL default %q", m.Spec.Mixpeek.BaseURL)
	}
}

func TestOrgUserSpecsAreValidatedByTheAPIServer(t *testing.T) {
	t.Parallel()
	ns := suite.NewNamespace(t, "t", nil, nil)
	user := func(name, key string) *identityv1alpha1.OrgUser {
		return &identityv1alpha1.OrgUser{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: identityv1alpha1.OrgUserSpec{ProviderRef: identityv1alpha1.ProviderReference{Name: "p"}, Key: key}}
	}

	requireRejected(t, suite.Client.Create(envsuite.Ctx(t), user("empty-key", "")), "spec.key")
	requireRejected(t, suite.Client.Create(envsuite.Ctx(t), user("long-key", strings.Repeat("a", 321))), "spec.key")
	if err := suite.Client.Create(envsuite.Ctx(t), user("max-key", strings.Repeat("a", 320))); err != nil {
		t.Errorf("a 320-character key must be accepted: %v", err)
	}

	bad := user("bad-kind", "a@example.com")
	bad.Spec.ProviderRef.Kind = "Provider"
	requireRejected(t, suite.Client.Create(envsuite.Ctx(t), bad), "spec.providerRef.kind")

	fast := user("fast", "a@example.com")
	fast.Spec.RefreshInterval = &metav1.Duration{Duration: 9 * time.Second}
	requireRejected(t, suite.Client.Create(envsuite.Ctx(t), fast), "refreshInterval must be at least 10s")

	for _, d := range []time.Duration{721 * time.Hour, 900000 * time.Hour} {
		slow := user(fmt.Sprintf("slow-%dh", int(d.Hours())), "a@example.com")
		slow.Spec.RefreshInterval = &metav1.Duration{Duration: d}
		requireRejected(t, suite.Client.Create(envsuite.Ctx(t), slow), "refreshInterval must be at least 10s and at most 720h")
	}
	longest := user("longest", "a@example.com")
	longest.Spec.RefreshInterval = &metav1.Duration{Duration: 720 * time.Hour}
	if err := suite.Client.Create(envsuite.Ctx(t), longest); err != nil {
		t.Errorf("refreshInterval 720h must be accepted: %v", err)
	}

	ok := user("immutable", "a@example.com")
	envsuite.Must(t, suite.Client.Create(envsuite.Ctx(t), ok))
	if ok.Spec.ProviderRef.Kind != identityv1alpha1.OrgProviderKind {
		t.Errorf("providerRef.kind default = %q, want OrgProvider", ok.Spec.ProviderRef.Kind)
	}
	patch := client.MergeFrom(ok.DeepCopy())
	ok.Spec.Key = "b@example.com"
	requireRejected(t, suite.Client.Patch(envsuite.Ctx(t), ok, patch), "key is immutable")
}

// TestOrgUserStatusIsValidatedByTheAPIServer: policies and metrics trust status.role, status.state and
// status.provider, so the status subresource refuses any value outside their enums.
func TestOrgUserStatusIsValidatedByTheAPIServer(t *testing.T) {
	t.Parallel()
	ns := suite.NewNamespace(t, "t", nil, nil)
	// No such provider: the controller writes ProviderNotFound once and leaves the object alone.
	suite.NewOrgUser(t, ns, "status", "missing", "a@example.com")
	suite.WaitForCondition(t, ns, "status", identityv1alpha1.ConditionReady, metav1.ConditionFalse, identityv1alpha1.ReasonProviderNotFound)

	patchStatus := func(field, value string) error {
		u := &identityv1alpha1.OrgUser{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "status"}}
		body := []byte(`{"status":{"` + field + `":"` + value + `"}}`)
		return suite.Client.Status().Patch(envsuite.Ctx(t), u, client.RawPatch(types.MergePatchType, body))
	}
	for _, tc := range []struct{ field, bad string }{
		{"role", "Superuser"}, {"role", "admin"},
		{"state", "Gone"}, {"state", "active"},
		{"provider", "okta"}, {"provider", "Mixpeek"},
	} {
		requireRejected(t, patchStatus(tc.field, tc.bad), "status."+tc.field)
	}
	for _, tc := range []struct{ field, good string }{{"role", "Owner"}, {"state", "Deleted"}, {"provider", "scim"}} {
		if err := patchStatus(tc.field, tc.good); err != nil {
			t.Errorf("status.%s %q must be accepted: %v", tc.field, tc.good, err)
		}
	}
}
