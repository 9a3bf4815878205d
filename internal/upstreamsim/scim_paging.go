package upstreamsim

import (
	"context"
	"encoding/base64"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"

	scimerrors "github.com/elimity-com/scim/errors"
)

// Paging beyond what the library does: RFC 9865 cursors and sortBy, both off until a test turns
// them on, and a server that answers every page in a fresh order. The library knows none of it,
// so the middleware tells the store about a cursor request through the request's context and
// edits the library's answer afterwards (scim_rewrite.go).

// scimCursorTimeout is the cursorTimeout announced, in seconds; cursors never expire here.
const scimCursorTimeout = 3600

// errSCIMInvalidCursor answers a cursor the simulator never handed out (RFC 9865 §3.1).
var errSCIMInvalidCursor = scimerrors.ScimError{
	Status:   http.StatusBadRequest,
	ScimType: "invalidCursor",
	Detail:   "The cursor is not one this server handed out.",
}

// SetSCIMCursorPaging turns RFC 9865 cursor paging on or off. On, /ServiceProviderConfig
// announces it (pagination.cursor), and a list request with a cursor parameter ("cursor=" for the
// first page) is answered in id order from after the cursor, with a nextCursor while users remain
// and without startIndex; a request without one is paged by startIndex as before. Off, a cursor
// is ignored like any unknown parameter, as some servers do.
func (s *Server) SetSCIMCursorPaging(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scim.cursorPaging = on
}

// SetSCIMSorting turns sorting on or off. On, /ServiceProviderConfig announces sort.supported, and
// sortBy=id is honoured even under the ShuffledPages quirk. The simulator answers in id order
// anyway, so sorting matters only with that quirk.
func (s *Server) SetSCIMSorting(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scim.sorting = on
}

// scimCursorPage carries a cursor request from the middleware to the store and the store's
// nextCursor back.
type scimCursorPage struct {
	cursor string
	// answered is set by the store once it paged by the cursor; next is "" on the last page.
	answered bool
	next     string
}

type scimCursorPageKey struct{}

func withSCIMCursorPage(ctx context.Context, page *scimCursorPage) context.Context {
	return context.WithValue(ctx, scimCursorPageKey{}, page)
}

func scimCursorPageOf(r *http.Request) *scimCursorPage {
	page, _ := r.Context().Value(scimCursorPageKey{}).(*scimCursorPage)
	return page
}

// The cursor is the last id served, base64url-encoded so that it looks as opaque as a real one
// and travels in a URL unharmed.
func encodeSCIMCursor(lastID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(lastID))
}

func decodeSCIMCursor(cursor string) (lastID string, err error) {
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	return string(raw), err
}

// cursorPageOf is the page of at most count of the sorted ids that follows the cursor, and the
// cursor after it ("" when no id follows). A cursor's user may have gone meanwhile: the page
// starts after where it was.
func cursorPageOf(sortedIDs []string, cursor string, count int) (page []string, next string, err error) {
	start := 0
	if cursor != "" {
		lastID, err := decodeSCIMCursor(cursor)
		if err != nil || lastID == "" {
			return nil, "", errSCIMInvalidCursor
		}
		start, _ = slices.BinarySearch(sortedIDs, lastID)
		if start < len(sortedIDs) && sortedIDs[start] == lastID {
			start++
		}
	}
	page = sortedIDs[start:min(len(sortedIDs), start+max(count, 0))]
	if len(page) > 0 && start+len(page) < len(sortedIDs) {
		next = encodeSCIMCursor(page[len(page)-1])
	}
	return page, next, nil
}

// orderForPage is the order a startIndex page is cut from: id order, or under the ShuffledPages
// quirk a fresh one on every request unless it asks sortBy=id and sorting is on. The caller holds
// Server.mu; ids is not changed.
func (d *scimDirectory) orderForPage(ids []string, sortBy string) []string {
	if !d.quirks.ShuffledPages || d.sorting && strings.EqualFold(sortBy, scimAttrID) {
		return ids
	}
	shuffled := slices.Clone(ids)
	rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	return shuffled
}
