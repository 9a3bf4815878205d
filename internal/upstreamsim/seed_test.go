package upstreamsim

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

func TestSeedDemoServesEveryListedUser(t *testing.T) {
	s := New()
	token := SeedDemo(s)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	client := trustingClient(t, s)

	dnsLabel := regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	names := map[string]bool{}
	for _, user := range DemoUsers() {
		if !dnsLabel.MatchString(user.Name) || names[user.Name] {
			t.Errorf("demo name %q is not a unique DNS label", user.Name)
		}
		names[user.Name] = true

		object := demoUserObject(t, client, s, user, token)
		email, _ := object["email"].(string)
		if user.Provider == ProviderSCIM {
			email = scimPrimaryEmail(object)
		}
		if !strings.HasSuffix(email, "@example.com") {
			t.Errorf("%s: email %q is not an example.com address", user.Name, email)
		}
	}
}

func TestSeedDemoCoversEveryRoleAndState(t *testing.T) {
	s := New()
	token := SeedDemo(s)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	client := trustingClient(t, s)

	seen := map[string]bool{}
	for _, user := range DemoUsers() {
		switch user.Provider {
		case ProviderMixpeek:
			object := decodeObject(t, get(t, client, s, mixpeekPath+user.Key, token).body)
			seen["mixpeek role "+object["role"].(string)] = true
			seen["mixpeek status "+object["status"].(string)] = true
			if object["last_login"] == nil {
				seen["mixpeek null last_login"] = true
			}
			if strings.Contains(user.Key, "+") {
				seen["mixpeek key needing escaping"] = true
			}
		case ProviderFlashback:
			object := decodeObject(t, get(t, client, s, flashbackPath+user.Key, token).body)
			code := object["orgRole"].(json.Number).String()
			seen["flashback code "+code] = true
			if _, described := object["orgRoleDescription"]; !described {
				seen["flashback code without description "+code] = true
			}
			if object["validated"] == false && object["deletedAt"] == nil {
				seen["flashback unvalidated"] = true
			}
			if object["validated"] == false && object["deletedAt"] != nil {
				seen["flashback deleted and unvalidated"] = true
			}
		case ProviderSCIM:
			object := demoUserObject(t, client, s, user, token)
			roles := scimRoleValues(object)
			if len(roles) != 1 {
				t.Errorf("%s: roles %v, want one value", user.Name, roles)
				continue
			}
			role := roles[0]
			seen["scim role "+role] = true
			if object["active"] == false {
				seen["scim inactive"] = true
			}
			if strings.ContainsAny(user.Key, "+") && strings.ToLower(user.Key) != user.Key {
				seen["scim mixed-case key needing escaping"] = true
			}
			if want := demoSCIMRole(role); want != user.Role {
				t.Errorf("%s: roles value %q maps to %q with DemoSCIMRoles, but DemoUsers expects %q", user.Name, role, want, user.Role)
			}
		default:
			t.Errorf("demo user %q has provider %q", user.Name, user.Provider)
		}
		seen["expected role "+user.Role] = true
		seen["expected state "+user.State] = true
	}

	for _, want := range []string{
		"mixpeek role admin", "mixpeek role member", "mixpeek role viewer", "mixpeek role owner",
		"mixpeek status active", "mixpeek status suspended", "mixpeek status pending",
		"mixpeek null last_login", "mixpeek key needing escaping",
		"flashback code 255", "flashback code 254", "flashback code 2", "flashback code 1", "flashback code 0",
		"flashback code 3", "flashback code without description 3",
		"flashback unvalidated", "flashback deleted and unvalidated",
		"scim role enterprise_owner", "scim role billing_manager", "scim role user", "scim role guest_collaborator",
		"scim role security_manager", "scim inactive", "scim mixed-case key needing escaping",
		"expected role Owner", "expected role Admin", "expected role Manager", "expected role Billing",
		"expected role Member", "expected role Viewer", "expected role Unknown",
		"expected state Active", "expected state Suspended", "expected state Pending", "expected state Deleted",
	} {
		if !seen[want] {
			t.Errorf("demo data lacks: %s", want)
		}
	}
}

// demoUserObject is the user object the upstream answers for a demo user: the body of a Mixpeek or
// Flashback GET, the one resource of a SCIM userName lookup.
func demoUserObject(t *testing.T, client *http.Client, s *Server, user DemoUser, token string) map[string]any {
	t.Helper()
	switch user.Provider {
	case ProviderSCIM:
		list := decodeSCIMList(t, get(t, client, s, scimFilterPath(t, "userName", user.Key), token))
		if list.totalResults != 1 || len(list.resources) != 1 {
			t.Fatalf("%s: userName lookup found %d users, want 1", user.Name, list.totalResults)
		}
		return list.resources[0]
	default:
		prefix := map[string]string{ProviderMixpeek: mixpeekPath, ProviderFlashback: flashbackPath}[user.Provider]
		got := get(t, client, s, prefix+user.Key, token)
		wantStatus(t, got, http.StatusOK)
		return decodeObject(t, got.body)
	}
}

// demoSCIMRole is the normalized role DemoSCIMRoles gives a roles value, Unknown when none.
func demoSCIMRole(value string) string {
	for _, mapping := range DemoSCIMRoles() {
		if mapping.Value == value {
			return mapping.Role
		}
	}
	return "Unknown"
}

func TestDemoUsersOfKeepsOnlyTheNamedProvidersInOrder(t *testing.T) {
	var want []DemoUser
	for _, user := range DemoUsers() {
		if user.Provider != ProviderSCIM {
			want = append(want, user)
		}
	}
	got := DemoUsersOf(ProviderMixpeek, ProviderFlashback)
	if len(got) != len(want) || len(got) == 0 {
		t.Fatalf("DemoUsersOf(mixpeek, flashback) has %d users, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("user %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if scim := DemoUsersOf(ProviderSCIM); len(scim) != len(demoSCIMUsers()) {
		t.Errorf("DemoUsersOf(scim) has %d users, want %d", len(scim), len(demoSCIMUsers()))
	}
}
