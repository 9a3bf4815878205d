package provider

import (
	"reflect"
	"testing"
)

// users makes one listed user per id, keyed by the id.
func users(ids ...string) []User {
	list := make([]User, 0, len(ids))
	for _, id := range ids {
		list = append(list, User{ID: id, Key: "key-" + id})
	}
	return list
}

// indexPage is a startIndex page of total users.
func indexPage(total int, ids ...string) Page {
	return Page{Users: users(ids...), TotalResults: total, HasTotalResults: true}
}

// cursorPage is a cursor page of total users, followed by next.
func cursorPage(total int, next string, ids ...string) Page {
	page := indexPage(total, ids...)
	page.NextCursor = next
	return page
}

// drive runs a listing against answers, given in order, and returns the requests it made.
func drive(t *testing.T, l *Listing, answers []Page) []PageRequest {
	t.Helper()
	var requests []PageRequest
	for {
		req, more := l.Next()
		if !more {
			break
		}
		if len(requests) == len(answers) {
			t.Fatalf("asked for page %d (%+v); the server has only %d", len(requests)+1, req, len(answers))
		}
		requests = append(requests, req)
		l.Add(answers[len(requests)-1])
	}
	if len(requests) != len(answers) {
		t.Errorf("asked for %d pages, want all %d", len(requests), len(answers))
	}
	return requests
}

func ids(list []User) []string {
	out := make([]string, 0, len(list))
	for _, user := range list {
		out = append(out, user.ID)
	}
	return out
}

func byIndex(startIndexes ...int) []PageRequest {
	requests := make([]PageRequest, 0, len(startIndexes))
	for _, startIndex := range startIndexes {
		requests = append(requests, PageRequest{Count: 2, StartIndex: startIndex})
	}
	return requests
}

func byCursor(cursors ...string) []PageRequest {
	requests := make([]PageRequest, 0, len(cursors))
	for _, cursor := range cursors {
		requests = append(requests, PageRequest{Count: 2, CursorPaging: true, Cursor: cursor})
	}
	return requests
}

func TestListing(t *testing.T) {
	cursor := ListCapabilities{CursorPaging: true}
	tests := []struct {
		name         string
		opts         ListingOptions
		answers      []Page
		wantRequests []PageRequest
		wantIDs      []string
		wantPartial  string // "" for a complete listing
	}{
		{"startIndex paging to totalResults", ListingOptions{},
			[]Page{indexPage(5, "a", "b"), indexPage(5, "c", "d"), indexPage(5, "e")},
			byIndex(1, 3, 5), []string{"a", "b", "c", "d", "e"}, ""},
		{"pages shorter than count move startIndex by what they held", ListingOptions{},
			[]Page{indexPage(4, "a"), indexPage(4, "b", "c"), indexPage(4, "d")},
			byIndex(1, 2, 4), []string{"a", "b", "c", "d"}, ""},
		{"no users at all", ListingOptions{}, []Page{indexPage(0)}, byIndex(1), []string{}, ""},
		{"a user on two pages counts once", ListingOptions{},
			[]Page{indexPage(4, "a", "b"), indexPage(4, "b", "c")},
			byIndex(1, 3), []string{"a", "b", "c"}, "listed 3 distinct users of 4"},
		{"an empty page before totalResults", ListingOptions{},
			[]Page{indexPage(5, "a", "b"), indexPage(5)},
			byIndex(1, 3), []string{"a", "b"}, "listed 2 distinct users of 5: page 2 (startIndex 3) held no users"},
		{"an empty page after users left is the end", ListingOptions{},
			[]Page{indexPage(4, "a", "b"), indexPage(2)},
			byIndex(1, 3), []string{"a", "b"}, ""},
		{"the latest totalResults counts", ListingOptions{},
			[]Page{indexPage(3, "a", "b"), indexPage(4, "c", "d")},
			byIndex(1, 3), []string{"a", "b", "c", "d"}, ""},
		{"more distinct users than the server counts", ListingOptions{},
			[]Page{indexPage(4, "a", "b"), indexPage(3, "c", "d")},
			byIndex(1, 3), []string{"a", "b", "c", "d"},
			"listed 4 distinct users of 3: more than the server counts, so users changed while they were listed"},
		{"no totalResults in startIndex paging", ListingOptions{},
			[]Page{{Users: users("a", "b")}, {Users: users("c")}, {}},
			byIndex(1, 3, 4), []string{"a", "b", "c"},
			"listed 3 distinct users, but the server never said how many there are (no totalResults)"},
		{"a negative totalResults is none", ListingOptions{},
			[]Page{{Users: users("a"), TotalResults: -1, HasTotalResults: true}, {}},
			byIndex(1, 2), []string{"a"},
			"listed 1 distinct users, but the server never said how many there are (no totalResults)"},
		{"cursor paging until the cursor runs out", ListingOptions{Capabilities: cursor},
			[]Page{cursorPage(5, "c1", "a", "b"), cursorPage(5, "c2", "c", "d"), cursorPage(5, "", "e")},
			byCursor("", "c1", "c2"), []string{"a", "b", "c", "d", "e"}, ""},
		{"cursor paging without totalResults", ListingOptions{Capabilities: cursor},
			[]Page{{Users: users("a", "b"), NextCursor: "c1"}, {Users: users("c")}},
			byCursor("", "c1"), []string{"a", "b", "c"}, ""},
		{"a cursor that ran out short of totalResults", ListingOptions{Capabilities: cursor},
			[]Page{cursorPage(5, "c1", "a", "b"), cursorPage(5, "", "c", "d")},
			byCursor("", "c1"), []string{"a", "b", "c", "d"}, "listed 4 distinct users of 5"},
		{"a cursor page without users goes on", ListingOptions{Capabilities: cursor},
			[]Page{cursorPage(2, "c1"), cursorPage(2, "", "a", "b")},
			byCursor("", "c1"), []string{"a", "b"}, ""},
		{"a server that ignores the cursor is paged by startIndex", ListingOptions{Capabilities: cursor},
			[]Page{indexPage(4, "a", "b"), indexPage(4, "c", "d")},
			[]PageRequest{{Count: 2, CursorPaging: true}, {Count: 2, StartIndex: 3}}, []string{"a", "b", "c", "d"}, ""},
		{"one cursor page without totalResults is the whole listing", ListingOptions{Capabilities: cursor},
			[]Page{{Users: users("a")}}, byCursor(""), []string{"a"}, ""},
		{"a repeated cursor", ListingOptions{Capabilities: cursor},
			[]Page{cursorPage(6, "c1", "a", "b"), cursorPage(6, "c2", "c", "d"), cursorPage(6, "c1", "a", "b")},
			byCursor("", "c1", "c2"), []string{"a", "b", "c", "d"},
			"listed 4 distinct users of 6: the server handed out a cursor it had handed out before"},
		{"a server counting more users than a listing holds", ListingOptions{MaxUsers: 3},
			[]Page{indexPage(10, "a", "b")},
			byIndex(1), []string{}, "the server counts 10 users, more than the 3 a listing may hold"},
		{"more distinct users than a listing holds", ListingOptions{MaxUsers: 3},
			[]Page{{Users: users("a", "b")}, {Users: users("c", "d")}},
			byIndex(1, 3), []string{"a", "b", "c", "d"}, "listed more than 3 distinct users, the most a listing may hold"},
		{"the page bound", ListingOptions{MaxPages: 2},
			[]Page{indexPage(5, "a"), indexPage(5, "b")},
			byIndex(1, 2), []string{"a", "b"}, "listed 2 distinct users of 5: stopped after 2 pages, the most a listing may ask for"},
		{"users without an id are not counted", ListingOptions{},
			[]Page{indexPage(2, "a", "")},
			byIndex(1), []string{"a"}, "listed 1 distinct users of 2 (1 listed users had no id and were not counted)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.PageSize = 2
			l := NewListing(tt.opts)
			requests := drive(t, l, tt.answers)
			if !reflect.DeepEqual(requests, tt.wantRequests) {
				t.Errorf("requests\n%+v\nwant\n%+v", requests, tt.wantRequests)
			}
			if got := ids(l.Users()); tt.wantIDs != nil && len(got)+len(tt.wantIDs) > 0 && !reflect.DeepEqual(got, tt.wantIDs) {
				t.Errorf("users %v, want %v", got, tt.wantIDs)
			}
			if !l.Done() || l.Complete() != (tt.wantPartial == "") || l.Partial() != tt.wantPartial {
				t.Errorf("done %v, complete %v, partial %q; want partial %q", l.Done(), l.Complete(), l.Partial(), tt.wantPartial)
			}
			if l.Pages() != len(tt.answers) {
				t.Errorf("Pages() = %d, want %d", l.Pages(), len(tt.answers))
			}
		})
	}
}

func TestListingSendsFilterSortAndPageSizeOnEveryPage(t *testing.T) {
	for _, caps := range []ListCapabilities{{Sort: true}, {Sort: true, CursorPaging: true}} {
		l := NewListing(ListingOptions{Filter: `active eq true`, PageSize: 50, Capabilities: caps})
		for page := range 3 {
			req, more := l.Next()
			if !more {
				t.Fatalf("%+v: over after %d pages", caps, page)
			}
			if req.Filter != `active eq true` || req.Count != 50 || !req.SortByID || req.CursorPaging != caps.CursorPaging {
				t.Errorf("%+v: page %d request %+v, want the filter, count 50, sortBy id", caps, page+1, req)
			}
			l.Add(cursorPage(200, string(rune('a'+page)), string(rune('a'+page))))
		}
	}
	if req, _ := NewListing(ListingOptions{}).Next(); req.Count != DefaultListPageSize || req.SortByID {
		t.Errorf("default request %+v, want count %d without sortBy", req, DefaultListPageSize)
	}
}

func TestListingKeepsTheLatestCopyOfAUserInItsFirstPlace(t *testing.T) {
	l := NewListing(ListingOptions{PageSize: 2})
	first := indexPage(3, "a", "b")
	first.Users[0].DisplayName = "old"
	second := indexPage(3, "a", "c")
	second.Users[0].DisplayName = "new"
	l.Add(first)
	l.Add(second)
	got := l.Users()
	if !reflect.DeepEqual(ids(got), []string{"a", "b", "c"}) || got[0].DisplayName != "new" || got[0].Key != "key-a" {
		t.Errorf("users %+v, want a (as last seen), b, c", got)
	}
	if !l.Complete() {
		t.Errorf("partial %q, want complete", l.Partial())
	}
	if total, known := l.TotalResults(); total != 3 || !known {
		t.Errorf("TotalResults() = %d, %v; want 3, true", total, known)
	}
}

func TestListingIgnoresPagesAfterItEnds(t *testing.T) {
	l := NewListing(ListingOptions{})
	l.Add(indexPage(1, "a"))
	l.Add(indexPage(2, "b"))
	if req, more := l.Next(); more || !reflect.DeepEqual(req, PageRequest{}) {
		t.Errorf("Next() = %+v, %v after the end", req, more)
	}
	if !l.Complete() || l.Pages() != 1 || len(l.Users()) != 1 {
		t.Errorf("complete %v, %d pages, %d users; want the first page only", l.Complete(), l.Pages(), len(l.Users()))
	}
}
