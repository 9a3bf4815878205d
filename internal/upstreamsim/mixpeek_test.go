package upstreamsim

import (
	"net/http"
	"testing"
	"time"
)

func TestMixpeekAnswersTheDocumentedBody(t *testing.T) {
	s := startServer(t)
	// The reference page's example, plus last_login, which the schema documents.
	s.PutMixpeekUser(MixpeekUser{
		UserID:         "usr_a1b2c3d4e5f6g7h",
		Email:          "alice@example.com",
		UserName:       "Alice Smith",
		Role:           "member",
		Status:         "active",
		InternalID:     "int_x1y2z3",
		OrganizationID: "org_demo123",
		CreatedAt:      mustTime(t, "2025-01-01T00:00:00Z"),
		UpdatedAt:      mustTime(t, "2025-01-01T00:00:00Z"),
		LastLogin:      timePtr(mustTime(t, "2025-06-01T12:30:00Z")),
		Metadata:       map[string]string{"department": "ML"},
	})

	got := get(t, trustingClient(t, s), s, mixpeekPath+"alice@example.com", testToken)

	wantStatus(t, got, http.StatusOK)
	wantJSONBody(t, got, `{
		"created_at": "2025-01-01T00:00:00Z",
		"email": "alice@example.com",
		"internal_id": "int_x1y2z3",
		"metadata": {"department": "ML"},
		"organization_id": "org_demo123",
		"role": "member",
		"status": "active",
		"updated_at": "2025-01-01T00:00:00Z",
		"user_id": "usr_a1b2c3d4e5f6g7h",
		"user_name": "Alice Smith",
		"last_login": "2025-06-01T12:30:00Z"
	}`)
}

func TestMixpeekNullLastLoginEmptyMetadataAndUTCTimestamps(t *testing.T) {
	s := startServer(t)
	plusTwo := time.FixedZone("UTC+2", 2*60*60)
	s.PutMixpeekUser(MixpeekUser{
		Email:          "carol@example.com",
		UserName:       "Carol",
		Role:           "viewer",
		Status:         "pending",
		InternalID:     "int_1",
		OrganizationID: "org_1",
		CreatedAt:      time.Date(2025, 3, 1, 10, 0, 0, 0, plusTwo),
		// UpdatedAt left zero: the field is optional and must then be absent.
	})

	got := get(t, trustingClient(t, s), s, mixpeekPath+"carol@example.com", testToken)

	wantStatus(t, got, http.StatusOK)
	wantJSONBody(t, got, `{
		"created_at": "2025-03-01T08:00:00Z",
		"email": "carol@example.com",
		"internal_id": "int_1",
		"metadata": {},
		"organization_id": "org_1",
		"role": "viewer",
		"status": "pending",
		"user_name": "Carol",
		"last_login": null
	}`)
}

func TestMixpeekSendsUndocumentedValuesVerbatim(t *testing.T) {
	s := startServer(t)
	s.PutMixpeekUser(MixpeekUser{Email: "dave@example.com", Role: "owner", Status: "archived"})

	object := decodeObject(t, get(t, trustingClient(t, s), s, mixpeekPath+"dave@example.com", testToken).body)

	if object["role"] != "owner" || object["status"] != "archived" {
		t.Errorf("role, status = %v, %v; want owner, archived", object["role"], object["status"])
	}
}

func TestMixpeekErrorBodies(t *testing.T) {
	s := startServer(t)
	client := trustingClient(t, s)
	cases := []struct {
		name   string
		token  string
		status int
		body   string
	}{
		{"no token", "", http.StatusUnauthorized, `{"detail":"Invalid or missing API key"}`},
		{"forbidden token", testForbidden, http.StatusForbidden, `{"detail":"Insufficient permissions"}`},
		{"unknown user", testToken, http.StatusNotFound, `{"detail":"User not found"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := get(t, client, s, mixpeekPath+"nobody@example.com", tc.token)
			wantStatus(t, got, tc.status)
			wantJSONBody(t, got, tc.body)
		})
	}
}
