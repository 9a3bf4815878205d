package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/upstreamsim"
	"github.com/orgsync/orgsync/test/envsuite"
)

// scimRoles is a GitHub Enterprise style roles map, as an OrgProvider for GitHub EMU would carry.
func scimRoles() *identityv1alpha1.SCIMRoles {
	return &identityv1alpha1.SCIMRoles{Attribute: "roles", Default: "Member", Map: []identityv1alpha1.SCIMRoleMapEntry{
		{Value: "enterprise_owner", Role: "Owner"},
		{Value: "billing_manager", Role: "Billing"},
		{Value: "guest_collaborator", Role: "Viewer"},
	}}
}

// scimConfig is the scim block for sim's SCIM service with scimRoles, its token in "scim-token".
func scimConfig(sim *upstreamsim.Server) identityv1alpha1.ProviderConfig {
	cfg := envsuite.SimConfig(sim, upstreamsim.ProviderSCIM, "scim-token")
	cfg.SCIM.Roles = scimRoles()
	return cfg
}

// scimSetup creates a namespace, a Secret with envsuite.GoodToken and an OrgProvider "scim" for the
// shared simulator's SCIM service with scimRoles.
func scimSetup(t *testing.T, mutate ...func(*identityv1alpha1.ProviderConfig)) (namespace string) {
	t.Helper()
	return scimOn(t, suite.Sim, mutate...)
}

// scimOnOwnSimulator is scimSetup on a simulator of the test's own, for tests that inject faults or
// limits (they apply to the whole SCIM API of a simulator).
func scimOnOwnSimulator(t *testing.T, mutate ...func(*identityv1alpha1.ProviderConfig)) (ns string, own *upstreamsim.Server) {
	t.Helper()
	own = envsuite.OwnSimulator(t)
	return scimOn(t, own, mutate...), own
}

func scimOn(t *testing.T, sim *upstreamsim.Server, mutate ...func(*identityv1alpha1.ProviderConfig)) (namespace string) {
	t.Helper()
	namespace = suite.NewNamespace(t, "t", nil, nil)
	suite.NewSecret(t, namespace, "scim-token", envsuite.GoodToken)
	cfg := scimConfig(sim)
	for _, m := range mutate {
		m(&cfg)
	}
	suite.NewOrgProvider(t, namespace, "scim", cfg)
	return namespace
}

// putSCIMUser registers a SCIM user named userName (made unique by the caller) with one role.
func putSCIMUser(srv *upstreamsim.Server, userName, role string, active bool) (id string) {
	given, _, _ := strings.Cut(userName, "@")
	return srv.PutSCIMUser(upstreamsim.SCIMUser{
		ID: "scim-" + envsuite.UniqueSuffix(), ExternalID: "ext-" + envsuite.UniqueSuffix(), UserName: userName,
		DisplayName: given + " Display", Emails: []upstreamsim.SCIMEmail{{Value: strings.ToLower(userName), Type: "work", Primary: true}},
		Active: active, Roles: []string{role},
		Created:      time.Date(2025, 1, 2, 9, 0, 0, 0, time.UTC),
		LastModified: time.Date(2025, 1, 16, 9, 0, 0, 0, time.UTC),
	})
}

func scimUserName(prefix string) string {
	return fmt.Sprintf("%s-%s@example.com", prefix, envsuite.UniqueSuffix())
}

func TestSCIMUsersAreMirroredThroughTheRolesMap(t *testing.T) {
	t.Parallel()
	ns := scimSetup(t)
	owner, guest, plain, gone := scimUserName("mona"), scimUserName("gus"), scimUserName("lin"), scimUserName("sam")
	ownerID := putSCIMUser(suite.Sim, owner, "enterprise_owner", true)
	putSCIMUser(suite.Sim, guest, "guest_collaborator", true)
	putSCIMUser(suite.Sim, plain, "security_manager", true) // no entry: the map's default
	putSCIMUser(suite.Sim, gone, "billing_manager", false)
	suite.NewOrgUser(t, ns, "owner", "scim", owner)
	suite.NewOrgUser(t, ns, "guest", "scim", guest)
	suite.NewOrgUser(t, ns, "plain", "scim", plain)
	suite.NewOrgUser(t, ns, "suspended", "scim", gone)

	u := suite.WaitForCondition(t, ns, "owner", identityv1alpha1.ConditionReady, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	st := u.Status
	if st.Provider != "scim" || st.UserID != ownerID || st.Email != owner || !strings.HasSuffix(st.DisplayName, " Display") {
		t.Errorf("mirrored identity = %q %q %q %q, want scim %q %q", st.Provider, st.UserID, st.Email, st.DisplayName, ownerID, owner)
	}
	if st.Role != "Owner" || st.ProviderRole != "enterprise_owner" || st.State != "Active" {
		t.Errorf("role/providerRole/state = %s/%s/%s, want Owner/enterprise_owner/Active", st.Role, st.ProviderRole, st.State)
	}
	if st.CreatedAt == nil || !st.CreatedAt.Time.Equal(time.Date(2025, 1, 2, 9, 0, 0, 0, time.UTC)) || st.UpdatedAt == nil {
		t.Errorf("createdAt %v updatedAt %v, want meta.created and meta.lastModified", st.CreatedAt, st.UpdatedAt)
	}
	envsuite.RequireNotStalled(t, u)
	envsuite.RequireConditionsObserved(t, u)

	for name, want := range map[string][3]string{
		"guest":     {"Viewer", "guest_collaborator", "Active"},
		"plain":     {"Member", "security_manager", "Active"},
		"suspended": {"Billing", "billing_manager", "Suspended"},
	} {
		u := suite.WaitForCondition(t, ns, name, identityv1alpha1.ConditionReady, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
		if got := [3]string{u.Status.Role, u.Status.ProviderRole, u.Status.State}; got != want {
			t.Errorf("%s: role/providerRole/state = %v, want %v", name, got, want)
		}
	}

	// The role and state labels follow the status.
	envsuite.Eventually(t, envsuite.SettleTimeout, func() error {
		u := suite.GetUser(t, ns, "suspended")
		if u.Labels[identityv1alpha1.LabelRole] != "Billing" || u.Labels[identityv1alpha1.LabelState] != "Suspended" {
			return errorfNotYet("labels %v, want role Billing, state Suspended", u.Labels)
		}
		return nil
	})

	// A role changed upstream arrives with a forced refresh, as a RoleChanged event.
	suite.Sim.SetSCIMRole(owner, "billing_manager")
	value := suite.RequestRefresh(t, ns, "owner")
	u = suite.WaitForHandled(t, ns, "owner", value)
	if u.Status.Role != "Billing" || u.Status.ProviderRole != "billing_manager" {
		t.Errorf("after the upstream change: role %s providerRole %s, want Billing/billing_manager", u.Status.Role, u.Status.ProviderRole)
	}
	envsuite.Eventually(t, envsuite.SettleTimeout, func() error {
		events := suite.Events(t, ns, "owner", "RoleChanged")
		if len(events) != 1 || events[0].Note != "role changed from Owner to Billing" {
			return errorfNotYet("RoleChanged events %v", events)
		}
		return nil
	})
}

// Keys that a filter must quote and escape: each OrgUser gets its own user, never a decoy that a
// client reading "+" as a space, or forgetting to escape a quote, would find instead.
func TestSCIMAwkwardKeysFindTheRightUser(t *testing.T) {
	t.Parallel()
	ns := scimSetup(t)
	suffix := envsuite.UniqueSuffix()
	keys := map[string]string{
		"plus":      "erin+ops-" + suffix + "@example.com",
		"quote":     `o"hara-` + suffix + "@example.com",
		"backslash": `back\slash-` + suffix + "@example.com",
		"space":     "with space " + suffix,
		"unicode":   "Zoë Ünïcødé 日本 " + suffix,
	}
	ids := map[string]string{}
	for name, key := range keys {
		ids[name] = putSCIMUser(suite.Sim, key, "enterprise_owner", true)
		suite.NewOrgUser(t, ns, name, "scim", key)
	}
	// Decoys: what a server would match for a key that reached it mangled.
	putSCIMUser(suite.Sim, "erin ops-"+suffix+"@example.com", "user", true)
	putSCIMUser(suite.Sim, `o\"hara-`+suffix+"@example.com", "user", true)

	for name, key := range keys {
		u := suite.WaitForCondition(t, ns, name, identityv1alpha1.ConditionReady, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
		if u.Status.UserID != ids[name] || u.Status.Role != "Owner" {
			t.Errorf("%s (key %q): userID %q role %s, want %q Owner", name, key, u.Status.UserID, u.Status.Role, ids[name])
		}
		if n := suite.Sim.Requests(upstreamsim.ProviderSCIM, key); n < 1 {
			t.Errorf("%s: the simulator counted no request for the decoded key %q", name, key)
		}
	}
}

func TestSCIMUserNotFound(t *testing.T) {
	t.Parallel()
	ns := scimSetup(t)
	key := scimUserName("leaver")
	putSCIMUser(suite.Sim, key, "enterprise_owner", true)
	suite.NewOrgUser(t, ns, "leaver", "scim", key)
	suite.NewOrgUser(t, ns, "never", "scim", scimUserName("never"))
	suite.WaitForCondition(t, ns, "leaver", identityv1alpha1.ConditionReady, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)

	u := suite.WaitForCondition(t, ns, "never", identityv1alpha1.ConditionReady, metav1.ConditionFalse, identityv1alpha1.ReasonUserNotFound)
	suite.WaitForCondition(t, ns, "never", identityv1alpha1.ConditionStalled, metav1.ConditionTrue, identityv1alpha1.ReasonUserNotFound)
	if u.Status.State != "NotFound" || u.Status.Provider != "scim" || u.Status.UserID != "" {
		t.Errorf("never: state %q provider %q userID %q, want NotFound scim and no id", u.Status.State, u.Status.Provider, u.Status.UserID)
	}

	// A user removed upstream: an empty list answer is NotFound exactly as a 404, the mirror is
	// cleared, the state label follows, and a Warning event says so once.
	suite.Sim.DeleteUser(upstreamsim.ProviderSCIM, key)
	suite.RequestRefresh(t, ns, "leaver")
	u = suite.WaitForCondition(t, ns, "leaver", identityv1alpha1.ConditionReady, metav1.ConditionFalse, identityv1alpha1.ReasonUserNotFound)
	st := u.Status
	if st.State != "NotFound" || st.Provider != "scim" || st.UserID != "" || st.Email != "" || st.Role != "" || st.ProviderRole != "" || st.CreatedAt != nil {
		t.Errorf("after removal upstream: %+v, want a cleared mirror with provider scim", st)
	}
	envsuite.Eventually(t, envsuite.SettleTimeout, func() error {
		u := suite.GetUser(t, ns, "leaver")
		if _, has := u.Labels[identityv1alpha1.LabelRole]; has || u.Labels[identityv1alpha1.LabelState] != "NotFound" {
			return errorfNotYet("labels %v, want no role and state NotFound", u.Labels)
		}
		warnings := suite.Events(t, ns, "leaver", identityv1alpha1.ReasonUserNotFound)
		if len(warnings) != 1 || warnings[0].Type != corev1.EventTypeWarning {
			return errorfNotYet("UserNotFound events %v, want one Warning", warnings)
		}
		if changed := suite.Events(t, ns, "leaver", "StateChanged"); len(changed) != 1 {
			return errorfNotYet("StateChanged events %v, want one", changed)
		}
		return nil
	})
}

// Two upstream users answer one key: neither is mirrored as the key's user. The OrgUser is Stalled
// with AmbiguousKey until something changes; a forced refresh after the upstream is fixed syncs it.
func TestSCIMTwoMatchesAreAmbiguous(t *testing.T) {
	t.Parallel()
	ns := scimSetup(t)
	key := scimUserName("twin")
	first := putSCIMUser(suite.Sim, key, "enterprise_owner", true)
	second := putSCIMUser(suite.Sim, strings.ToUpper(key), "user", true) // userName compares ignoring case
	suite.NewOrgUser(t, ns, "twin", "scim", key)

	u := suite.WaitForCondition(t, ns, "twin", identityv1alpha1.ConditionReady, metav1.ConditionFalse, identityv1alpha1.ReasonAmbiguousKey)
	stalled := suite.WaitForCondition(t, ns, "twin", identityv1alpha1.ConditionStalled, metav1.ConditionTrue, identityv1alpha1.ReasonAmbiguousKey)
	synced := meta.FindStatusCondition(stalled.Status.Conditions, identityv1alpha1.ConditionSynced)
	if synced == nil || synced.Status != metav1.ConditionFalse || synced.Reason != identityv1alpha1.ReasonAmbiguousKey {
		t.Errorf("Synced = %s, want False/AmbiguousKey", envsuite.DescribeConditions(stalled.Status.Conditions))
	}
	ready := meta.FindStatusCondition(u.Status.Conditions, identityv1alpha1.ConditionReady)
	if !strings.Contains(ready.Message, first) || !strings.Contains(ready.Message, second) || strings.Contains(ready.Message, envsuite.GoodToken) {
		t.Errorf("message %q should name both ids, %s and %s, and no token", ready.Message, first, second)
	}
	if u.Status.UserID != "" || u.Status.Role != "" {
		t.Errorf("an ambiguous key mirrored a user: userID %q role %q", u.Status.UserID, u.Status.Role)
	}
	envsuite.RequireConditionsObserved(t, stalled)

	// The duplicate is renamed upstream; an edit of the object (here the force-refresh annotation)
	// retries and the key's one user is mirrored.
	suite.Sim.PutSCIMUser(upstreamsim.SCIMUser{ID: second, UserName: "renamed-" + key, Active: true})
	value := suite.RequestRefresh(t, ns, "twin")
	suite.WaitForHandled(t, ns, "twin", value)
	u = suite.WaitForCondition(t, ns, "twin", identityv1alpha1.ConditionReady, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	if u.Status.UserID != first || u.Status.Role != "Owner" {
		t.Errorf("after the fix: userID %q role %s, want %q Owner", u.Status.UserID, u.Status.Role, first)
	}
	envsuite.RequireNotStalled(t, u)
}

// A server that cannot filter by the key attribute (400 invalidFilter) is a provider configuration
// that cannot work: ProviderInvalidConfig, Stalled, with the server's explanation.
func TestSCIMInvalidFilterIsProviderInvalidConfig(t *testing.T) {
	t.Parallel()
	ns, own := scimOnOwnSimulator(t, func(c *identityv1alpha1.ProviderConfig) { c.SCIM.KeyAttribute = "externalId" })
	own.InjectFault(upstreamsim.ProviderSCIM, upstreamsim.Fault{Status: 400, ContentType: "application/scim+json",
		Body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","scimType":"invalidFilter",` +
			`"detail":"Filtering by externalId is not supported"}`})
	suite.NewOrgUser(t, ns, "ext", "scim", "ext-1234")

	u := suite.WaitForCondition(t, ns, "ext", identityv1alpha1.ConditionReady, metav1.ConditionFalse, identityv1alpha1.ReasonProviderInvalid)
	suite.WaitForCondition(t, ns, "ext", identityv1alpha1.ConditionStalled, metav1.ConditionTrue, identityv1alpha1.ReasonProviderInvalid)
	ready := meta.FindStatusCondition(u.Status.Conditions, identityv1alpha1.ConditionReady)
	if !strings.Contains(ready.Message, "Filtering by externalId is not supported") || !strings.Contains(ready.Message, "invalidFilter") {
		t.Errorf("message %q should carry the server's detail and scimType", ready.Message)
	}
}

// keyAttribute id looks the user up at /Users/{id}; externalId by a filter compared exactly.
func TestSCIMKeyAttributes(t *testing.T) {
	t.Parallel()
	byID := scimSetup(t, func(c *identityv1alpha1.ProviderConfig) { c.SCIM.KeyAttribute = "id" })
	byExternal := scimSetup(t, func(c *identityv1alpha1.ProviderConfig) { c.SCIM.KeyAttribute = "externalId" })
	external := "EXT-" + envsuite.UniqueSuffix()
	id := suite.Sim.PutSCIMUser(upstreamsim.SCIMUser{ID: "id/" + envsuite.UniqueSuffix(), ExternalID: external, UserName: scimUserName("keyed"),
		Active: true, Roles: []string{"enterprise_owner"}})
	suite.NewOrgUser(t, byID, "by-id", "scim", id)
	suite.NewOrgUser(t, byExternal, "by-external", "scim", external)
	suite.NewOrgUser(t, byExternal, "wrong-case", "scim", strings.ToLower(external))

	for _, c := range []struct{ ns, name string }{{byID, "by-id"}, {byExternal, "by-external"}} {
		u := suite.WaitForCondition(t, c.ns, c.name, identityv1alpha1.ConditionReady, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
		if u.Status.UserID != id || u.Status.Role != "Owner" {
			t.Errorf("%s: userID %q role %s, want %q Owner", c.name, u.Status.UserID, u.Status.Role, id)
		}
	}
	suite.WaitForCondition(t, byExternal, "wrong-case", identityv1alpha1.ConditionReady, metav1.ConditionFalse, identityv1alpha1.ReasonUserNotFound)
}

// Many OrgUsers naming one key share one upstream request.
func TestSCIMIdenticalLookupsCollapse(t *testing.T) {
	t.Parallel()
	ns := scimSetup(t)
	key := scimUserName("shared")
	putSCIMUser(suite.Sim, key, "enterprise_owner", true)
	const users = 5
	for i := range users {
		suite.NewOrgUser(t, ns, fmt.Sprintf("shared-%d", i), "scim", key)
	}
	for i := range users {
		suite.WaitForCondition(t, ns, fmt.Sprintf("shared-%d", i), identityv1alpha1.ConditionReady, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	}
	if n := suite.Sim.Requests(upstreamsim.ProviderSCIM, key); n != 1 {
		t.Errorf("%d OrgUsers of one key made %d upstream requests, want 1", users, n)
	}
}

// The egress guard holds for SCIM base URLs too.
func TestSCIMMetadataAddressIsRefused(t *testing.T) {
	t.Parallel()
	ns := scimSetup(t, func(c *identityv1alpha1.ProviderConfig) {
		c.SCIM.BaseURL = "https://169.254.169.254/scim/v2"
	})
	suite.NewOrgUser(t, ns, "probe", "scim", "alice@example.com")
	u := suite.WaitForCondition(t, ns, "probe", identityv1alpha1.ConditionSynced, metav1.ConditionFalse, identityv1alpha1.ReasonProviderUnavailable)
	synced := meta.FindStatusCondition(u.Status.Conditions, identityv1alpha1.ConditionSynced)
	const want = "get user from scim: egress guard refused to connect to 169.254.169.254: " +
		"a link-local or cloud metadata address, never allowed"
	if synced.Message != want {
		t.Errorf("Synced message %q, want %q", synced.Message, want)
	}
}

// Huge SCIM values are cut to the contract's bounds on a UTF-8 boundary.
func TestSCIMHugeValuesStayBounded(t *testing.T) {
	t.Parallel()
	ns := scimSetup(t)
	huge := strings.Repeat("é", 40<<10) // 80 KiB a value; the id is also in meta.location, percent-encoded
	key := scimUserName("huge")
	suite.Sim.PutSCIMUser(upstreamsim.SCIMUser{ID: huge, UserName: key, DisplayName: huge, Active: true, Roles: []string{huge}})
	suite.NewOrgUser(t, ns, "huge", "scim", key)

	u := suite.WaitForCondition(t, ns, "huge", identityv1alpha1.ConditionReady, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	requireCutToLimits(t, u, huge)
	if u.Status.Role != "Member" { // the map's default: no entry matches the huge value
		t.Errorf("role %q, want Member", u.Status.Role)
	}
}

// A key the scim provider cannot look up (a control character) is InvalidKey without a request.
func TestSCIMInvalidKeyMakesNoUpstreamCall(t *testing.T) {
	t.Parallel()
	ns := scimSetup(t)
	key := "tab\there-" + envsuite.UniqueSuffix()
	suite.NewOrgUser(t, ns, "tab", "scim", key)
	suite.WaitForCondition(t, ns, "tab", identityv1alpha1.ConditionStalled, metav1.ConditionTrue, identityv1alpha1.ReasonInvalidKey)
	if n := suite.Sim.Requests(upstreamsim.ProviderSCIM, key); n != 0 {
		t.Errorf("%d upstream requests for an invalid key, want 0", n)
	}
}

// The client-side token bucket keeps the provider under the upstream's own limit: with the
// simulator allowing 2 requests a second per token and the provider sending at most 1, many users
// sync without a single 429.
func TestSCIMClientRateLimitStaysUnderTheUpstreamLimit(t *testing.T) {
	t.Parallel()
	ns, own := scimOnOwnSimulator(t, func(c *identityv1alpha1.ProviderConfig) {
		c.RateLimit = &identityv1alpha1.RateLimit{RequestsPerSecond: 1, Burst: 1}
	})
	own.SetTokenRateLimit(2, 2)
	const users = 5
	for i := range users {
		key := fmt.Sprintf("paced-%d@example.com", i)
		putSCIMUser(own, key, "user", true)
		suite.NewOrgUser(t, ns, fmt.Sprintf("paced-%d", i), "scim", key)
	}
	for i := range users {
		suite.WaitForCondition(t, ns, fmt.Sprintf("paced-%d", i), identityv1alpha1.ConditionReady, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	}
	if n := own.RateLimited(); n != 0 {
		t.Errorf("the upstream answered %d requests 429; the client-side limit should have kept under it", n)
	}
}

// The upstream's own rate limit (429 with Retry-After) pauses every user of the provider, shows in
// rateLimitedUntil, and everyone syncs once it has passed, without hammering the upstream.
func TestSCIMUpstreamRateLimitPausesTheProvider(t *testing.T) {
	t.Parallel()
	ns, own := scimOnOwnSimulator(t)
	first := "first@example.com"
	putSCIMUser(own, first, "enterprise_owner", true)
	suite.NewOrgUser(t, ns, "first", "scim", first)
	suite.WaitForCondition(t, ns, "first", identityv1alpha1.ConditionReady, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)

	// One request per 4 s per token, after a burst of one: the next lookups meet 429, Retry-After 4.
	own.SetTokenRateLimit(0.25, 1)
	const users = 3
	for i := range users {
		key := fmt.Sprintf("waiting-%d@example.com", i)
		putSCIMUser(own, key, "user", true)
		suite.NewOrgUser(t, ns, fmt.Sprintf("waiting-%d", i), "scim", key)
	}
	value := suite.RequestRefresh(t, ns, "first")

	suite.WaitForOrgProvider(t, envsuite.SettleTimeout, ns, "scim", func(p *identityv1alpha1.OrgProvider) error {
		if p.Status.RateLimitedUntil == nil {
			return errorfNotYet("status.rateLimitedUntil not set (429s so far: %d)", own.RateLimited())
		}
		return nil
	})
	for i := range users {
		waitForReasonWithin(t, 2*envsuite.SettleTimeout, ns, fmt.Sprintf("waiting-%d", i), identityv1alpha1.ReasonSynced)
	}
	suite.WaitForHandled(t, ns, "first", value)
	// Every 429 starts a provider-wide pause, so the upstream sees about one per user, not one per
	// user per retry.
	if n := own.RateLimited(); n > users+2 {
		t.Errorf("the upstream answered %d requests 429 for %d waiting users; the pause was not honoured", n, users+1)
	}
	suite.WaitForOrgProvider(t, 2*envsuite.SettleTimeout, ns, "scim", func(p *identityv1alpha1.OrgProvider) error {
		if p.Status.RateLimitedUntil != nil && time.Now().After(p.Status.RateLimitedUntil.Add(time.Second)) {
			return errorfNotYet("rateLimitedUntil %s has passed and is still set", p.Status.RateLimitedUntil)
		}
		return nil
	})
}

// waitForReasonWithin is waitForReason on Ready True with a longer timeout, for users waiting out
// several upstream pauses one after the other.
func waitForReasonWithin(t *testing.T, timeout time.Duration, ns, name, reason string) {
	t.Helper()
	envsuite.Eventually(t, timeout, func() error {
		u := suite.GetUser(t, ns, name)
		c := meta.FindStatusCondition(u.Status.Conditions, identityv1alpha1.ConditionReady)
		if c == nil || c.Status != metav1.ConditionTrue || c.Reason != reason {
			return errorfNotYet("%s: %s", name, envsuite.DescribeConditions(u.Status.Conditions))
		}
		return nil
	})
}

// A scim block the CRD cannot check fully but the client refuses makes the provider InvalidConfig.
func TestSCIMProviderWithUnusableRolesIsInvalidConfig(t *testing.T) {
	t.Parallel()
	ns := suite.NewNamespace(t, "t", nil, nil)
	suite.NewSecret(t, ns, "scim-token", envsuite.GoodToken)
	cfg := scimConfig(suite.Sim)
	cfg.SCIM.Roles.Attribute = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:"
	p := suite.NewOrgProvider(t, ns, "scim", cfg)
	suite.WaitForProviderReady(t, p, func() []metav1.Condition { return p.Status.Conditions }, metav1.ConditionFalse, identityv1alpha1.ReasonInvalidConfig)
	if c := meta.FindStatusCondition(p.Status.Conditions, identityv1alpha1.ConditionReady); !strings.Contains(c.Message, "roles.attribute") {
		t.Errorf("message %q should name roles.attribute", c.Message)
	}
	suite.NewOrgUser(t, ns, "u", "scim", scimUserName("u"))
	suite.WaitForCondition(t, ns, "u", identityv1alpha1.ConditionStalled, metav1.ConditionTrue, identityv1alpha1.ReasonProviderInvalid)

	good := suite.NewOrgProvider(t, ns, "scim-good", scimConfig(suite.Sim))
	suite.WaitForProviderReady(t, good, func() []metav1.Condition { return good.Status.Conditions }, metav1.ConditionTrue, identityv1alpha1.ReasonValid)
}
