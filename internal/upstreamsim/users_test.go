package upstreamsim

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

func TestRoleChangeIsVisibleOnTheNextGET(t *testing.T) {
	s := startServer(t)
	client := trustingClient(t, s)
	created := mustTime(t, "2025-01-01T00:00:00Z")
	s.PutMixpeekUser(MixpeekUser{Email: "bob@example.com", Role: "member", CreatedAt: created, UpdatedAt: created})
	s.PutFlashbackUser(FlashbackUser{ID: "u1", OrgRole: FlashbackRoleUser})

	if !s.SetMixpeekRole("bob@example.com", "admin") {
		t.Fatal("SetMixpeekRole reported a missing user")
	}
	mixpeek := decodeObject(t, get(t, client, s, mixpeekPath+"bob@example.com", testToken).body)
	if mixpeek["role"] != "admin" {
		t.Errorf("Mixpeek role = %v, want admin", mixpeek["role"])
	}
	if mixpeek["updated_at"] == "2025-01-01T00:00:00Z" {
		t.Error("Mixpeek updated_at did not move with the role change")
	}

	if !s.SetFlashbackRole("u1", FlashbackRoleAdministrator) {
		t.Fatal("SetFlashbackRole reported a missing user")
	}
	flashback := decodeObject(t, get(t, client, s, flashbackPath+"u1", testToken).body)
	if flashback["orgRole"] != json.Number("254") {
		t.Errorf("Flashback orgRole = %v, want 254", flashback["orgRole"])
	}
	if flashback["orgRoleDescription"] != "ADMINISTRATOR" {
		t.Errorf("Flashback orgRoleDescription = %v, want ADMINISTRATOR", flashback["orgRoleDescription"])
	}
}

func TestSetRoleOfMissingUserReportsFalse(t *testing.T) {
	s := New()
	if s.SetMixpeekRole("nobody@example.com", "admin") {
		t.Error("SetMixpeekRole = true for a missing user")
	}
	if s.SetFlashbackRole("nobody", FlashbackRoleOwner) {
		t.Error("SetFlashbackRole = true for a missing user")
	}
}

func TestDeleteUserThenKeyAnswers404(t *testing.T) {
	s := startServer(t)
	client := trustingClient(t, s)
	s.PutMixpeekUser(MixpeekUser{Email: "alice@example.com"})
	s.PutFlashbackUser(FlashbackUser{ID: "u1"})

	s.DeleteUser(ProviderMixpeek, "alice@example.com")
	s.DeleteUser(ProviderFlashback, "u1")

	wantStatus(t, get(t, client, s, mixpeekPath+"alice@example.com", testToken), http.StatusNotFound)
	wantStatus(t, get(t, client, s, flashbackPath+"u1", testToken), http.StatusNotFound)
}

func TestPutCopiesTheCallersValue(t *testing.T) {
	s := startServer(t)
	client := trustingClient(t, s)
	deletedAt := mustTime(t, "2025-04-18T16:40:00Z")
	user := FlashbackUser{ID: "u1", OrgRoles: []int{0, 1}, DeletedAt: &deletedAt}
	s.PutFlashbackUser(user)

	user.OrgRoles[0] = 99
	deletedAt = deletedAt.Add(time.Hour)

	got := get(t, client, s, flashbackPath+"u1", testToken)
	object := decodeObject(t, got.body)
	if object["deletedAt"] != "2025-04-18T16:40:00Z" {
		t.Errorf("deletedAt = %v, changed through the caller's pointer", object["deletedAt"])
	}
	if roles, _ := object["orgRoles"].([]any); len(roles) != 2 || roles[0] != json.Number("0") {
		t.Errorf("orgRoles = %v, changed through the caller's slice", roles)
	}
}

func TestCountersCountEveryRoutedRequest(t *testing.T) {
	s := startServer(t)
	client := trustingClient(t, s)
	s.PutMixpeekUser(MixpeekUser{Email: "alice@example.com"})

	get(t, client, s, mixpeekPath+"alice@example.com", testToken)       // 200
	get(t, client, s, mixpeekPath+"alice@example.com", "")              // 401
	get(t, client, s, mixpeekPath+"alice%40example.com", testForbidden) // 403, same key escaped
	s.InjectFault(ProviderMixpeek, Fault{Status: http.StatusInternalServerError, Times: 1})
	get(t, client, s, mixpeekPath+"alice@example.com", testToken) // faulted
	get(t, client, s, flashbackPath+"missing", testToken)         // 404
	get(t, client, s, "/not/a/route", testToken)                  // not counted

	if n := s.Requests(ProviderMixpeek, "alice@example.com"); n != 4 {
		t.Errorf("Requests(mixpeek, alice) = %d, want 4", n)
	}
	if n := s.Requests(ProviderFlashback, "missing"); n != 1 {
		t.Errorf("Requests(flashback, missing) = %d, want 1", n)
	}
	if n := s.Requests(ProviderFlashback, "alice@example.com"); n != 0 {
		t.Errorf("Requests(flashback, alice) = %d, want 0: counters are per provider", n)
	}
	if n := s.TotalRequests(); n != 5 {
		t.Errorf("TotalRequests() = %d, want 5", n)
	}

	s.ResetCounters()
	if s.TotalRequests() != 0 || s.Requests(ProviderMixpeek, "alice@example.com") != 0 {
		t.Error("ResetCounters left counts behind")
	}
}
