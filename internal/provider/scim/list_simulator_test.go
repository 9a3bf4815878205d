package scim

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/orgsync/orgsync/internal/provider"
	"github.com/orgsync/orgsync/internal/upstreamsim"
)

// The listing against the simulator, whose answers come from a SCIM library nobody here wrote: its
// ServiceProviderConfig, its ListResponse (itemsPerPage echoing the count), its capped pages.

const simulatedUsers = 250

func startSimulator(t *testing.T) (*upstreamsim.Server, *Client) {
	t.Helper()
	sim := upstreamsim.New()
	if err := sim.Start(); err != nil {
		t.Fatalf("start simulator: %v", err)
	}
	t.Cleanup(sim.Close)
	sim.AllowToken(testToken)
	for i := range simulatedUsers {
		sim.PutSCIMUser(upstreamsim.SCIMUser{ID: fmt.Sprintf("id-%04d", i), UserName: fmt.Sprintf("user-%d@example.com", i), Active: true})
	}
	sim.SetSCIMPageCap(40)
	c, err := NewClient(provider.Config{
		BaseURL: sim.SCIMBaseURL(), Token: testToken, CABundle: sim.CABundle(), UserAgent: testUserAgent, AllowPrivateAddresses: true,
	})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return sim, c
}

// listSimulator lists with the capabilities the simulator announces.
func listSimulator(t *testing.T, c *Client) (*provider.Listing, provider.ListCapabilities, error) {
	t.Helper()
	capabilities, err := c.ListCapabilities(context.Background())
	if err != nil {
		t.Fatalf("ListCapabilities: %v", err)
	}
	listing, err := listAll(t, c, provider.ListingOptions{PageSize: 100, Capabilities: capabilities})
	return listing, capabilities, err
}

func TestListingTheSimulator(t *testing.T) {
	tests := []struct {
		name             string
		setUp            func(sim *upstreamsim.Server)
		wantCapabilities provider.ListCapabilities
		wantComplete     bool
	}{
		{"startIndex paging over capped pages", func(*upstreamsim.Server) {}, provider.ListCapabilities{}, true},
		{"cursor paging", func(sim *upstreamsim.Server) { sim.SetSCIMCursorPaging(true) },
			provider.ListCapabilities{CursorPaging: true}, true},
		{"a fresh order on every page, sorted on request", func(sim *upstreamsim.Server) {
			sim.SetSCIMQuirks(upstreamsim.SCIMQuirks{ShuffledPages: true})
			sim.SetSCIMSorting(true)
		}, provider.ListCapabilities{Sort: true}, true},
		{"a fresh order on every page, no sorting: partial", func(sim *upstreamsim.Server) {
			sim.SetSCIMQuirks(upstreamsim.SCIMQuirks{ShuffledPages: true})
		}, provider.ListCapabilities{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim, c := startSimulator(t)
			tt.setUp(sim)
			listing, capabilities, err := listSimulator(t, c)
			if err != nil {
				t.Fatalf("listing: %v", err)
			}
			if capabilities != tt.wantCapabilities {
				t.Errorf("capabilities %+v, want %+v", capabilities, tt.wantCapabilities)
			}
			if listing.Complete() != tt.wantComplete {
				t.Fatalf("complete %v (%s), want %v", listing.Complete(), listing.Partial(), tt.wantComplete)
			}
			if !tt.wantComplete {
				if !strings.HasSuffix(listing.Partial(), fmt.Sprintf(" distinct users of %d", simulatedUsers)) {
					t.Errorf("partial %q, want how many distinct users of %d", listing.Partial(), simulatedUsers)
				}
				return
			}
			if users := listing.Users(); len(users) != simulatedUsers || users[0].Key != "user-0@example.com" {
				t.Errorf("%d users, first key %q", len(users), users[0].Key)
			}
			if pages := sim.SCIMListRequests(); pages != 7 { // 250 users in pages of at most 40
				t.Errorf("%d listing requests, want 7", pages)
			}
		})
	}
}

func TestListingTheSimulatorFailsWithItsPage(t *testing.T) {
	sim, c := startSimulator(t)
	sim.InjectSCIMListFault(3, upstreamsim.Fault{Status: http.StatusInternalServerError})
	listing, _, err := listSimulator(t, c)
	perr := requireError(t, err, provider.KindTransient)
	if want := "list users from scim: 500 Internal Server Error: Internal Server Error"; perr.Error() != want {
		t.Errorf("error %q, want %q", perr, want)
	}
	if listing.Pages() != 2 || listing.Done() {
		t.Errorf("%d pages, done %v; want two pages of an unfinished listing", listing.Pages(), listing.Done())
	}
}
