package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/upstreamsim"
	"github.com/orgsync/orgsync/test/envsuite"
)

func TestMixpeekUserIsMirrored(t *testing.T) {
	t.Parallel()
	ns := mixpeekSetup(t, envsuite.GoodToken)
	email := envsuite.PutMixpeekUser(suite.Sim, "admin", "active")
	suite.NewOrgUser(t, ns, "alice", "mixpeek", email)

	user := suite.WaitForCondition(t, ns, "alice", identityv1alpha1.ConditionReady, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	st := user.Status
	if st.Provider != "mixpeek" || st.Email != email || st.DisplayName != "Test User" || !strings.HasPrefix(st.UserID, "usr_") {
		t.Errorf("mirrored identity = %q %q %q %q", st.Provider, st.Email, st.DisplayName, st.UserID)
	}
	if st.Role != "Admin" || st.ProviderRole != "admin" || st.State != "Active" {
		t.Errorf("role/providerRole/state = %s/%s/%s, want Admin/admin/Active", st.Role, st.ProviderRole, st.State)
	}
	if st.CreatedAt == nil || !st.CreatedAt.Equal(&metav1.Time{Time: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}) {
		t.Errorf("createdAt = %v", st.CreatedAt)
	}
	if st.UpdatedAt == nil || st.LastLoginAt == nil || st.DeletedAt != nil {
		t.Errorf("timestamps: updatedAt %v lastLoginAt %v deletedAt %v", st.UpdatedAt, st.LastLoginAt, st.DeletedAt)
	}
	suite.WaitForCondition(t, ns, "alice", identityv1alpha1.ConditionSynced, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	envsuite.RequireNotStalled(t, user)
	envsuite.RequireConditionsObserved(t, user)
}

func TestFlashbackUsersAreMirrored(t *testing.T) {
	t.Parallel()
	ns := suite.NewNamespace(t, "t", nil, nil)
	suite.NewSecret(t, ns, "fb", envsuite.GoodToken)
	suite.NewOrgProvider(t, ns, "flashback", envsuite.SimConfig(suite.Sim, upstreamsim.ProviderFlashback, "fb"))
	deletedAt := time.Date(2025, 6, 1, 8, 30, 0, 0, time.UTC)
	admin, deleted, odd := "fb-"+envsuite.UniqueSuffix(), "fb-"+envsuite.UniqueSuffix()+"/x", "fb-"+envsuite.UniqueSuffix()
	suite.Sim.PutFlashbackUser(upstreamsim.FlashbackUser{ID: admin, Email: "a@example.com", Name: "Ada", LastName: "Lovelace", OrgRole: 0xfe, Validated: true})
	suite.Sim.PutFlashbackUser(upstreamsim.FlashbackUser{ID: deleted, Email: "d@example.com", Name: "Dee", OrgRole: 0x00, Validated: false, DeletedAt: &deletedAt})
	suite.Sim.PutFlashbackUser(upstreamsim.FlashbackUser{ID: odd, Email: "o@example.com", Name: "Odd", OrgRole: 0x03, Validated: true})
	suite.NewOrgUser(t, ns, "admin", "flashback", admin)
	suite.NewOrgUser(t, ns, "deleted", "flashback", deleted)
	suite.NewOrgUser(t, ns, "odd", "flashback", odd)

	u := suite.WaitForCondition(t, ns, "admin", identityv1alpha1.ConditionReady, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	if u.Status.Role != "Admin" || u.Status.ProviderRole != "ADMINISTRATOR" || u.Status.State != "Active" || u.Status.DisplayName != "Ada Lovelace" || u.Status.Provider != "flashback" {
		t.Errorf("admin: %+v", u.Status)
	}
	u = suite.WaitForCondition(t, ns, "deleted", identityv1alpha1.ConditionReady, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	if u.Status.State != "Deleted" || u.Status.DeletedAt == nil || !u.Status.DeletedAt.Time.Equal(deletedAt) || u.Status.DisplayName != "Dee" {
		t.Errorf("deleted (id with a slash): state %s deletedAt %v displayName %q", u.Status.State, u.Status.DeletedAt, u.Status.DisplayName)
	}
	u = suite.WaitForCondition(t, ns, "odd", identityv1alpha1.ConditionReady, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	if u.Status.Role != "Unknown" || u.Status.ProviderRole != "0x03" {
		t.Errorf("unknown code: role %s providerRole %s, want Unknown/0x03", u.Status.Role, u.Status.ProviderRole)
	}
}

func TestUserNotFoundClearsTheMirror(t *testing.T) {
	t.Parallel()
	ns := mixpeekSetup(t, envsuite.GoodToken)
	email := envsuite.PutMixpeekUser(suite.Sim, "member", "active")
	suite.NewOrgUser(t, ns, "bob", "mixpeek", email)
	suite.WaitForCondition(t, ns, "bob", identityv1alpha1.ConditionReady, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)

	suite.Sim.DeleteUser(upstreamsim.ProviderMixpeek, email)
	suite.RequestRefresh(t, ns, "bob")

	u := suite.WaitForCondition(t, ns, "bob", identityv1alpha1.ConditionReady, metav1.ConditionFalse, identityv1alpha1.ReasonUserNotFound)
	suite.WaitForCondition(t, ns, "bob", identityv1alpha1.ConditionStalled, metav1.ConditionTrue, identityv1alpha1.ReasonUserNotFound)
	st := u.Status
	if st.State != "NotFound" || st.Provider != "mixpeek" {
		t.Errorf("state %q provider %q, want NotFound/mixpeek", st.State, st.Provider)
	}
	if st.UserID != "" || st.Email != "" || st.DisplayName != "" || st.Role != "" || st.ProviderRole != "" ||
		st.CreatedAt != nil || st.UpdatedAt != nil || st.LastLoginAt != nil || st.DeletedAt != nil {
		t.Errorf("mirrored fields not cleared: %+v", st)
	}
	envsuite.Eventually(t, envsuite.SettleTimeout, func() error {
		return expectEventMessage(t, ns, "bob", "StateChanged", "state changed from Active to NotFound")
	})
}

func TestForceRefreshPicksUpARoleChangeAndRecordsAnEvent(t *testing.T) {
	t.Parallel()
	ns := mixpeekSetup(t, envsuite.GoodToken)
	email := envsuite.PutMixpeekUser(suite.Sim, "member", "active")
	suite.NewOrgUser(t, ns, "carol", "mixpeek", email)
	suite.WaitForCondition(t, ns, "carol", identityv1alpha1.ConditionReady, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	if n := len(suite.Events(t, ns, "carol", "RoleChanged")); n != 0 {
		t.Fatalf("first sync recorded %d RoleChanged events, want none", n)
	}

	suite.Sim.SetMixpeekRole(email, "admin")
	value := suite.RequestRefresh(t, ns, "carol")
	u := suite.WaitForHandled(t, ns, "carol", value)
	if u.Status.Role != "Admin" {
		t.Errorf("role after forced refresh = %s, want Admin", u.Status.Role)
	}
	envsuite.Eventually(t, envsuite.SettleTimeout, func() error {
		return expectEventMessage(t, ns, "carol", "RoleChanged", "role changed from Member to Admin")
	})
}

func TestForcedRefreshThatFailsIsStillAcknowledged(t *testing.T) {
	t.Parallel()
	ns := mixpeekSetup(t, envsuite.GoodToken)
	email := envsuite.PutMixpeekUser(suite.Sim, "viewer", "active")
	suite.NewOrgUser(t, ns, "dave", "mixpeek", email)
	suite.WaitForCondition(t, ns, "dave", identityv1alpha1.ConditionReady, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)

	suite.Sim.DeleteUser(upstreamsim.ProviderMixpeek, email)
	value := suite.RequestRefresh(t, ns, "dave")
	u := suite.WaitForHandled(t, ns, "dave", value)
	if u.Status.State != "NotFound" {
		t.Errorf("state = %s, want NotFound: the acknowledged refresh should carry the failure", u.Status.State)
	}
}

func expectEventMessage(t *testing.T, ns, name, reason, message string) error {
	t.Helper()
	for _, e := range suite.Events(t, ns, name, reason) {
		if e.Note == message && e.Type == "Normal" {
			return nil
		}
	}
	return fmt.Errorf("no Normal %s event %q for %s/%s", reason, message, ns, name)
}
