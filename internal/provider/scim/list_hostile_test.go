package scim

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/orgsync/orgsync/internal/provider"
	"github.com/orgsync/orgsync/internal/provider/providertest"
)

// TestListPageReadsOddPagesLoosely covers what real servers send in a page's numbers and
// Resources: strings for numbers, numbers left out, Resources null or missing when empty.
func TestListPageReadsOddPagesLoosely(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		want  provider.Page
		users int
	}{
		{"Resources null", `{"totalResults":0,"Resources":null}`, provider.Page{HasTotalResults: true}, 0},
		{"Resources missing", `{"totalResults":0}`, provider.Page{HasTotalResults: true}, 0},
		{"numbers as strings", `{"totalResults":"12","startIndex":" 3 ","itemsPerPage":"2","Resources":[]}`,
			provider.Page{TotalResults: 12, HasTotalResults: true, StartIndex: 3, ItemsPerPage: 2}, 0},
		{"numbers written as floats", `{"totalResults":1e2,"startIndex":1.0,"itemsPerPage":100}`,
			provider.Page{TotalResults: 100, HasTotalResults: true, StartIndex: 1, ItemsPerPage: 100}, 0},
		{"itemsPerPage and startIndex missing", list(alice), provider.Page{TotalResults: 1, HasTotalResults: true}, 1},
		{"attribute names in another case", `{"TOTALRESULTS":2,"resources":[` + alice + `],"NextCursor":"n"}`,
			provider.Page{TotalResults: 2, HasTotalResults: true, NextCursor: "n"}, 1},
		{"no totalResults", `{"Resources":[` + alice + `]}`, provider.Page{}, 1},
		{"a negative totalResults is none", `{"totalResults":-4}`, provider.Page{}, 0},
		{"a fractional totalResults is none", `{"totalResults":2.5}`, provider.Page{}, 0},
		{"a totalResults that is not a number is none", `{"totalResults":"many","startIndex":true,"itemsPerPage":{}}`, provider.Page{}, 0},
		{"a huge totalResults", `{"totalResults":99999999999999999999999}`, provider.Page{}, 0},
		{"a totalResults beyond 2^31", `{"totalResults":"4294967296"}`, provider.Page{}, 0},
		{"a string that is no plain number", `{"totalResults":"0x10","startIndex":"Inf","itemsPerPage":"NaN"}`, provider.Page{}, 0},
		{"a numeric nextCursor is its text", `{"totalResults":1,"nextCursor":42}`,
			provider.Page{TotalResults: 1, HasTotalResults: true, NextCursor: "42"}, 0},
		{"a null nextCursor is the last page", `{"totalResults":1,"nextCursor":null}`, provider.Page{TotalResults: 1, HasTotalResults: true}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c := newUpstream(t, nil, providertest.ServeJSON(tt.body))
			page, err := c.ListPage(context.Background(), provider.PageRequest{})
			if err != nil {
				t.Fatalf("ListPage: %v", err)
			}
			if len(page.Users) != tt.users {
				t.Errorf("%d users, want %d", len(page.Users), tt.users)
			}
			page.Users = nil
			if !reflect.DeepEqual(page, tt.want) {
				t.Errorf("page %+v, want %+v", page, tt.want)
			}
		})
	}
}

// TestListPageRefusesPagesItCannotTrust covers pages no honest server sends: a page whose users
// cannot be told apart, or whose next cursor cannot be followed, fails whole.
func TestListPageRefusesPagesItCannotTrust(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		wantText string
	}{
		{"not an object", `[` + alice + `]`, "list users from scim: 200 OK: decode response: expected a JSON object"},
		{"Resources not an array", `{"Resources":{"id":"u1"}}`, "cannot unmarshal object into Go value of type []json.RawMessage (Resources)"},
		{"a resource without an id", list(alice, `{"userName":"bob"}`), "decode response: missing id (resource 2 of Resources)"},
		{"an id that is a number", list(`{"id":7}`), "cannot unmarshal number into Go value of type string (resource 1 of Resources)"},
		{"a nextCursor that is an object", `{"totalResults":3,"nextCursor":{"page":2}}`,
			"decode response: nextCursor is an object, not a string"},
		{"a huge nextCursor", `{"totalResults":3,"nextCursor":"` + strings.Repeat("c", maxCursorBytes+1) + `"}`,
			"decode response: nextCursor has 4097 bytes, more than 4096"},
		{"truncated JSON", `{"totalResults":3,"Resources":[` + alice, "list users from scim: 200 OK: decode response: unexpected end of JSON input"},
		{"a body beyond 1 MiB", `{"totalResults":1,"x":"` + strings.Repeat("x", 1<<20) + `"}`, "response body exceeds 1 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c := newUpstream(t, nil, providertest.ServeJSON(tt.body))
			_, err := c.ListPage(context.Background(), provider.PageRequest{})
			perr := requireError(t, err, provider.KindTransient)
			if !strings.Contains(perr.Error(), tt.wantText) || perr.Op != provider.OpListUsers {
				t.Errorf("error %q (op %q) does not say %q", perr, perr.Op, tt.wantText)
			}
		})
	}
}

// TestListPageBoundsWhatItMirrors: listed users are cut like looked-up ones, except the key, which
// a cut would turn into another user's.
func TestListPageBoundsWhatItMirrors(t *testing.T) {
	huge := strings.Repeat("日", 400)
	_, c := newUpstream(t, nil, providertest.ServeJSON(list(`{"id":"u1","userName":"`+huge+`","displayName":"`+huge+`"}`)))
	page, err := c.ListPage(context.Background(), provider.PageRequest{})
	if err != nil {
		t.Fatalf("ListPage: %v", err)
	}
	user := page.Users[0]
	if len(user.DisplayName) > provider.MaxDisplayNameLength || user.Key != huge {
		t.Errorf("display name of %d bytes, key of %d bytes; want the name cut and the key whole", len(user.DisplayName), len(user.Key))
	}
	if (Provider{}).ValidateKey(user.Key) == nil {
		t.Error("a key of 400 characters passed ValidateKey, so a caller could not tell it is unusable")
	}
}
