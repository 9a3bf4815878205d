package integration

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/upstreamsim"
	"github.com/orgsync/orgsync/test/envsuite"
)

// A baseURL pointing at the cloud metadata address is refused even though this manager allows
// private addresses (the simulator is on loopback), and the refusal is a readable condition.
func TestMetadataAddressIsRefusedIntoStatus(t *testing.T) {
	t.Parallel()
	ns := suite.NewNamespace(t, "t", nil, nil)
	suite.NewSecret(t, ns, "mixpeek-token", envsuite.GoodToken)
	cfg := envsuite.SimConfig(suite.Sim, upstreamsim.ProviderMixpeek, "mixpeek-token")
	cfg.Mixpeek.BaseURL = "https://169.254.169.254/latest/meta-data"
	suite.NewOrgProvider(t, ns, "metadata", cfg)
	suite.NewOrgUser(t, ns, "probe", "metadata", "alice@example.com")

	u := suite.WaitForCondition(t, ns, "probe", identityv1alpha1.ConditionSynced, metav1.ConditionFalse, identityv1alpha1.ReasonProviderUnavailable)
	ready := meta.FindStatusCondition(u.Status.Conditions, identityv1alpha1.ConditionReady)
	if ready == nil || ready.Status != metav1.ConditionFalse || ready.Reason != identityv1alpha1.ReasonProviderUnavailable {
		t.Errorf("Ready = %s, want False/ProviderUnavailable", envsuite.DescribeConditions(u.Status.Conditions))
	}
	synced := meta.FindStatusCondition(u.Status.Conditions, identityv1alpha1.ConditionSynced)
	const want = "get user from mixpeek: egress guard refused to connect to 169.254.169.254: " +
		"a link-local or cloud metadata address, never allowed"
	if synced.Message != want {
		t.Errorf("Synced message %q, want %q", synced.Message, want)
	}
	if strings.Contains(synced.Message, envsuite.GoodToken) {
		t.Errorf("message leaks the token")
	}
}

// An upstream answering values of hundreds of KiB cannot make the OrgUser, and so the manager's
// cache and every watcher's, more than a few KiB larger.
func TestHugeUpstreamValuesStayBounded(t *testing.T) {
	t.Parallel()
	ns := mixpeekSetup(t, envsuite.GoodToken)
	huge := strings.Repeat("é", 150<<10) // 300 KiB per field; the three together just under the 1 MiB body cap
	email := fmt.Sprintf("huge-%s@example.com", envsuite.UniqueSuffix())
	suite.Sim.PutMixpeekUser(upstreamsim.MixpeekUser{
		UserID: huge, Email: email, UserName: huge, Role: huge, Status: "active",
		InternalID: "int_1", OrganizationID: "org_test", CreatedAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
	})
	suite.NewOrgUser(t, ns, "huge", "mixpeek", email)

	u := suite.WaitForCondition(t, ns, "huge", identityv1alpha1.ConditionReady, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	requireCutToLimits(t, u, huge)
	if u.Status.Role != "Unknown" {
		t.Errorf("role %q, want Unknown", u.Status.Role)
	}
	object, err := json.Marshal(u)
	envsuite.Must(t, err)
	if len(object) > 8<<10 {
		t.Errorf("the OrgUser is %d bytes; an upstream answering ~900 KiB of values grew it far beyond a few KiB", len(object))
	}
	t.Logf("OrgUser mirroring a ~900 KiB answer: %d bytes of JSON", len(object))
}

// A 503 with Retry-After is honoured like a 429: the whole provider pauses, shown in
// status.rateLimitedUntil, and resumes on its own afterwards.
func TestServiceUnavailableWithRetryAfterPausesTheProvider(t *testing.T) {
	t.Parallel()
	ns, own := flashbackOnOwnSimulator(t)
	own.PutFlashbackUser(upstreamsim.FlashbackUser{ID: "m1", Name: "Mia", OrgRole: 0x00, Validated: true})
	suite.NewOrgUser(t, ns, "mia", "flashback", "m1")
	suite.WaitForCondition(t, ns, "mia", identityv1alpha1.ConditionReady, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)

	own.InjectFault(upstreamsim.ProviderFlashback, upstreamsim.Fault{Status: 503, RetryAfter: "5", Times: 1})
	asked := time.Now()
	value := suite.RequestRefresh(t, ns, "mia")

	prov := suite.WaitForOrgProvider(t, envsuite.SettleTimeout, ns, "flashback", func(p *identityv1alpha1.OrgProvider) error {
		if p.Status.RateLimitedUntil == nil {
			return errorfNotYet("status.rateLimitedUntil not set after a 503 with Retry-After")
		}
		return nil
	})
	if until := prov.Status.RateLimitedUntil.Time; until.Before(asked.Add(4 * time.Second)) {
		t.Errorf("rateLimitedUntil %s is not Retry-After (5s) after the 503 at %s", until, asked)
	}

	// After the pause the forced refresh is made, the user is synced and the pause is removed.
	suite.WaitForHandled(t, ns, "mia", value)
	suite.WaitForCondition(t, ns, "mia", identityv1alpha1.ConditionSynced, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	suite.WaitForOrgProvider(t, envsuite.SettleTimeout, ns, "flashback", func(p *identityv1alpha1.OrgProvider) error {
		if p.Status.RateLimitedUntil != nil {
			return errorfNotYet("status.rateLimitedUntil %s still set after a successful call", p.Status.RateLimitedUntil)
		}
		return nil
	})
}
