package integration

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/upstreamsim"
	"github.com/orgsync/orgsync/test/envsuite"
)

// Faults in the simulator apply to a whole provider API, so tests that inject them use Flashback
// users on a simulator of their own.
func flashbackOnOwnSimulator(t *testing.T) (ns string, own *upstreamsim.Server) {
	t.Helper()
	own = upstreamsim.New()
	envsuite.Must(t, own.Start())
	t.Cleanup(own.Close)
	own.AllowToken(envsuite.GoodToken)
	ns = suite.NewNamespace(t, "t", nil, nil)
	suite.NewSecret(t, ns, "fb", envsuite.GoodToken)
	cfg := identityv1alpha1.ProviderConfig{
		Flashback: &identityv1alpha1.FlashbackProvider{BaseURL: own.URL()},
		Auth:      identityv1alpha1.ProviderAuth{SecretRef: identityv1alpha1.SecretKeyReference{Name: "fb"}},
		CABundle:  own.CABundle(),
	}
	suite.NewOrgProvider(t, ns, "flashback", cfg)
	return ns, own
}

func TestTransientFailureOnFirstSync(t *testing.T) {
	t.Parallel()
	ns, own := flashbackOnOwnSimulator(t)
	own.PutFlashbackUser(upstreamsim.FlashbackUser{ID: "u1", Name: "Una", OrgRole: 0x01, Validated: true})
	own.InjectFault(upstreamsim.ProviderFlashback, upstreamsim.Fault{Status: 503})
	suite.NewOrgUser(t, ns, "una", "flashback", "u1")

	u := suite.WaitForCondition(t, ns, "una", identityv1alpha1.ConditionReady, metav1.ConditionFalse, identityv1alpha1.ReasonProviderUnavailable)
	suite.WaitForCondition(t, ns, "una", identityv1alpha1.ConditionSynced, metav1.ConditionFalse, identityv1alpha1.ReasonProviderUnavailable)
	envsuite.RequireNotStalled(t, u)

	// Backoff retries on its own; once the upstream recovers the user syncs without any nudge.
	own.ClearFaults()
	u = suite.WaitForCondition(t, ns, "una", identityv1alpha1.ConditionReady, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	if u.Status.Role != "Billing" {
		t.Errorf("role = %s, want Billing", u.Status.Role)
	}
}

func TestTransientFailureKeepsASyncedUserReady(t *testing.T) {
	t.Parallel()
	ns, own := flashbackOnOwnSimulator(t)
	own.PutFlashbackUser(upstreamsim.FlashbackUser{ID: "u2", Name: "Vic", OrgRole: 0xff, Validated: true})
	suite.NewOrgUser(t, ns, "vic", "flashback", "u2")
	suite.WaitForCondition(t, ns, "vic", identityv1alpha1.ConditionReady, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)

	own.InjectFault(upstreamsim.ProviderFlashback, upstreamsim.Fault{Status: 500})
	value := suite.RequestRefresh(t, ns, "vic")
	u := suite.WaitForHandled(t, ns, "vic", value)
	if c := findCondition(u, identityv1alpha1.ConditionSynced); c.Status != metav1.ConditionFalse || c.Reason != identityv1alpha1.ReasonProviderUnavailable {
		t.Errorf("Synced = %s/%s, want False/ProviderUnavailable", c.Status, c.Reason)
	}
	if c := findCondition(u, identityv1alpha1.ConditionReady); c.Status != metav1.ConditionTrue {
		t.Errorf("Ready = %s/%s, want True while the data is fresh", c.Status, c.Reason)
	}
	if u.Status.Role != "Owner" {
		t.Errorf("role = %q, want the mirrored Owner kept", u.Status.Role)
	}
	envsuite.RequireNotStalled(t, u)
}

func TestSyncedUserTurnsStaleAfterThreeRefreshIntervals(t *testing.T) {
	t.Parallel()
	ns, own := flashbackOnOwnSimulator(t)
	own.PutFlashbackUser(upstreamsim.FlashbackUser{ID: "u3", Name: "Wes", OrgRole: 0x00, Validated: true})
	suite.NewOrgUser(t, ns, "wes", "flashback", "u3", func(u *identityv1alpha1.OrgUser) {
		u.Spec.RefreshInterval = &metav1.Duration{Duration: 10 * time.Second}
	})
	suite.WaitForCondition(t, ns, "wes", identityv1alpha1.ConditionReady, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	own.InjectFault(upstreamsim.ProviderFlashback, upstreamsim.Fault{Status: 502})

	// 3 × 10s of failures, then Ready False Stale; the data stays mirrored.
	envsuite.Eventually(t, 60*time.Second, func() error {
		u := suite.GetUser(t, ns, "wes")
		if c := findCondition(u, identityv1alpha1.ConditionReady); c.Reason != identityv1alpha1.ReasonStale || c.Status != metav1.ConditionFalse {
			return errorfNotYet("Ready = %s/%s", c.Status, c.Reason)
		}
		if u.Status.Role != "Member" {
			return errorfNotYet("role %q should stay mirrored", u.Status.Role)
		}
		return nil
	})
}

// A 429 pauses the whole provider and is recorded once, on the provider. Users whose data is still
// fresh are not written at all, and users that would call during the pause wait without a request.
func TestRateLimitPausesTheWholeProvider(t *testing.T) {
	t.Parallel()
	ns, own := flashbackOnOwnSimulator(t)
	own.PutFlashbackUser(upstreamsim.FlashbackUser{ID: "r1", Name: "Rae", OrgRole: 0x00, Validated: true})
	own.PutFlashbackUser(upstreamsim.FlashbackUser{ID: "r2", Name: "Roy", OrgRole: 0x00, Validated: true})
	suite.NewOrgUser(t, ns, "rae", "flashback", "r1")
	synced := suite.WaitForCondition(t, ns, "rae", identityv1alpha1.ConditionReady, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)

	own.InjectFault(upstreamsim.ProviderFlashback, upstreamsim.Fault{Status: 429, RetryAfter: "6", Times: 1})
	value := suite.RequestRefresh(t, ns, "rae")

	prov := suite.WaitForOrgProvider(t, envsuite.SettleTimeout, ns, "flashback", func(p *identityv1alpha1.OrgProvider) error {
		if p.Status.RateLimitedUntil == nil {
			return errorfNotYet("status.rateLimitedUntil not set")
		}
		return nil
	})
	// The user who forced the refresh gets its answer: acknowledged, the 429 in Synced, still Ready.
	suite.WaitForHandled(t, ns, "rae", value)
	if time.Now().Before(prov.Status.RateLimitedUntil.Time) {
		u := suite.GetUser(t, ns, "rae")
		ready := meta.FindStatusCondition(u.Status.Conditions, identityv1alpha1.ConditionReady)
		syncedCond := meta.FindStatusCondition(u.Status.Conditions, identityv1alpha1.ConditionSynced)
		if ready.Status != metav1.ConditionTrue || syncedCond.Status != metav1.ConditionFalse ||
			syncedCond.Reason != identityv1alpha1.ReasonProviderUnavailable {
			t.Errorf("forced refresh answered 429: Ready %s, Synced %s/%s; want Ready True, Synced False/ProviderUnavailable",
				ready.Status, syncedCond.Status, syncedCond.Reason)
		}
		if u.Status.UserID != synced.Status.UserID || u.Status.Role != synced.Status.Role {
			t.Errorf("mirror of a fresh user changed by a 429: %+v", u.Status)
		}
	}

	// Another user of the same provider waits too: no request reaches the upstream during the pause,
	// and nothing is written for it (a wait is not a failure).
	suite.NewOrgUser(t, ns, "roy", "flashback", "r2")
	time.Sleep(time.Second)
	if time.Now().Before(prov.Status.RateLimitedUntil.Time) {
		if n := own.Requests(upstreamsim.ProviderFlashback, "r2"); n != 0 {
			t.Errorf("simulator saw %d requests for r2 during the pause, want 0", n)
		}
		if u := suite.GetUser(t, ns, "roy"); len(u.Status.Conditions) != 0 {
			t.Errorf("user waiting out the pause has conditions %v, want none written", u.Status.Conditions)
		}
	}

	// After Retry-After both sync, and rateLimitedUntil is removed.
	suite.WaitForCondition(t, ns, "roy", identityv1alpha1.ConditionReady, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	suite.WaitForCondition(t, ns, "rae", identityv1alpha1.ConditionSynced, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	suite.WaitForOrgProvider(t, envsuite.SettleTimeout, ns, "flashback", func(p *identityv1alpha1.OrgProvider) error {
		if p.Status.RateLimitedUntil != nil {
			return errorfNotYet("rateLimitedUntil still %s", p.Status.RateLimitedUntil)
		}
		return nil
	})
}
