package provider

import "fmt"

// The bounds of a Listing when ListingOptions leave them 0.
const (
	// DefaultListPageSize is the count asked for per page, the contract's default pageSize.
	DefaultListPageSize = 100
	// DefaultMaxListedUsers bounds the users one listing holds in memory: a server that counts a
	// billion users, or invents a new id on every page, must not grow the manager without end.
	DefaultMaxListedUsers = 100_000
	// DefaultMaxListPages bounds the requests of one listing: a server that hands out a new cursor
	// forever, or one user per page, ends as a partial listing instead of an endless one.
	DefaultMaxListPages = 10_000
)

// ListingOptions describe one listing.
type ListingOptions struct {
	// Filter is sent with every page; "" lists every user.
	Filter string
	// PageSize is the count asked for per page; 0 means DefaultListPageSize.
	PageSize int
	// Capabilities are the server's, from Lister.ListCapabilities: cursor paging is used when
	// offered, and sortBy=id asked for when the server sorts.
	Capabilities ListCapabilities
	// MaxUsers and MaxPages bound the listing; 0 means DefaultMaxListedUsers, DefaultMaxListPages.
	MaxUsers int
	MaxPages int
}

// Listing decides which pages a listing asks for and whether the pages it got make a complete
// listing. It sends nothing itself: the caller asks Next for a request, sends it (through its own
// rate limit), and hands the answer to Add, until Next says the listing is over.
//
// Pages are not a snapshot, and some servers answer each page in a fresh order, so a user can be
// on two pages and another on none. Users are told apart by ID, so one on two pages counts once;
// a listing is complete only when its distinct users are exactly as many as the server's latest
// totalResults (or, in cursor paging without a totalResults, when the cursor runs out). Anything
// else is partial, with the reason in Partial.
//
// A Listing is not safe for concurrent use.
type Listing struct {
	filter   string
	pageSize int
	sortByID bool
	maxUsers int
	maxPages int

	// cursorPaging is the paging in use: it starts as the capabilities say and falls back to
	// startIndex paging when the first page carries no nextCursor, as servers that accept a cursor
	// and ignore it answer.
	cursorPaging bool
	next         PageRequest
	sentCursors  map[string]bool

	users     []User
	positions map[string]int // by id, into users
	withoutID int
	total     int
	hasTotal  bool
	pages     int

	done    bool
	partial string
}

// NewListing starts a listing at its first page.
func NewListing(opts ListingOptions) *Listing {
	l := &Listing{
		filter:       opts.Filter,
		pageSize:     positiveOr(opts.PageSize, DefaultListPageSize),
		sortByID:     opts.Capabilities.Sort,
		maxUsers:     positiveOr(opts.MaxUsers, DefaultMaxListedUsers),
		maxPages:     positiveOr(opts.MaxPages, DefaultMaxListPages),
		cursorPaging: opts.Capabilities.CursorPaging,
		sentCursors:  map[string]bool{},
		positions:    map[string]int{},
	}
	l.next = l.request(1, "")
	return l
}

func positiveOr(n, fallback int) int {
	if n > 0 {
		return n
	}
	return fallback
}

// request is the PageRequest for a page at startIndex, or at cursor in cursor paging.
func (l *Listing) request(startIndex int, cursor string) PageRequest {
	req := PageRequest{Filter: l.filter, Count: l.pageSize, SortByID: l.sortByID}
	if l.cursorPaging {
		req.CursorPaging, req.Cursor = true, cursor
	} else {
		req.StartIndex = startIndex
	}
	return req
}

// Next is the request for the next page, and false once the listing is over.
func (l *Listing) Next() (PageRequest, bool) {
	if l.done {
		return PageRequest{}, false
	}
	return l.next, true
}

// Add records the answer to the request Next returned last. After the listing is over it does
// nothing.
func (l *Listing) Add(page Page) {
	if l.done {
		return
	}
	l.pages++
	if page.HasTotalResults && page.TotalResults >= 0 {
		l.total, l.hasTotal = page.TotalResults, true
	}
	if l.hasTotal && l.total > l.maxUsers {
		l.stop(fmt.Sprintf("the server counts %d users, more than the %d a listing may hold", l.total, l.maxUsers))
		return
	}
	for _, user := range page.Users {
		l.addUser(user)
	}
	if len(l.users) > l.maxUsers {
		l.stop(fmt.Sprintf("listed more than %d distinct users, the most a listing may hold", l.maxUsers))
		return
	}
	if l.cursorPaging {
		l.advanceByCursor(page)
	} else {
		l.advanceByIndex(page)
	}
	if !l.done && l.pages >= l.maxPages {
		l.stop(l.shortOf() + fmt.Sprintf(": stopped after %d pages, the most a listing may ask for", l.pages))
	}
}

// addUser keeps the latest copy of a user seen before, in the place it was first seen.
func (l *Listing) addUser(user User) {
	if user.ID == "" {
		l.withoutID++ // nothing tells it apart from another user; it cannot be counted
		return
	}
	if position, seen := l.positions[user.ID]; seen {
		l.users[position] = user
		return
	}
	l.positions[user.ID] = len(l.users)
	l.users = append(l.users, user)
}

// advanceByCursor follows nextCursor. Without one the cursor has run out, except on a first page
// with a totalResults: servers that accept a cursor and ignore it answer the first page by index,
// so the listing goes on by index. A first page without totalResults is RFC 9865's, since RFC
// 7644 requires one, and so its missing nextCursor is the end.
func (l *Listing) advanceByCursor(page Page) {
	switch {
	case page.NextCursor == "" && l.pages == 1 && l.hasTotal:
		l.cursorPaging = false
		l.advanceByIndex(page)
	case page.NextCursor == "":
		l.finish("")
	case l.sentCursors[page.NextCursor]:
		// Asking again would repeat pages already read, and so on for ever.
		l.stop(l.shortOf() + ": the server handed out a cursor it had handed out before")
	default:
		l.sentCursors[page.NextCursor] = true
		l.next = l.request(0, page.NextCursor)
	}
}

// advanceByIndex moves startIndex past the users the page held, which may be fewer than asked for,
// and stops on an empty page or once startIndex passes totalResults: never on itemsPerPage, which
// servers report inconsistently.
func (l *Listing) advanceByIndex(page Page) {
	startIndex := max(l.next.StartIndex, 1)
	if len(page.Users) == 0 {
		l.finish(fmt.Sprintf("page %d (startIndex %d) held no users", l.pages, startIndex))
		return
	}
	nextIndex := startIndex + len(page.Users)
	if l.hasTotal && nextIndex-1 >= l.total {
		l.finish("")
		return
	}
	l.next = l.request(nextIndex, "")
}

// finish ends a listing that read every page the server offered; it is complete when the
// distinct users add up. why explains a shortfall, if there is one.
func (l *Listing) finish(why string) {
	switch {
	case !l.hasTotal && l.cursorPaging:
		// RFC 9865 lets a server leave totalResults out; the cursor running out is the end.
		l.done = true
	case !l.hasTotal:
		l.stop(fmt.Sprintf("listed %d distinct users, but the server never said how many there are (no totalResults)", len(l.users)))
	case len(l.users) == l.total:
		l.done = true
	case len(l.users) > l.total:
		l.stop(l.shortOf() + ": more than the server counts, so users changed while they were listed")
	case why != "":
		l.stop(l.shortOf() + ": " + why)
	default:
		l.stop(l.shortOf())
	}
}

// stop ends the listing as partial.
func (l *Listing) stop(reason string) {
	if l.withoutID > 0 {
		reason += fmt.Sprintf(" (%d listed users had no id and were not counted)", l.withoutID)
	}
	l.done, l.partial = true, reason
}

// shortOf says how far the listing got: "listed 180 distinct users of 200".
func (l *Listing) shortOf() string {
	if !l.hasTotal {
		return fmt.Sprintf("listed %d distinct users", len(l.users))
	}
	return fmt.Sprintf("listed %d distinct users of %d", len(l.users), l.total)
}

// Done reports that the listing is over, complete or not.
func (l *Listing) Done() bool { return l.done }

// Complete reports that the listing is over and holds every user the server has.
func (l *Listing) Complete() bool { return l.done && l.partial == "" }

// Partial is why an ended listing is not complete, e.g. "listed 180 distinct users of 200"; ""
// while it goes on and when it is complete.
func (l *Listing) Partial() string { return l.partial }

// Users are the distinct users listed so far, in the order first seen, each as last seen. The
// slice is the listing's own: the caller must not change it.
func (l *Listing) Users() []User { return l.users }

// TotalResults is the server's latest count of the listing's users, and whether it gave one.
func (l *Listing) TotalResults() (int, bool) { return l.total, l.hasTotal }

// Pages is how many pages were added.
func (l *Listing) Pages() int { return l.pages }
