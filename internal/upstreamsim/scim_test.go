package upstreamsim

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"testing"
	"time"
)

func TestSCIMLookupByUserNameFindsAwkwardKeys(t *testing.T) {
	s := startServer(t)
	client := trustingClient(t, s)
	keys := []string{
		`quote"d@example.com`,
		`back\slash@example.com`,
		`both\"@example.com`,
		"erin+ops@example.com",
		"with space",
		"Zoë Ünïcødé",
		"日本語ユーザー",
		"tab\there",
		"<html>&amp;",
	}
	for i, key := range keys {
		s.PutSCIMUser(SCIMUser{ID: fmt.Sprintf("u%d", i), UserName: key})
	}
	// Decoys: what a server that forgot to decode, or read "+" as a space, would match instead.
	s.PutSCIMUser(SCIMUser{ID: "decoy-plus", UserName: "erin ops@example.com"})
	s.PutSCIMUser(SCIMUser{ID: "decoy-escaped", UserName: `quote\"d@example.com`})

	for i, key := range keys {
		t.Run(key, func(t *testing.T) {
			s.ResetCounters()
			list := decodeSCIMList(t, get(t, client, s, scimFilterPath(t, "userName", key), testToken))
			if list.totalResults != 1 || len(list.resources) != 1 {
				t.Fatalf("found %d users (%v), want 1", list.totalResults, scimUserNames(list))
			}
			if got := list.resources[0]; got["userName"] != key || got["id"] != fmt.Sprintf("u%d", i) {
				t.Errorf("found %v (%v), want %q", got["userName"], got["id"], key)
			}
			if n := s.Requests(ProviderSCIM, key); n != 1 {
				t.Errorf("Requests(scim, %q) = %d, want 1: counted by the decoded key", key, n)
			}
		})
	}
}

func TestSCIMFilterMatching(t *testing.T) {
	s := startServer(t)
	client := trustingClient(t, s)
	s.PutSCIMUser(SCIMUser{ID: "id-1", ExternalID: "Ext-1", UserName: "Alice@Example.com", Active: true})
	s.PutSCIMUser(SCIMUser{ID: "id-2", ExternalID: "ext-2", UserName: "bob@example.com", Active: false})
	s.PutSCIMUser(SCIMUser{ID: "id-3", UserName: "carol@example.com", Active: true})

	cases := []struct {
		name   string
		filter string
		want   []string
	}{
		{"userName ignores case", `userName eq "alice@example.COM"`, []string{"Alice@Example.com"}},
		{"attribute name ignores case", `USERNAME eq "bob@example.com"`, []string{"bob@example.com"}},
		{"fully qualified attribute", `urn:ietf:params:scim:schemas:core:2.0:User:userName eq "bob@example.com"`,
			[]string{"bob@example.com"}},
		{"externalId exact", `externalId eq "Ext-1"`, []string{"Alice@Example.com"}},
		{"externalId is case-exact", `externalId eq "ext-1"`, nil},
		{"id exact", `id eq "id-2"`, []string{"bob@example.com"}},
		{"id is case-exact", `id eq "ID-2"`, nil},
		{"active true", `active eq true`, []string{"Alice@Example.com", "carol@example.com"}},
		{"active false", `active eq false`, []string{"bob@example.com"}},
		{"no such user", `userName eq "nobody@example.com"`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			list := decodeSCIMList(t, get(t, client, s, scimRawFilterPath(tc.filter), testToken))
			if got := scimUserNames(list); !slices.Equal(got, tc.want) && (len(got) != 0 || len(tc.want) != 0) {
				t.Errorf("found %v, want %v", got, tc.want)
			}
			if list.totalResults != len(tc.want) {
				t.Errorf("totalResults = %d, want %d", list.totalResults, len(tc.want))
			}
			if list.resources == nil && list.resourcesNull {
				t.Error(`"Resources" is null, want [] without the quirk`)
			}
		})
	}
}

func TestSCIMUnsupportedFiltersAnswerInvalidFilter(t *testing.T) {
	s := startServer(t)
	client := trustingClient(t, s)
	s.PutSCIMUser(SCIMUser{ID: "id-1", UserName: "alice@example.com", DisplayName: "Alice"})

	for _, filter := range []string{
		`nosuchattribute eq "x"`,                     // the library's schema check
		`userName eq`,                                // the library's parser
		`displayName eq "Alice"`,                     // valid SCIM, not one the simulator implements
		`userName co "alice"`,                        // another operator
		`userName eq "a" or userName eq "b"`,         // more than one comparison
		`emails[type eq "work"]`,                     // a value path
		`emails.value eq "alice@example.com"`,        // a sub-attribute (see the library gap test)
		`active eq "true"`,                           // active compared with a string
		`userName eq "bad \x escape"`,                // not a JSON string escape
		`urn:example:other:User:userName eq "alice"`, // another schema
		`userName eq "alice@example.com" and active eq true`,
	} {
		t.Run(filter, func(t *testing.T) {
			wantSCIMError(t, get(t, client, s, scimRawFilterPath(filter), testToken), http.StatusBadRequest, "invalidFilter")
		})
	}
}

func TestSCIMGetByIDUnescapesTheSegmentOnce(t *testing.T) {
	s := startServer(t)
	client := trustingClient(t, s)
	s.PutSCIMUser(SCIMUser{ID: "a/b", UserName: "slash"})
	s.PutSCIMUser(SCIMUser{ID: "100%", UserName: "percent"})
	s.PutSCIMUser(SCIMUser{ID: "b", UserName: "plain"})

	for segment, want := range map[string]string{"a%2Fb": "slash", "100%25": "percent", "b": "plain"} {
		got := get(t, client, s, scimUsers+"/"+segment, testToken)
		wantStatus(t, got, http.StatusOK)
		if name := decodeObject(t, got.body)["userName"]; name != want {
			t.Errorf("%s: userName = %v, want %s", segment, name, want)
		}
	}
	if n := s.Requests(ProviderSCIM, "a/b"); n != 1 {
		t.Errorf("Requests(scim, a/b) = %d, want 1: counted by the unescaped id", n)
	}
	wantSCIMError(t, get(t, client, s, scimUsers+"/a/b", testToken), http.StatusNotFound, "")
	wantSCIMError(t, get(t, client, s, scimUsers+"/missing", testToken), http.StatusNotFound, "")
}

func TestSCIMUserBody(t *testing.T) {
	s := startServer(t)
	client := trustingClient(t, s)
	plusTwo := time.FixedZone("UTC+2", 2*60*60)
	s.PutSCIMUser(SCIMUser{
		ID: "7fce0092", ExternalID: "ext-7", UserName: "mona@example.com", DisplayName: "Mona Octocat",
		Name:   SCIMName{GivenName: "Mona", FamilyName: "Octocat", Formatted: "Mona Octocat"},
		Emails: []SCIMEmail{{Value: "mona@home.example", Type: "home"}, {Value: "mona@example.com", Type: "work", Primary: true}},
		Active: true, Roles: []string{"enterprise_owner"}, Groups: []SCIMGroup{{Value: "g1", Display: "owners"}},
		UserType: "Employee", Title: "Owner", Department: "Engineering",
		Created: time.Date(2025, 1, 2, 11, 0, 0, 0, plusTwo), LastModified: time.Date(2025, 2, 3, 4, 5, 6, 0, time.UTC),
	})

	got := get(t, client, s, scimUsers+"/7fce0092", testToken)

	wantStatus(t, got, http.StatusOK)
	if ct := got.header.Get("Content-Type"); ct != scimMediaType {
		t.Errorf("Content-Type = %q, want %s", ct, scimMediaType)
	}
	want := fmt.Sprintf(`{
		"active": true,
		"displayName": "Mona Octocat",
		"emails": [{"type": "home", "value": "mona@home.example"}, {"primary": true, "type": "work", "value": "mona@example.com"}],
		"externalId": "ext-7",
		"groups": [{"display": "owners", "value": "g1"}],
		"id": "7fce0092",
		"meta": {"created": "2025-01-02T09:00:00Z", "lastModified": "2025-02-03T04:05:06Z",
			"location": "%s/Users/7fce0092", "resourceType": "User"},
		"name": {"familyName": "Octocat", "formatted": "Mona Octocat", "givenName": "Mona"},
		"roles": [{"value": "enterprise_owner"}],
		"schemas": ["%s", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
		"title": "Owner",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Engineering"},
		"userName": "mona@example.com",
		"userType": "Employee"
	}`, s.SCIMBaseURL(), scimCoreUserSURN)
	// Compared as values: the library renders meta from a struct, in its own field order.
	if gotValue, wantValue := decodeObject(t, got.body), decodeObject(t, []byte(want)); !reflect.DeepEqual(gotValue, wantValue) {
		t.Errorf("body =\n%s\nwant\n%s", got.body, compactJSON(t, want))
	}
}

func TestSCIMPagingAcrossACappedPage(t *testing.T) {
	s := startServer(t)
	client := trustingClient(t, s)
	const users = 7
	for i := range users {
		s.PutSCIMUser(SCIMUser{ID: fmt.Sprintf("id-%02d", i), UserName: fmt.Sprintf("user-%d@example.com", i), Active: true})
	}
	s.SetSCIMPageCap(3)

	seen := map[string]bool{}
	pages := 0
	for startIndex := 1; ; {
		list := decodeSCIMList(t, get(t, client, s, fmt.Sprintf("%s?startIndex=%d&count=100", scimUsers, startIndex), testToken))
		pages++
		if list.totalResults != users || list.startIndex != startIndex {
			t.Fatalf("totalResults %d, startIndex %d; want %d, %d", list.totalResults, list.startIndex, users, startIndex)
		}
		if len(list.resources) > 3 {
			t.Fatalf("page of %d users, want at most the cap of 3", len(list.resources))
		}
		for _, resource := range list.resources {
			id, _ := resource["id"].(string)
			if seen[id] {
				t.Errorf("user %s on two pages", id)
			}
			seen[id] = true
		}
		startIndex += len(list.resources)
		if len(list.resources) == 0 || startIndex-1 >= list.totalResults {
			break
		}
	}
	if len(seen) != users || pages != 3 {
		t.Errorf("saw %d users in %d pages, want %d in 3", len(seen), pages, users)
	}

	// A count below the cap is honoured, and a filter pages too.
	list := decodeSCIMList(t, get(t, client, s, scimRawFilterPath("active eq true")+"&startIndex=2&count=2", testToken))
	if got := scimUserNames(list); !slices.Equal(got, []string{"user-1@example.com", "user-2@example.com"}) || list.totalResults != users {
		t.Errorf("startIndex=2&count=2 gave %v of %d", got, list.totalResults)
	}
	// Past the end: no users, totalResults still right.
	list = decodeSCIMList(t, get(t, client, s, scimUsers+"?startIndex=50", testToken))
	if len(list.resources) != 0 || list.totalResults != users {
		t.Errorf("past the end gave %d users of %d", len(list.resources), list.totalResults)
	}

	s.SetSCIMPageCap(0)
	if list := decodeSCIMList(t, get(t, client, s, scimUsers, testToken)); len(list.resources) != users {
		t.Errorf("after SetSCIMPageCap(0) a page has %d users, want all %d under the default cap", len(list.resources), users)
	}
}

func TestSCIMServiceProviderConfigAnnouncesFilteringAndTheCap(t *testing.T) {
	s := startServer(t)
	s.SetSCIMPageCap(25)
	got := get(t, trustingClient(t, s), s, SCIMBasePath+"/ServiceProviderConfig", testToken)
	wantStatus(t, got, http.StatusOK)
	filter, _ := decodeObject(t, got.body)["filter"].(map[string]any)
	if filter["supported"] != true || jsonInt(t, filter["maxResults"]) != 25 {
		t.Errorf("filter = %v, want supported with maxResults 25", filter)
	}
}

func TestSCIMSetRoleIsVisibleOnTheNextLookup(t *testing.T) {
	s := startServer(t)
	client := trustingClient(t, s)
	created := mustTime(t, "2025-01-01T00:00:00Z")
	s.PutSCIMUser(SCIMUser{ID: "id-1", UserName: "Lin@example.com", Roles: []string{"user"}, Created: created, LastModified: created})

	if !s.SetSCIMRole("lin@EXAMPLE.com", "enterprise_owner") {
		t.Fatal("SetSCIMRole reported a missing user")
	}
	user := decodeObject(t, get(t, client, s, scimUsers+"/id-1", testToken).body)
	if roles := scimRoleValues(user); !slices.Equal(roles, []string{"enterprise_owner"}) {
		t.Errorf("roles = %v, want [enterprise_owner]", roles)
	}
	if meta, _ := user["meta"].(map[string]any); meta["lastModified"] == "2025-01-01T00:00:00Z" {
		t.Error("meta.lastModified did not move with the role change")
	}
	if s.SetSCIMRole("nobody@example.com", "user") {
		t.Error("SetSCIMRole = true for a missing user")
	}
}

func TestSCIMDeleteUserByAnyKey(t *testing.T) {
	s := startServer(t)
	client := trustingClient(t, s)
	s.PutSCIMUser(SCIMUser{ID: "id-1", ExternalID: "ext-1", UserName: "a@example.com"})
	s.PutSCIMUser(SCIMUser{ID: "id-2", ExternalID: "ext-2", UserName: "b@example.com"})
	s.PutSCIMUser(SCIMUser{ID: "id-3", ExternalID: "ext-3", UserName: "c@example.com"})

	s.DeleteUser(ProviderSCIM, "A@example.com")
	s.DeleteUser(ProviderSCIM, "id-2")
	s.DeleteUser(ProviderSCIM, "ext-3")

	if list := decodeSCIMList(t, get(t, client, s, scimUsers, testToken)); list.totalResults != 0 {
		t.Errorf("%d users left (%v), want none", list.totalResults, scimUserNames(list))
	}
	wantSCIMError(t, get(t, client, s, scimUsers+"/id-1", testToken), http.StatusNotFound, "")
	if list := decodeSCIMList(t, get(t, client, s, scimFilterPath(t, "userName", "a@example.com"), testToken)); len(list.resources) != 0 {
		t.Errorf("deleted user still found by userName")
	}
}

func TestSCIMPutCopiesTheCallersValueAndGeneratesMissingIDs(t *testing.T) {
	s := startServer(t)
	client := trustingClient(t, s)
	user := SCIMUser{UserName: "a@example.com", Roles: []string{"user"}}
	id := s.PutSCIMUser(user)
	user.Roles[0] = "enterprise_owner"
	if id == "" || s.PutSCIMUser(SCIMUser{UserName: "b@example.com"}) == id {
		t.Fatalf("generated ids %q and the next are not distinct and non-empty", id)
	}

	got := decodeObject(t, get(t, client, s, scimUsers+"/"+id, testToken).body)
	if roles := scimRoleValues(got); !slices.Equal(roles, []string{"user"}) {
		t.Errorf("roles = %v, changed through the caller's slice", roles)
	}
}

func TestSCIMDuplicateUserNamesAreAllFound(t *testing.T) {
	s := startServer(t)
	s.PutSCIMUser(SCIMUser{ID: "id-1", UserName: "twin@example.com"})
	s.PutSCIMUser(SCIMUser{ID: "id-2", UserName: "TWIN@example.com"})
	list := decodeSCIMList(t, get(t, trustingClient(t, s), s, scimFilterPath(t, "userName", "twin@example.com"), testToken))
	if list.totalResults != 2 {
		t.Errorf("found %d users, want both, so a client can see the key is ambiguous", list.totalResults)
	}
}

func TestSCIMQuirks(t *testing.T) {
	s := startServer(t)
	client := trustingClient(t, s)
	s.PutSCIMUser(SCIMUser{ID: "id-1", UserName: "a@example.com", Active: true})
	s.PutSCIMUser(SCIMUser{ID: "id-2", UserName: "b@example.com", Active: false})

	s.SetSCIMQuirks(SCIMQuirks{IgnoreFilter: true})
	list := decodeSCIMList(t, get(t, client, s, scimFilterPath(t, "userName", "b@example.com"), testToken))
	if got := scimUserNames(list); !slices.Equal(got, []string{"a@example.com", "b@example.com"}) {
		t.Errorf("IgnoreFilter: found %v, want a page of every user", got)
	}

	s.SetSCIMQuirks(SCIMQuirks{NullResourcesWhenEmpty: true})
	if list := decodeSCIMList(t, get(t, client, s, scimFilterPath(t, "userName", "nobody"), testToken)); !list.resourcesNull {
		t.Error(`NullResourcesWhenEmpty: "Resources" is not null`)
	}

	s.SetSCIMQuirks(SCIMQuirks{ActiveAsStrings: true})
	for id, want := range map[string]string{"id-1": "True", "id-2": "False"} {
		if active := decodeObject(t, get(t, client, s, scimUsers+"/"+id, testToken).body)["active"]; active != want {
			t.Errorf("ActiveAsStrings: %s active = %#v, want %q", id, active, want)
		}
	}

	s.SetSCIMQuirks(SCIMQuirks{})
	if active := decodeObject(t, get(t, client, s, scimUsers+"/id-2", testToken).body)["active"]; active != false {
		t.Errorf("without quirks active = %#v, want false", active)
	}
}

func TestSCIMHandlerWorksWithoutStart(t *testing.T) {
	s := New()
	s.AllowToken(testToken)
	s.PutSCIMUser(SCIMUser{ID: "id-1", UserName: "a+b@example.com"})
	req := httptest.NewRequest(http.MethodGet, scimFilterPathForRequest(`userName eq "a+b@example.com"`), nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	recorder := httptest.NewRecorder()

	s.Handler().ServeHTTP(recorder, req)

	if recorder.Code != http.StatusOK || !containsBytes(recorder.Body.Bytes(), `"totalResults":1`) {
		t.Errorf("status = %d, body %s; want 200 with one user", recorder.Code, recorder.Body)
	}
}

func TestSCIMSeedBulkServesEveryGeneratedKey(t *testing.T) {
	s, client := faultFixture(t)
	s.SeedBulk(3)
	for i := range 3 {
		list := decodeSCIMList(t, get(t, client, s, scimFilterPath(t, "userName", BulkSCIMKey(i)), testToken))
		if len(list.resources) != 1 || list.resources[0]["id"] != BulkSCIMID(i) || list.resources[0]["active"] != true {
			t.Errorf("SCIM bulk user %d = %v", i, list.resources)
		}
	}
	if list := decodeSCIMList(t, get(t, client, s, scimFilterPath(t, "userName", BulkSCIMKey(3)), testToken)); list.totalResults != 0 {
		t.Errorf("BulkSCIMKey(3) found %d users after SeedBulk(3)", list.totalResults)
	}
}
