package provider

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// modelServer answers pages the way real SCIM servers do, misbehaving at random: pages shorter
// than asked for, an empty page too early, a user repeated from the page before, a fresh order on
// every request unless asked to sort, users added and removed between pages, totalResults left
// out. It records whether it misbehaved in a way that can cost a listing users.
type modelServer struct {
	rng     *rand.Rand
	ids     []string // sorted
	created int
	// The misbehaviours this server may show, drawn once per server.
	cursors, shuffles, repeats, mutates, shortPages, earlyEmpty, omitsTotal bool
	// disturbed says that users may have been missed or counted wrongly: an early empty page, a
	// repeated user, a fresh order, a user added or removed.
	disturbed bool
	// mutated says that the set of users changed during the listing.
	mutated  bool
	served   map[string]bool
	previous []string
}

func newModelServer(rng *rand.Rand) *modelServer {
	s := &modelServer{rng: rng, served: map[string]bool{}}
	for range rng.IntN(40) {
		s.insert()
	}
	s.mutated = false
	chance := func() bool { return rng.IntN(3) == 0 }
	s.cursors, s.shuffles, s.repeats, s.mutates = chance(), chance(), chance(), chance()
	s.shortPages, s.earlyEmpty, s.omitsTotal = chance(), rng.IntN(6) == 0, rng.IntN(8) == 0
	return s
}

func (s *modelServer) insert() {
	s.created++
	id := fmt.Sprintf("u%04d", s.rng.IntN(10000))
	if _, found := slices.BinarySearch(s.ids, id); found {
		return
	}
	s.ids = append(s.ids, id)
	slices.Sort(s.ids)
	s.mutated = true
}

func (s *modelServer) capabilities() ListCapabilities {
	return ListCapabilities{CursorPaging: s.cursors, Sort: s.shuffles && s.rng.IntN(2) == 0}
}

// serve answers req. Cursors are the last id served, so a cursor page starts after it.
func (s *modelServer) serve(req PageRequest) Page {
	if s.mutates && s.rng.IntN(3) == 0 {
		if len(s.ids) > 0 && s.rng.IntN(2) == 0 {
			i := s.rng.IntN(len(s.ids))
			s.ids = slices.Delete(s.ids, i, i+1)
			s.mutated = true
		} else {
			s.insert()
		}
		s.disturbed = s.disturbed || s.mutated
	}
	order := s.ids
	if s.shuffles && !req.SortByID && !req.CursorPaging {
		order = slices.Clone(s.ids)
		s.rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		s.disturbed = true
	}
	start := max(req.StartIndex, 1) - 1
	if req.CursorPaging {
		start, _ = slices.BinarySearch(order, req.Cursor)
		if start < len(order) && order[start] == req.Cursor {
			start++
		}
	}
	count := req.Count
	if s.shortPages {
		count = 1 + s.rng.IntN(count)
	}
	if s.earlyEmpty && s.rng.IntN(4) == 0 {
		count = 0
		s.disturbed = true
	}
	start = min(start, len(order))
	pageIDs := slices.Clone(order[start:min(len(order), start+count)])
	if s.repeats && len(s.previous) > 0 && len(pageIDs) > 0 && s.rng.IntN(2) == 0 {
		pageIDs[0] = s.previous[s.rng.IntN(len(s.previous))]
		s.disturbed = true
	}
	page := Page{TotalResults: len(s.ids), HasTotalResults: !s.omitsTotal}
	for _, id := range pageIDs {
		page.Users = append(page.Users, User{ID: id, Key: "key-" + id})
		s.served[id] = true
	}
	if req.CursorPaging && start+count < len(order) && len(pageIDs) > 0 {
		page.NextCursor = order[start+count-1]
	}
	s.previous = pageIDs
	return page
}

func TestListingProperties(t *testing.T) {
	for seed := range uint64(3000) {
		rng := rand.New(rand.NewPCG(seed, 0x5c1a))
		server := newModelServer(rng)
		opts := ListingOptions{PageSize: 1 + rng.IntN(12), Capabilities: server.capabilities(), MaxPages: 500}
		l := NewListing(opts)
		lastStart := 0
		for pages := 0; ; pages++ {
			req, more := l.Next()
			if !more {
				break
			}
			if pages > opts.MaxPages {
				t.Fatalf("seed %d: more than %d pages", seed, opts.MaxPages)
			}
			if req.Count != opts.PageSize || req.SortByID != opts.Capabilities.Sort {
				t.Fatalf("seed %d: request %+v for options %+v", seed, req, opts)
			}
			if !req.CursorPaging {
				if req.StartIndex <= lastStart {
					t.Fatalf("seed %d: startIndex %d after %d", seed, req.StartIndex, lastStart)
				}
				lastStart = req.StartIndex
			}
			l.Add(server.serve(req))
		}
		checkListing(t, seed, l, server)
	}
}

// checkListing holds whatever the server did: every user served is listed once, and nothing else;
// a complete listing adds up; one the server did not disturb is complete and exact.
func checkListing(t *testing.T, seed uint64, l *Listing, server *modelServer) {
	t.Helper()
	listed := map[string]bool{}
	for _, user := range l.Users() {
		if listed[user.ID] {
			t.Fatalf("seed %d: user %s listed twice", seed, user.ID)
		}
		if user.Key != "key-"+user.ID {
			t.Fatalf("seed %d: user %s has key %q", seed, user.ID, user.Key)
		}
		listed[user.ID] = true
	}
	if len(listed) != len(server.served) {
		t.Fatalf("seed %d: listed %d users, the server served %d distinct", seed, len(listed), len(server.served))
	}
	for id := range server.served {
		if !listed[id] {
			t.Fatalf("seed %d: served user %s missing", seed, id)
		}
	}
	if !l.Done() || l.Complete() == (l.Partial() != "") {
		t.Fatalf("seed %d: done %v, complete %v, partial %q", seed, l.Done(), l.Complete(), l.Partial())
	}
	if partial := l.Partial(); partial != "" && !strings.HasPrefix(partial, "listed ") {
		t.Fatalf("seed %d: partial %q does not say how many users were listed", seed, partial)
	}
	total, known := l.TotalResults()
	if l.Complete() && known && len(listed) != total {
		t.Fatalf("seed %d: complete with %d users of %d", seed, len(listed), total)
	}
	// Without a totalResults a cursor's end is taken on trust, so only a count can be checked.
	if l.Complete() && known && !server.mutated && len(listed) != len(server.ids) {
		t.Fatalf("seed %d: complete with %d of the %d users, though none changed", seed, len(listed), len(server.ids))
	}
	wantComplete := !server.disturbed && (!server.omitsTotal || server.cursors)
	if wantComplete && !l.Complete() {
		t.Fatalf("seed %d: an undisturbed listing is partial: %s (server %+v)", seed, l.Partial(), server)
	}
}
