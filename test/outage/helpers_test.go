package outage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/upstreamsim"
)

// settleTimeout bounds how long a test waits for the managers to reach a state after a disruption.
// It is generous on purpose: the box running the tests may be slow and shared.
const settleTimeout = 2 * time.Minute

func ctxFor(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func uniqueSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// eventually polls check until it returns nil or the timeout passes, then fails with the last error.
func eventually(t *testing.T, timeout time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not reached within %s: %v", timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func newNamespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "outage-" + uniqueSuffix()}}
	must(t, k8s.Create(ctxFor(t), ns))
	return ns.Name
}

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

// populate creates, in namespace ns, a token Secret, an OrgProvider per API pointing at the
// simulator, and mixpeek+flashback OrgUsers whose upstream users start with role Member.
func populate(t *testing.T, ns string, mixpeekUsers, flashbackUsers int) []fixture {
	t.Helper()
	ctx := ctxFor(t)
	must(t, k8s.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "token"},
		Data:       map[string][]byte{"token": []byte(goodToken)},
	}))
	for api, name := range providerObjectName {
		cfg := identityv1alpha1.ProviderConfig{
			Auth:     identityv1alpha1.ProviderAuth{SecretRef: identityv1alpha1.SecretKeyReference{Name: "token"}},
			CABundle: sim.CABundle(),
		}
		if api == upstreamsim.ProviderMixpeek {
			cfg.Mixpeek = &identityv1alpha1.MixpeekProvider{BaseURL: sim.URL()}
		} else {
			cfg.Flashback = &identityv1alpha1.FlashbackProvider{BaseURL: sim.URL()}
		}
		must(t, k8s.Create(ctx, &identityv1alpha1.OrgProvider{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec:       identityv1alpha1.OrgProviderSpec{ProviderConfig: cfg},
		}))
	}

	created := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	fixtures := make([]fixture, 0, mixpeekUsers+flashbackUsers)
	for i := range mixpeekUsers {
		suffix := uniqueSuffix()
		email := fmt.Sprintf("user-%s@example.com", suffix)
		sim.PutMixpeekUser(upstreamsim.MixpeekUser{
			UserID: "usr_" + suffix, Email: email, UserName: "Mixpeek User " + suffix, Role: "member", Status: "active",
			InternalID: "int_1", OrganizationID: "org_outage", CreatedAt: created, UpdatedAt: created,
		})
		fixtures = append(fixtures, fixture{name: fmt.Sprintf("mixpeek-%02d", i), provider: upstreamsim.ProviderMixpeek, key: email})
	}
	for i := range flashbackUsers {
		suffix := uniqueSuffix()
		id := fmt.Sprintf("550e8400-e29b-41d4-a716-4466%s", suffix)
		sim.PutFlashbackUser(upstreamsim.FlashbackUser{
			ID: id, Email: "fb-" + suffix + "@example.com", Name: "Flashback", LastName: "User " + suffix,
			OrgID: "123e4567-e89b-12d3-a456-426614174000", OrgRole: upstreamsim.FlashbackRoleUser, Validated: true,
		})
		fixtures = append(fixtures, fixture{name: fmt.Sprintf("flashback-%02d", i), provider: upstreamsim.ProviderFlashback, key: id})
	}
	for _, f := range fixtures {
		must(t, k8s.Create(ctx, &identityv1alpha1.OrgUser{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: f.name},
			Spec: identityv1alpha1.OrgUserSpec{
				ProviderRef: identityv1alpha1.ProviderReference{Name: providerObjectName[f.provider]},
				Key:         f.key,
			},
		}))
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
		ok = sim.SetMixpeekRole(f.key, role)
	case upstreamsim.ProviderFlashback:
		code := upstreamsim.FlashbackRoleUser
		if admin {
			code = upstreamsim.FlashbackRoleAdministrator
		}
		ok = sim.SetFlashbackRole(f.key, code)
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

// forceRefresh asks for an immediate upstream read of each user and returns the request value.
func forceRefresh(t *testing.T, ns string, fixtures []fixture) string {
	t.Helper()
	value := time.Now().UTC().Format(time.RFC3339Nano)
	patch := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:%q}}}`, identityv1alpha1.ReconcileRequestedAnnotation, value)
	for _, f := range fixtures {
		u := &identityv1alpha1.OrgUser{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: f.name}}
		must(t, k8s.Patch(ctxFor(t), u, client.RawPatch("application/merge-patch+json", patch)))
	}
	return value
}

// listUsers returns the namespace's OrgUsers by name.
func listUsers(ctx context.Context, ns string) (map[string]identityv1alpha1.OrgUser, error) {
	list := &identityv1alpha1.OrgUserList{}
	if err := k8s.List(ctx, list, client.InNamespace(ns)); err != nil {
		return nil, err
	}
	out := make(map[string]identityv1alpha1.OrgUser, len(list.Items))
	for _, u := range list.Items {
		out[u.Name] = u
	}
	return out, nil
}

// waitSynced waits until every fixture is Ready with reason Synced, mirrors the wanted role and,
// when handled is not empty, has acknowledged that force-refresh request. It returns the users.
func waitSynced(t *testing.T, ns string, fixtures []fixture, wantRole func(fixture) string, handled string) map[string]identityv1alpha1.OrgUser {
	t.Helper()
	var users map[string]identityv1alpha1.OrgUser
	eventually(t, settleTimeout, func() error {
		var err error
		if users, err = listUsers(ctxFor(t), ns); err != nil {
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
				pending = append(pending, f.name+" (not Ready/Synced: "+describeConditions(u.Status.Conditions)+")")
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

func describeConditions(conds []metav1.Condition) string {
	parts := make([]string, 0, len(conds))
	for _, c := range conds {
		parts = append(parts, fmt.Sprintf("%s=%s/%s", c.Type, c.Status, c.Reason))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// eventCounts counts the events.k8s.io Events per regarding-object name and reason. A repeated
// event is one Event object whose series counts the repetitions, so the series count is used.
func eventCounts(t *testing.T, ns string) map[string]map[string]int {
	t.Helper()
	list := &eventsv1.EventList{}
	must(t, k8s.List(ctxFor(t), list, client.InNamespace(ns)))
	out := map[string]map[string]int{}
	for _, e := range list.Items {
		if e.Regarding.Kind != "OrgUser" {
			continue
		}
		n := 1
		if e.Series != nil && int(e.Series.Count) > n {
			n = int(e.Series.Count)
		}
		if out[e.Regarding.Name] == nil {
			out[e.Regarding.Name] = map[string]int{}
		}
		out[e.Regarding.Name][e.Reason] += n
	}
	return out
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
		users, err := listUsers(ctxFor(t), ns)
		must(t, err)
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
