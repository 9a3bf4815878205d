package directory

import (
	"context"
	"errors"
	"fmt"
	"time"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/connection"
	"github.com/orgsync/orgsync/internal/provider"
)

// listStep is where one reconcile's share of a listing ended.
type listStep struct {
	// complete: the listing is over and holds every user.
	complete bool
	// deferred: no turn was granted (rate limit, budget, a 429's pause); the listing goes on then.
	deferred time.Duration
	// restart: the provider's settings or credential changed; the listing starts again at once.
	restart bool
	// failure: the listing failed or came back partial, and changes nothing.
	failure *failure
}

// failure is a Ready reason and message.
type failure struct {
	reason, message string
}

// holder names a directory in its provider's turn queue, apart from any OrgUser.
func holder(d *identityv1alpha1.OrgDirectory) string { return "OrgDirectory/" + string(d.UID) }

// advance reads the listing's pages for as long as the turn queue grants turns. A failed page ends
// the listing; a 429 keeps it, to go on with the same page once the pause ends. The error is the
// context's only.
func advance(ctx context.Context, d *identityv1alpha1.OrgDirectory, l *listingInProgress, now func() time.Time) (listStep, error) {
	who := holder(d)
	if l.listing == nil {
		capabilities, err := l.session.ListCapabilities(ctx, who)
		if err != nil {
			return stepAfter(ctx, err, l.session.Conn().PausedUntil(), now(), "read what the server offers a listing (/ServiceProviderConfig)")
		}
		l.listing = provider.NewListing(provider.ListingOptions{
			Filter: d.Spec.Filter, PageSize: int(d.Spec.PageSize), Capabilities: capabilities,
		})
	}
	for {
		req, more := l.listing.Next()
		if !more {
			break
		}
		page, err := l.session.ListPage(ctx, who, req)
		if err != nil {
			return stepAfter(ctx, err, l.session.Conn().PausedUntil(), now(), "read page "+describePage(l.listing.Pages()+1, req))
		}
		l.listing.Add(page)
	}
	if !l.listing.Complete() {
		return listStep{failure: &failure{reason: identityv1alpha1.ReasonListFailed,
			message: "Listing is partial and changed nothing: " + l.listing.Partial()}}, nil
	}
	return listStep{complete: true}, nil
}

// describePage names a page in messages: "3 (startIndex 201)" or "3 (cursor paging)".
func describePage(n int, req provider.PageRequest) string {
	if req.CursorPaging {
		return fmt.Sprintf("%d (cursor paging)", n)
	}
	return fmt.Sprintf("%d (startIndex %d)", n, max(req.StartIndex, 1))
}

// stepAfter classifies what stopped a request: a deferral or a 429 waits (until the provider's pause
// ends, pausedUntil), a settings change restarts, anything else fails the listing with the reason the
// contract gives it.
func stepAfter(ctx context.Context, err error, pausedUntil, now time.Time, what string) (listStep, error) {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return listStep{}, ctxErr
	}
	var deferred *connection.DeferredError
	if errors.As(err, &deferred) {
		return listStep{deferred: max(deferred.Delay, time.Millisecond)}, nil
	}
	if errors.Is(err, connection.ErrSettingsChanged) {
		return listStep{restart: true}, nil
	}
	reason := identityv1alpha1.ReasonListFailed
	switch provider.KindOf(err) {
	case provider.KindRateLimited:
		// The upstream asked every caller to wait: the pages read so far stay good.
		return listStep{deferred: max(time.Second, pausedUntil.Sub(now))}, nil
	case provider.KindUnauthorized:
		reason = identityv1alpha1.ReasonUnauthorized
	case provider.KindForbidden:
		reason = identityv1alpha1.ReasonForbidden
	case provider.KindInvalidConfig:
		reason = identityv1alpha1.ReasonProviderInvalid
	}
	return listStep{failure: &failure{reason: reason,
		message: fmt.Sprintf("Listing failed and changed nothing: %s: %v", what, err)}}, nil
}
