package upstreamsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

const (
	scimUsers        = SCIMBasePath + "/Users"
	scimListURN      = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	scimErrorURN     = "urn:ietf:params:scim:api:messages:2.0:Error"
	scimMediaType    = "application/scim+json"
	scimCoreUserSURN = "urn:ietf:params:scim:schemas:core:2.0:User"
)

// seedSCIMUsers adds users id-01..id-<n>, the odd ones active.
func seedSCIMUsers(s *Server, n int) {
	for i := 1; i <= n; i++ {
		s.PutSCIMUser(SCIMUser{ID: fmt.Sprintf("id-%02d", i), UserName: fmt.Sprintf("user-%d@example.com", i), Active: i%2 == 1})
	}
}

// scimFilterPath is a lookup in the RFC form a client sends: the key written as a JSON string (so
// `"` and `\` are escaped), the whole filter query-escaped (QueryEscape sends "+" as %2B and a
// space as "+", which the server reads back as a space).
func scimFilterPath(t *testing.T, attribute, key string) string {
	t.Helper()
	encoded, err := json.Marshal(key)
	if err != nil {
		t.Fatal(err)
	}
	return scimRawFilterPath(attribute + " eq " + string(encoded))
}

// scimRawFilterPath sends filter as written.
func scimRawFilterPath(filter string) string { return scimUsers + "?filter=" + url.QueryEscape(filter) }

// scimListAnswer is a decoded ListResponse.
type scimListAnswer struct {
	totalResults, startIndex, itemsPerPage int
	resources                              []map[string]any
	// resourcesNull is true when "Resources" was null.
	resourcesNull bool
}

func decodeSCIMList(t *testing.T, got response) scimListAnswer {
	t.Helper()
	wantStatus(t, got, http.StatusOK)
	object := decodeObject(t, got.body)
	if schemas, _ := object["schemas"].([]any); len(schemas) != 1 || schemas[0] != scimListURN {
		t.Fatalf("schemas = %v, want the ListResponse URN; body %s", object["schemas"], got.body)
	}
	list := scimListAnswer{
		totalResults: jsonInt(t, object["totalResults"]),
		startIndex:   jsonInt(t, object["startIndex"]),
		itemsPerPage: jsonInt(t, object["itemsPerPage"]),
	}
	raw, present := object["Resources"]
	if !present {
		t.Fatalf("no Resources in %s", got.body)
	}
	list.resourcesNull = raw == nil
	items, _ := raw.([]any)
	for _, item := range items {
		resource, ok := item.(map[string]any)
		if !ok {
			t.Fatalf("a resource is %T, want an object", item)
		}
		list.resources = append(list.resources, resource)
	}
	return list
}

func jsonInt(t *testing.T, value any) int {
	t.Helper()
	number, ok := value.(json.Number)
	if !ok {
		t.Fatalf("%v is %T, want a JSON number", value, value)
	}
	n, err := strconv.Atoi(number.String())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// wantSCIMError checks a SCIM error answer: the status, the SCIM media type, and a body with the
// error URN, the status as a string, a detail and (when not empty) scimType.
func wantSCIMError(t *testing.T, got response, status int, scimType string) {
	t.Helper()
	wantStatus(t, got, status)
	if ct := got.header.Get("Content-Type"); ct != scimMediaType {
		t.Errorf("Content-Type = %q, want %s", ct, scimMediaType)
	}
	object := decodeObject(t, got.body)
	if schemas, _ := object["schemas"].([]any); len(schemas) != 1 || schemas[0] != scimErrorURN {
		t.Errorf("schemas = %v, want the Error URN", object["schemas"])
	}
	if object["status"] != strconv.Itoa(status) {
		t.Errorf("status = %#v, want the string %q", object["status"], strconv.Itoa(status))
	}
	if detail, _ := object["detail"].(string); detail == "" {
		t.Errorf("no detail in %s", got.body)
	}
	if scimType != "" && object["scimType"] != scimType {
		t.Errorf("scimType = %v, want %s", object["scimType"], scimType)
	}
}

// scimUserNames lists the userNames of a list's resources, in order.
func scimUserNames(list scimListAnswer) []string {
	names := make([]string, 0, len(list.resources))
	for _, resource := range list.resources {
		name, _ := resource["userName"].(string)
		names = append(names, name)
	}
	return names
}

func scimPrimaryEmail(user map[string]any) string {
	emails, _ := user["emails"].([]any)
	for _, item := range emails {
		if email, _ := item.(map[string]any); email["primary"] == true {
			value, _ := email["value"].(string)
			return value
		}
	}
	return ""
}

func scimRoleValues(user map[string]any) []string {
	roles, _ := user["roles"].([]any)
	values := []string{}
	for _, item := range roles {
		if role, _ := item.(map[string]any); role != nil {
			value, _ := role["value"].(string)
			values = append(values, value)
		}
	}
	return values
}

// scimFilterPathForRequest is scimRawFilterPath, for httptest requests that need no *testing.T.
func scimFilterPathForRequest(filter string) string { return scimRawFilterPath(filter) }

func containsBytes(body []byte, want string) bool { return strings.Contains(string(body), want) }
