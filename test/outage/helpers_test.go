package outage

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/upstreamsim"
	"github.com/orgsync/orgsync/test/envsuite"
)

// settleTimeout bounds how long a test waits for the managers to reach a state after a disruption.
// It is longer than envsuite.SettleTimeout on purpose: recovering from a disruption takes a lease
// expiry or an API server start on a box that may be slow and shared.
const settleTimeout = 2 * time.Minute

// fixture is one OrgUser and the simulated upstream user behind it.
type fixture struct {
	name     string
	provider string // upstreamsim.ProviderMixpeek or ProviderFlashback
	key      string
}

// The OrgProviders populate creates in each namespace, one per API.
var providerObjectName = map[string]string{
	upstreamsim.ProviderMixpeek:   "mixpeek",
	upstreamsim.ProviderFlashback: "flashback",
}

// populate creates, in namespace ns, an OrgProvider (with its token Secret) per API pointing at the
// simulator, and mixpeek+flashback OrgUsers whose upstream users start with role Member; mutate may
// change each OrgUser before it is created.
func populate(t *testing.T, ns string, mixpeekUsers, flashbackUsers int, mutate ...func(*identityv1alpha1.OrgUser)) []fixture {
	t.Helper()
	for api, name := range providerObjectName {
		suite.NewProvider(t, ns, name, api, envsuite.GoodToken, nil)
	}

	created := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	fixtures := make([]fixture, 0, mixpeekUsers+flashbackUsers)
	for i := range mixpeekUsers {
		suffix := envsuite.UniqueSuffix()
		email := fmt.Sprintf("user-%s@example.com", suffix)
		suite.Sim.PutMixpeekUser(upstreamsim.MixpeekUser{
			UserID: "usr_" + suffix, Email: email, UserName: "Mixpeek User " + suffix, Role: "member", Status: "active",
			InternalID: "int_1", OrganizationID: "org_outage", CreatedAt: created, UpdatedAt: created,
		})
		fixtures = append(fixtures, fixture{name: fmt.Sprintf("mixpeek-%02d", i), provider: upstreamsim.ProviderMixpeek, key: email})
	}
	for i := range flashbackUsers {
		suffix := envsuite.UniqueSuffix()
		id := fmt.Sprintf("550e8400-e29b-41d4-a716-4466%s", suffix)
		suite.Sim.PutFlashbackUser(upstreamsim.FlashbackUser{
			ID: id, Email: "fb-" + suffix + "@example.com", Name: "Flashback", LastName: "User " + suffix,
			OrgID: "123e4567-e89b-12d3-a456-426614174000", OrgRole: upstreamsim.FlashbackRoleUser, Validated: true,
		})
		fixtures = append(fixtures, fixture{name: fmt.Sprintf("flashback-%02d", i), provider: upstreamsim.ProviderFlashback, key: id})
	}
	for _, f := range fixtures {
		suite.NewOrgUser(t, ns, f.name, providerObjectName[f.provider], f.key, mutate...)
	}
	return fixtures
}

// setUpstreamRole makes the user an admin or a member upstream; the normalized role becomes Admin
// or Member for both APIs.
func setUpstreamRole(t *testing.T, f fixture, admin bool) {
	t.Helper()
	var ok bool
	switch f.provider {
	case upstreamsim.ProviderMixpeek:
		role := "member"
		if admin {
			role = "admin"
		}
		ok = suite.Sim.SetMixpeekRole(f.key, role)
	case upstreamsim.ProviderFlashback:
		code := upstreamsim.FlashbackRoleUser
		if admin {
			code = upstreamsim.FlashbackRoleAdministrator
		}
		ok = suite.Sim.SetFlashbackRole(f.key, code)
	}
	if !ok {
		t.Fatalf("simulator has no user %s", f.key)
	}
}

func roleName(admin bool) string {
	if admin {
		return "Admin"
	}
	return "Member"
}

// names are the fixtures' OrgUser names.
func names(fixtures []fixture) []string {
	out := make([]string, 0, len(fixtures))
	for _, f := range fixtures {
		out = append(out, f.name)
	}
	return out
}

// waitSynced waits until every fixture is Ready with reason Synced, mirrors the wanted role and,
// when handled is not empty, has acknowledged that force-refresh request. It returns the users.
func waitSynced(t *testing.T, ns string, fixtures []fixture, wantRole func(fixture) string, handled string) map[string]identityv1alpha1.OrgUser {
	t.Helper()
	var users map[string]identityv1alpha1.OrgUser
	envsuite.Eventually(t, settleTimeout, func() error {
		var err error
		if users, err = suite.ListUsers(envsuite.Ctx(t), ns); err != nil {
			return err
		}
		var pending []string
		for _, f := range fixtures {
			u, ok := users[f.name]
			ready := meta.FindStatusCondition(u.Status.Conditions, identityv1alpha1.ConditionReady)
			switch {
			case !ok:
				pending = append(pending, f.name+" (missing)")
			case ready == nil || ready.Status != metav1.ConditionTrue || ready.Reason != identityv1alpha1.ReasonSynced:
				pending = append(pending, f.name+" (not Ready/Synced: "+envsuite.DescribeConditions(u.Status.Conditions)+")")
			case u.Status.Role != wantRole(f):
				pending = append(pending, fmt.Sprintf("%s (role %q, want %q)", f.name, u.Status.Role, wantRole(f)))
			case handled != "" && u.Status.LastHandledReconcileAt != handled:
				pending = append(pending, f.name+" (refresh not handled yet)")
			}
		}
		if len(pending) > 0 {
			return fmt.Errorf("%d of %d users not settled, e.g. %s", len(pending), len(fixtures), pending[0])
		}
		return nil
	})
	return users
}

// describeEvents renders counts for failure messages, sorted for stable output.
func describeEvents(counts map[string]map[string]int) string {
	var parts []string
	for name, reasons := range counts {
		for reason, n := range reasons {
			parts = append(parts, fmt.Sprintf("%s/%s×%d", name, reason, n))
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// mirroredFields is the user data a status mirrors, without conditions and bookkeeping.
func mirroredFields(s identityv1alpha1.OrgUserStatus) string {
	ts := func(t *metav1.Time) string {
		if t == nil {
			return "-"
		}
		return t.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("provider=%s userID=%s email=%s displayName=%q role=%s providerRole=%s state=%s created=%s updated=%s lastLogin=%s deleted=%s",
		s.Provider, s.UserID, s.Email, s.DisplayName, s.Role, s.ProviderRole, s.State,
		ts(s.CreatedAt), ts(s.UpdatedAt), ts(s.LastLoginAt), ts(s.DeletedAt))
}

// waitQuiet waits until no OrgUser in the namespace has changed for the quiet period, so that what
// follows starts from a settled state rather than from the tail of the previous writes.
func waitQuiet(t *testing.T, ns string, quiet time.Duration) {
	t.Helper()
	versions := func() string {
		users, err := suite.ListUsers(envsuite.Ctx(t), ns)
		envsuite.Must(t, err)
		parts := make([]string, 0, len(users))
		for name, u := range users {
			parts = append(parts, name+"="+u.ResourceVersion)
		}
		sort.Strings(parts)
		return strings.Join(parts, ",")
	}
	last, since := versions(), time.Now()
	deadline := time.Now().Add(settleTimeout)
	for time.Since(since) < quiet {
		if time.Now().After(deadline) {
			t.Fatalf("OrgUsers in %s kept changing for %s", ns, settleTimeout)
		}
		time.Sleep(250 * time.Millisecond)
		if now := versions(); now != last {
			last, since = now, time.Now()
		}
	}
}
