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

		prefix := map[string]string{ProviderMixpeek: mixpeekPath, ProviderFlashback: flashbackPath}[user.Provider]
		got := get(t, client, s, prefix+user.Key, token)
		wantStatus(t, got, http.StatusOK)
		object := decodeObject(t, got.body)
		if email, _ := object["email"].(string); !strings.HasSuffix(email, "@example.com") {
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
		"expected role Owner", "expected role Admin", "expected role Manager", "expected role Billing",
		"expected role Member", "expected role Viewer", "expected role Unknown",
		"expected state Active", "expected state Suspended", "expected state Pending", "expected state Deleted",
	} {
		if !seen[want] {
			t.Errorf("demo data lacks: %s", want)
		}
	}
}
