package scim

import (
	"testing"

	"github.com/orgsync/orgsync/internal/provider/upstreamhttp"
)

// FuzzDecodePage feeds arbitrary 200 bodies through a page's decoding and mapping, for every key
// attribute: nothing may panic, every listed user has an id and is a user the status can hold,
// and the paging numbers are never negative.
func FuzzDecodePage(f *testing.F) {
	for _, seed := range []string{
		list(alice), list(alice, hostileUser), `{"Resources":null}`, `{}`, `[]`, `null`,
		`{"totalResults":"12","startIndex":" 3 ","itemsPerPage":1e2,"nextCursor":42,"Resources":[]}`,
		`{"totalResults":-1,"nextCursor":{"a":1}}`, `{"TotalResults":2.5,"NEXTCURSOR":"c","resources":[{"id":"u1"}]}`,
		`{"totalResults":99999999999999999999,"startIndex":"-0","itemsPerPage":"NaN"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var answer pageResponse
		if upstreamhttp.DecodeObject(body, &answer) != nil {
			return
		}
		if answer.totalResults < 0 || answer.startIndex < 0 || answer.itemsPerPage < 0 || len(answer.nextCursor) > maxCursorBytes {
			t.Errorf("paging %+v out of range", answer)
		}
		for _, keyAttribute := range []string{KeyUserName, KeyExternalID, KeyID} {
			c := &Client{keyAttribute: keyAttribute}
			for _, resource := range answer.resources {
				user := c.listedUser(resource)
				checkMirrorable(t, user, nil)
				if keyAttribute == KeyID && user.Key != resource.id {
					t.Errorf("key %q, want the id %q", user.Key, resource.id)
				}
			}
		}
	})
}
