package upstreamsim

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
)

func TestFlashbackAnswersTheDocumentedExampleByteForByte(t *testing.T) {
	s := startServer(t)
	// The reference page's 200 example; its e-mail was mangled by the page capture.
	s.PutFlashbackUser(FlashbackUser{
		ID:        "550e8400-e29b-41d4-a716-446655440000",
		Email:     "john@example.com",
		Name:      "John",
		LastName:  "Doe",
		OrgID:     "123e4567-e89b-12d3-a456-426614174000",
		OrgRole:   2,
		Validated: true,
		OrgRoles:  []int{0, 1, 2},
	})

	got := get(t, trustingClient(t, s), s, flashbackPath+"550e8400-e29b-41d4-a716-446655440000", testToken)

	wantStatus(t, got, http.StatusOK)
	wantJSONBody(t, got, `{
		"id": "550e8400-e29b-41d4-a716-446655440000",
		"email": "john@example.com",
		"name": "John",
		"lastName": "Doe",
		"orgId": "123e4567-e89b-12d3-a456-426614174000",
		"orgRole": 2,
		"validated": true,
		"deletedAt": null,
		"orgRoleDescription": "WORKSPACES",
		"orgRoles": [0, 1, 2]
	}`)
}

func TestFlashbackRoleDescriptions(t *testing.T) {
	s := startServer(t)
	client := trustingClient(t, s)
	cases := []struct {
		name        string
		user        FlashbackUser
		description any // nil: the field must be absent
	}{
		{"owner", FlashbackUser{ID: "owner", OrgRole: 0xff}, "OWNER"},
		{"administrator", FlashbackUser{ID: "admin", OrgRole: 0xfe}, "ADMINISTRATOR"},
		{"workspaces", FlashbackUser{ID: "ws", OrgRole: 0x02}, "WORKSPACES"},
		{"billing", FlashbackUser{ID: "billing", OrgRole: 0x01}, "BILLING"},
		{"user", FlashbackUser{ID: "user", OrgRole: 0x00}, "USER"},
		{"unknown code", FlashbackUser{ID: "odd", OrgRole: 0x03}, nil},
		{"explicit description", FlashbackUser{ID: "custom", OrgRole: 0x03, OrgRoleDescription: "AUDITOR"}, "AUDITOR"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s.PutFlashbackUser(tc.user)
			object := decodeObject(t, get(t, client, s, flashbackPath+tc.user.ID, testToken).body)

			description, present := object["orgRoleDescription"]
			if tc.description == nil && present {
				t.Errorf("orgRoleDescription = %v, want the field absent", description)
			}
			if tc.description != nil && description != tc.description {
				t.Errorf("orgRoleDescription = %v, want %v", description, tc.description)
			}
			if object["orgRole"] != json.Number(strconv.Itoa(tc.user.OrgRole)) {
				t.Errorf("orgRole = %#v, want the integer %d", object["orgRole"], tc.user.OrgRole)
			}
			if roles, ok := object["orgRoles"].([]any); !ok || len(roles) != 0 {
				t.Errorf("orgRoles = %#v, want [] for a nil slice", object["orgRoles"])
			}
		})
	}
}

func TestFlashbackDeletedUserHasDeletedAt(t *testing.T) {
	s := startServer(t)
	s.PutFlashbackUser(FlashbackUser{ID: "gone", DeletedAt: timePtr(mustTime(t, "2025-04-18T16:40:00+02:00"))})

	object := decodeObject(t, get(t, trustingClient(t, s), s, flashbackPath+"gone", testToken).body)

	if object["deletedAt"] != "2025-04-18T14:40:00Z" {
		t.Errorf("deletedAt = %#v, want 2025-04-18T14:40:00Z", object["deletedAt"])
	}
	if object["validated"] != false {
		t.Errorf("validated = %#v, want false", object["validated"])
	}
}

func TestFlashbackErrorBodies(t *testing.T) {
	s := startServer(t)
	client := trustingClient(t, s)
	cases := []struct {
		name   string
		token  string
		status int
		body   string
	}{
		{"no token", "", http.StatusUnauthorized, `{"success":false,"message":"Invalid or missing access token"}`},
		{"unknown token", "sk_test_unknown", http.StatusUnauthorized, `{"success":false,"message":"Invalid or missing access token"}`},
		{"forbidden token", testForbidden, http.StatusForbidden, `{"success":false,"message":"Insufficient permissions to view users"}`},
		{"unknown user", testToken, http.StatusNotFound, `{"success":false,"message":"User not found"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := get(t, client, s, flashbackPath+"nobody", tc.token)
			wantStatus(t, got, tc.status)
			wantJSONBody(t, got, tc.body)
		})
	}
}
