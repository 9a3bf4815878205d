package scim

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/orgsync/orgsync/internal/provider"
)

// directory is a SCIM service's /Users listing served from memory, in id order, paging by
// startIndex and, when cursors is set, by RFC 9865 cursor (the cursor is the last id served).
// Tests change it between pages through onRequest, which sees every request first and may answer
// it itself.
type directory struct {
	mu       sync.Mutex
	ids      []string
	pageCap  int
	cursors  bool
	requests []url.Values
	// onRequest runs before each request is answered, n counting from 1; true means it answered.
	onRequest func(d *directory, n int, w http.ResponseWriter) bool
}

// newDirectory holds users u01..u<n>.
func newDirectory(n int) *directory {
	d := &directory{pageCap: 1000}
	for i := 1; i <= n; i++ {
		d.ids = append(d.ids, fmt.Sprintf("u%02d", i))
	}
	return d
}

// userJSON is the user with id: userName and externalId derive from it.
func userJSON(id string) string {
	return fmt.Sprintf(`{"id":%q,"userName":"%s@example.com","externalId":"ext-%s","active":true}`, id, id, id)
}

func (d *directory) serveHTTP(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	defer d.mu.Unlock()
	query := r.URL.Query()
	d.requests = append(d.requests, query)
	if d.onRequest != nil && d.onRequest(d, len(d.requests), w) {
		return
	}
	count := d.pageCap
	if n, err := strconv.Atoi(query.Get("count")); err == nil {
		count = min(n, d.pageCap)
	}
	start := 0
	_, byCursor := query["cursor"]
	if byCursor && d.cursors {
		if cursor := query.Get("cursor"); cursor != "" {
			start, _ = slices.BinarySearch(d.ids, cursor)
			if start < len(d.ids) && d.ids[start] == cursor {
				start++
			}
		}
	} else if n, err := strconv.Atoi(query.Get("startIndex")); err == nil && n > 1 {
		start = n - 1
	}
	start = min(start, len(d.ids))
	page := d.ids[start:min(len(d.ids), start+count)]
	resources := make([]string, 0, len(page))
	for _, id := range page {
		resources = append(resources, userJSON(id))
	}
	next := ""
	if byCursor && d.cursors && start+len(page) < len(d.ids) {
		next = fmt.Sprintf(`,"nextCursor":%q`, page[len(page)-1])
	}
	w.Header().Set("Content-Type", "application/scim+json")
	fmt.Fprintf(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":%d,"itemsPerPage":%d,`+
		`"startIndex":%d,"Resources":[%s]%s}`, len(d.ids), count, start+1, strings.Join(resources, ","), next)
}

// insert adds a user; the caller holds d.mu (onRequest does).
func (d *directory) insert(id string) {
	d.ids = append(d.ids, id)
	slices.Sort(d.ids)
}

// sent is request n's query, counting from 1.
func (d *directory) sent(t *testing.T, n int) url.Values {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	if n > len(d.requests) {
		t.Fatalf("request %d asked for; the server saw %d", n, len(d.requests))
	}
	return d.requests[n-1]
}

func (d *directory) requestCount() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.requests)
}

// listAll runs a whole listing through c, as the caller will: one ListPage per page Listing asks
// for. It returns the listing and the error of the page that failed, if one did.
func listAll(t *testing.T, c *Client, opts provider.ListingOptions) (*provider.Listing, error) {
	t.Helper()
	listing := provider.NewListing(opts)
	for pages := 0; ; pages++ {
		req, more := listing.Next()
		if !more {
			return listing, nil
		}
		if pages > 100 {
			t.Fatalf("more than 100 pages")
		}
		page, err := c.ListPage(context.Background(), req)
		if err != nil {
			return listing, err
		}
		listing.Add(page)
	}
}

// listedIDs are the ids of a listing's users, in order.
func listedIDs(users []provider.User) []string {
	ids := make([]string, 0, len(users))
	for _, user := range users {
		ids = append(ids, user.ID)
	}
	return ids
}

// wantIDs is u01..u<n>.
func wantIDs(n int) []string { return newDirectory(n).ids }
