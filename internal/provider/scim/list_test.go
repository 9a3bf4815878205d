package scim

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orgsync/orgsync/internal/provider"
)

func TestListPageRequest(t *testing.T) {
	tests := []struct {
		name      string
		req       provider.PageRequest
		wantQuery string
	}{
		{"startIndex paging", provider.PageRequest{Count: 100, StartIndex: 201}, "count=100&startIndex=201"},
		{"a startIndex below 1 is 1", provider.PageRequest{}, "startIndex=1"},
		{"the filter, strictly escaped", provider.PageRequest{Filter: `userName sw "a+b" and active eq true`, Count: 5, StartIndex: 1},
			"count=5&filter=userName%20sw%20%22a%2Bb%22%20and%20active%20eq%20true&startIndex=1"},
		{"the first cursor page sends an empty cursor", provider.PageRequest{Count: 10, CursorPaging: true, StartIndex: 7},
			"count=10&cursor="},
		{"a later cursor page", provider.PageRequest{Count: 10, CursorPaging: true, Cursor: "VZUT+iy/hEQ="},
			"count=10&cursor=VZUT%2Biy%2FhEQ%3D"},
		{"sorted by id", provider.PageRequest{Count: 10, StartIndex: 11, SortByID: true}, "count=10&sortBy=id&startIndex=11"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var path, rawQuery, accept, auth string
			_, c := newUpstream(t, nil, func(w http.ResponseWriter, r *http.Request) {
				path, rawQuery = r.URL.EscapedPath(), r.URL.RawQuery
				accept, auth = r.Header.Get("Accept"), r.Header.Get("Authorization")
				fmt.Fprint(w, list())
			})
			if _, err := c.ListPage(context.Background(), tt.req); err != nil {
				t.Fatalf("ListPage: %v", err)
			}
			if path != "/scim/v2/Users" || rawQuery != tt.wantQuery {
				t.Errorf("sent %s?%s, want /scim/v2/Users?%s", path, rawQuery, tt.wantQuery)
			}
			if accept != "application/scim+json, application/json" || auth != "Bearer "+testToken {
				t.Errorf("Accept %q, Authorization %q", accept, auth)
			}
		})
	}
}

func TestListPageReadsThePage(t *testing.T) {
	body := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":"40","itemsPerPage":2,` +
		`"startIndex":"3","nextCursor":"c-2","Resources":[` +
		`{"id":"u1","userName":"Alice@Example.com","externalId":"E1","displayName":"Alice","roles":[{"value":"admin"}]},` +
		`{"id":"u2","externalId":"E2","active":"False"}]}`
	tests := []struct {
		opts     Options
		wantKeys []string
	}{
		{Options{}, []string{"Alice@Example.com", ""}},
		{Options{KeyAttribute: KeyExternalID}, []string{"E1", "E2"}},
		{Options{KeyAttribute: KeyID}, []string{"u1", "u2"}},
	}
	for _, tt := range tests {
		_, c := newUpstream(t, tt.opts, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, body) })
		page, err := c.ListPage(context.Background(), provider.PageRequest{Count: 2, StartIndex: 3})
		if err != nil {
			t.Fatalf("ListPage: %v", err)
		}
		if !page.HasTotalResults || page.TotalResults != 40 || page.StartIndex != 3 || page.ItemsPerPage != 2 || page.NextCursor != "c-2" {
			t.Errorf("page %+v, want 40 users from 3, 2 per page, next c-2", page)
		}
		if len(page.Users) != 2 {
			t.Fatalf("%d users, want 2", len(page.Users))
		}
		keys := []string{page.Users[0].Key, page.Users[1].Key}
		if !slices.Equal(keys, tt.wantKeys) {
			t.Errorf("keyAttribute %q: keys %q, want %q", tt.opts.KeyAttribute, keys, tt.wantKeys)
		}
		alice, second := page.Users[0], page.Users[1]
		if alice.ID != "u1" || alice.DisplayName != "Alice" || alice.Role != provider.RoleAdmin || alice.Email != "Alice@Example.com" {
			t.Errorf("first user %+v, mapped unlike a lookup", alice)
		}
		if second.ID != "u2" || second.State != provider.StateSuspended {
			t.Errorf("second user %+v", second)
		}
	}
}

func TestListingPagesByStartIndexAcrossCappedPages(t *testing.T) {
	d := newDirectory(7)
	d.pageCap = 3 // fewer than the 100 asked for
	_, c := newUpstream(t, nil, d.serveHTTP)
	listing, err := listAll(t, c, provider.ListingOptions{PageSize: 100})
	if err != nil {
		t.Fatalf("listing: %v", err)
	}
	if !listing.Complete() || !slices.Equal(listedIDs(listing.Users()), wantIDs(7)) {
		t.Fatalf("complete %v (%s), users %v", listing.Complete(), listing.Partial(), listedIDs(listing.Users()))
	}
	for i, want := range []string{"1", "4", "7"} {
		if got := d.sent(t, i+1); got.Get("startIndex") != want || got.Get("count") != "100" {
			t.Errorf("request %d: %v, want startIndex %s and count 100", i+1, got, want)
		}
	}
	if n := d.requestCount(); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
	if users := listing.Users(); users[0].Key != "u01@example.com" {
		t.Errorf("key %q, want the userName", users[0].Key)
	}
}

func TestListingPagesByCursor(t *testing.T) {
	d := newDirectory(5)
	d.pageCap, d.cursors = 2, true
	_, c := newUpstream(t, nil, d.serveHTTP)
	listing, err := listAll(t, c, provider.ListingOptions{PageSize: 2, Capabilities: provider.ListCapabilities{CursorPaging: true}})
	if err != nil {
		t.Fatalf("listing: %v", err)
	}
	if !listing.Complete() || !slices.Equal(listedIDs(listing.Users()), wantIDs(5)) {
		t.Fatalf("complete %v (%s), users %v", listing.Complete(), listing.Partial(), listedIDs(listing.Users()))
	}
	for i, want := range []string{"", "u02", "u04"} {
		got := d.sent(t, i+1)
		if _, sent := got["cursor"]; !sent || got.Get("cursor") != want || got.Has("startIndex") {
			t.Errorf("request %d: %v, want cursor %q and no startIndex", i+1, got, want)
		}
	}
}

func TestListingOfAServerThatIgnoresTheCursorPagesByStartIndex(t *testing.T) {
	d := newDirectory(5)
	d.pageCap = 2 // and cursors stays false: the cursor is accepted and ignored
	_, c := newUpstream(t, nil, d.serveHTTP)
	listing, err := listAll(t, c, provider.ListingOptions{PageSize: 2, Capabilities: provider.ListCapabilities{CursorPaging: true}})
	if err != nil || !listing.Complete() || !slices.Equal(listedIDs(listing.Users()), wantIDs(5)) {
		t.Fatalf("err %v, complete %v (%s), users %v", err, listing.Complete(), listing.Partial(), listedIDs(listing.Users()))
	}
	if got := d.sent(t, 2); got.Get("startIndex") != "3" || got.Has("cursor") {
		t.Errorf("second request %v, want startIndex 3 without a cursor", got)
	}
}

func TestListingCountsAUserOnTwoPagesOnce(t *testing.T) {
	d := newDirectory(4)
	d.pageCap = 2
	d.onRequest = func(d *directory, n int, w http.ResponseWriter) bool {
		if n == 2 { // a user added before the second page shifts it back by one
			d.insert("u00")
		}
		return false
	}
	_, c := newUpstream(t, nil, d.serveHTTP)
	listing, err := listAll(t, c, provider.ListingOptions{PageSize: 2})
	if err != nil {
		t.Fatalf("listing: %v", err)
	}
	// Pages: u01 u02 of 4, then u02 u03 of 5, then u04 of 5: u02 twice, u00 never.
	if got := listedIDs(listing.Users()); !slices.Equal(got, []string{"u01", "u02", "u03", "u04"}) {
		t.Errorf("users %v, want u02 once", got)
	}
	if want := "listed 4 distinct users of 5"; listing.Complete() || listing.Partial() != want {
		t.Errorf("complete %v, partial %q; want %q", listing.Complete(), listing.Partial(), want)
	}
}

func TestListingThatFallsShortIsPartial(t *testing.T) {
	d := newDirectory(5)
	d.pageCap = 2
	d.onRequest = func(d *directory, n int, w http.ResponseWriter) bool {
		if n == 3 { // totalResults says 5, the pages end at 4
			fmt.Fprint(w, `{"totalResults":5,"Resources":[]}`)
			return true
		}
		return false
	}
	_, c := newUpstream(t, nil, d.serveHTTP)
	listing, err := listAll(t, c, provider.ListingOptions{PageSize: 2})
	if err != nil {
		t.Fatalf("listing: %v", err)
	}
	if want := "listed 4 distinct users of 5: page 3 (startIndex 5) held no users"; listing.Complete() || listing.Partial() != want {
		t.Errorf("complete %v, partial %q; want %q", listing.Complete(), listing.Partial(), want)
	}
}

func TestListingPageFailures(t *testing.T) {
	tests := []struct {
		name           string
		status         int
		retryAfter     string
		body           string
		wantKind       provider.ErrorKind
		wantText       string
		wantRetryAfter time.Duration
	}{
		{"500 on page 3", 500, "", `{"detail":"Boom","status":"500"}`, provider.KindTransient,
			"list users from scim: 500 Internal Server Error: Boom", 0},
		{"429 with Retry-After", 429, "30", `{"detail":"Too many requests","status":429}`, provider.KindRateLimited,
			"list users from scim: 429 Too Many Requests: Too many requests", 30 * time.Second},
		{"the filter refused", 400, "", `{"scimType":"invalidFilter","detail":"Filter not supported"}`, provider.KindInvalidConfig,
			"list users from scim: 400 Bad Request: the server refused the listing's filter: invalidFilter: Filter not supported", 0},
		{"invalidSyntax", 400, "", `{"scimType":"invalidSyntax"}`, provider.KindInvalidConfig,
			"list users from scim: 400 Bad Request: the server refused the listing request: invalidSyntax", 0},
		{"an expired cursor can be started again", 400, "", `{"scimType":"expiredCursor","detail":"Cursor expired"}`,
			provider.KindTransient, "list users from scim: 400 Bad Request: expiredCursor: Cursor expired", 0},
		{"the token echoed", 401, "", `{"detail":"bad token ` + testToken + `"}`, provider.KindUnauthorized,
			"list users from scim: 401 Unauthorized: bad token [REDACTED]", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDirectory(10)
			d.pageCap = 2
			d.onRequest = func(d *directory, n int, w http.ResponseWriter) bool {
				if n != 3 {
					return false
				}
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
				return true
			}
			_, c := newUpstream(t, nil, d.serveHTTP)
			listing, err := listAll(t, c, provider.ListingOptions{PageSize: 2})
			perr := requireError(t, err, tt.wantKind)
			if perr.Error() != tt.wantText || perr.RetryAfter != tt.wantRetryAfter || perr.Op != provider.OpListUsers {
				t.Errorf("error %q retry %v op %q, want %q retry %v", perr, perr.RetryAfter, perr.Op, tt.wantText, tt.wantRetryAfter)
			}
			if listing.Done() || listing.Pages() != 2 {
				t.Errorf("after a failed page: done %v after %d pages, want an unfinished listing of 2", listing.Done(), listing.Pages())
			}
		})
	}
}

func TestListPageAndGetUserExplainA400EachTheirWay(t *testing.T) {
	body := `{"scimType":"invalidFilter","detail":"nope"}`
	_, c := newUpstream(t, nil, func(w http.ResponseWriter, r *http.Request) { http.Error(w, body, http.StatusBadRequest) })
	_, lookupErr := c.GetUser(context.Background(), "alice@example.com")
	_, listErr := c.ListPage(context.Background(), provider.PageRequest{Filter: "active eq true"})
	if !strings.HasPrefix(lookupErr.Error(), "get user from scim: 400 Bad Request: the server cannot filter users by userName") {
		t.Errorf("lookup error %q", lookupErr)
	}
	if !strings.HasPrefix(listErr.Error(), "list users from scim: 400 Bad Request: the server refused the listing's filter") {
		t.Errorf("listing error %q", listErr)
	}
}
