package directory

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/connection"
	"github.com/orgsync/orgsync/internal/provider"
)

func TestStepAfter(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	listErr := func(kind provider.ErrorKind, status int) error {
		return &provider.Error{Provider: "scim", Op: provider.OpListUsers, Kind: kind, StatusCode: status, Message: "boom"}
	}
	tests := []struct {
		name        string
		err         error
		pausedUntil time.Time
		want        listStep
		wantInText  string
	}{
		{name: "no turn: come back when told", err: &connection.DeferredError{Delay: 300 * time.Millisecond, Cause: "client"},
			want: listStep{deferred: 300 * time.Millisecond}},
		{name: "settings changed: start again", err: fmt.Errorf("page: %w", connection.ErrSettingsChanged), want: listStep{restart: true}},
		{name: "429: wait out the pause, keep the pages", err: listErr(provider.KindRateLimited, http.StatusTooManyRequests),
			pausedUntil: now.Add(20 * time.Second), want: listStep{deferred: 20 * time.Second}},
		{name: "429 whose pause is over: a second", err: listErr(provider.KindRateLimited, http.StatusTooManyRequests),
			want: listStep{deferred: time.Second}},
		{name: "500 fails the listing", err: listErr(provider.KindTransient, http.StatusInternalServerError),
			want: listStep{failure: &failure{reason: identityv1alpha1.ReasonListFailed}}, wantInText: "500"},
		{name: "401", err: listErr(provider.KindUnauthorized, http.StatusUnauthorized),
			want: listStep{failure: &failure{reason: identityv1alpha1.ReasonUnauthorized}}},
		{name: "403", err: listErr(provider.KindForbidden, http.StatusForbidden),
			want: listStep{failure: &failure{reason: identityv1alpha1.ReasonForbidden}}},
		{name: "filter refused", err: listErr(provider.KindInvalidConfig, http.StatusBadRequest),
			want: listStep{failure: &failure{reason: identityv1alpha1.ReasonProviderInvalid}}},
		{name: "not a provider error", err: errors.New("connection reset"),
			want: listStep{failure: &failure{reason: identityv1alpha1.ReasonListFailed}}, wantInText: "connection reset"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := stepAfter(context.Background(), tc.err, tc.pausedUntil, now, "read page 3 (startIndex 201)")
			if err != nil {
				t.Fatal(err)
			}
			if got.deferred != tc.want.deferred || got.restart != tc.want.restart || got.complete {
				t.Errorf("step = %+v, want %+v", got, tc.want)
			}
			switch {
			case (got.failure == nil) != (tc.want.failure == nil):
				t.Errorf("failure = %+v, want %+v", got.failure, tc.want.failure)
			case got.failure != nil:
				if got.failure.reason != tc.want.failure.reason {
					t.Errorf("reason = %s, want %s", got.failure.reason, tc.want.failure.reason)
				}
				if !strings.Contains(got.failure.message, "page 3") || !strings.Contains(got.failure.message, tc.wantInText) {
					t.Errorf("message %q, want the page and %q", got.failure.message, tc.wantInText)
				}
			}
		})
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := stepAfter(ctx, context.Canceled, time.Time{}, now, "page"); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled reconcile = %v, want its context's error, not a failed listing", err)
	}
}

// pagedProvider lists users 1..total, pageCap a page, by startIndex; it looks nobody up.
type pagedProvider struct{ total, pageCap int }

func (p pagedProvider) Name() string                                       { return "paged" }
func (pagedProvider) ValidateKey(string) error                             { return nil }
func (p pagedProvider) NewClient(provider.Config) (provider.Client, error) { return p, nil }
func (pagedProvider) GetUser(context.Context, string) (provider.User, error) {
	return provider.User{}, errors.New("no lookups here")
}
func (pagedProvider) ListCapabilities(context.Context) (provider.ListCapabilities, error) {
	return provider.ListCapabilities{}, nil
}

func (p pagedProvider) ListPage(_ context.Context, req provider.PageRequest) (provider.Page, error) {
	page := provider.Page{TotalResults: p.total, HasTotalResults: true}
	for i := max(req.StartIndex, 1); i <= p.total && len(page.Users) < min(req.Count, p.pageCap); i++ {
		page.Users = append(page.Users, provider.User{ID: fmt.Sprint(i), Key: fmt.Sprintf("user-%d", i)})
	}
	return page, nil
}

// Each reconcile reads the pages the turn queue grants and comes back when told; the listing goes
// on where it stopped until it is complete.
func TestAdvanceReadsPagesAcrossDeferrals(t *testing.T) {
	registry := provider.Registry{"paged": pagedProvider{total: 10, pageCap: 2}}
	pool := connection.NewPool(registry, connection.PoolOptions{})
	conn, err := pool.Get("provider-uid", connection.Settings{Provider: "paged", RequestsPerSecond: 5, Burst: 2})
	if err != nil {
		t.Fatal(err)
	}
	session, err := conn.BeginListing()
	if err != nil {
		t.Fatal(err)
	}
	d := testDirectory()
	d.Spec.PageSize = 5
	l := &listingInProgress{session: session}

	reconciles := 0
	for {
		reconciles++
		step, err := advance(context.Background(), d, l, time.Now)
		if err != nil {
			t.Fatal(err)
		}
		if step.failure != nil || step.restart {
			t.Fatalf("reconcile %d: %+v", reconciles, step)
		}
		if step.complete {
			break
		}
		if step.deferred <= 0 || reconciles > 20 {
			t.Fatalf("reconcile %d ended neither complete nor deferred: %+v", reconciles, step)
		}
		time.Sleep(step.deferred)
	}
	if got := len(l.listing.Users()); got != 10 || l.listing.Pages() != 5 {
		t.Errorf("listed %d users in %d pages, want 10 in 5 (pages capped at 2)", got, l.listing.Pages())
	}
	if reconciles < 2 {
		t.Errorf("the whole listing fit in %d reconcile with a burst of 2: the turn queue was not asked", reconciles)
	}
}
