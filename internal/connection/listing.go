package connection

import (
	"context"
	"errors"
	"time"

	"github.com/orgsync/orgsync/internal/provider"
)

// ErrCannotList is returned by BeginListing when the provider's client cannot list its users
// (mixpeek, flashback): it does not implement provider.Lister.
var ErrCannotList = errors.New("the provider cannot list its users")

// ErrSettingsChanged is returned by a ListingSession's requests once the connection's settings or
// credential changed after the listing began: the pages read so far may come from another
// organization, or were read with a credential that no longer holds, so the listing must start again.
var ErrSettingsChanged = errors.New("the provider's settings or credential changed during the listing")

// ListingSession sends the requests of one listing (an OrgDirectory's) through its connection: each
// request takes its turn from the same queue as every lookup of the provider, so a listing shares the
// rate limit, a 429 pauses lookups and listings alike, and a listing's pages hold at most the
// in-flight budget's slots. It remembers the credential the listing began with, so that nothing read
// with it is sent on, or filed for lookups, under another.
type ListingSession struct {
	conn        *Conn
	lister      provider.Lister
	fingerprint [32]byte
}

// BeginListing starts a listing with the connection's current client, or returns ErrCannotList.
func (c *Conn) BeginListing() (*ListingSession, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	lister, ok := c.client.(provider.Lister)
	if !ok {
		return nil, ErrCannotList
	}
	return &ListingSession{conn: c, lister: lister, fingerprint: c.fingerprint}, nil
}

// Conn is the connection the session sends through.
func (s *ListingSession) Conn() *Conn { return s.conn }

// ListCapabilities says what the server offers a listing. The first successful answer for the
// connection's client is kept, so later listings ask again only after the settings change, and
// spend no turn. holder names the caller in the turn queue, as Request.Holder does.
func (s *ListingSession) ListCapabilities(ctx context.Context, holder string) (provider.ListCapabilities, error) {
	c := s.conn
	c.mu.Lock()
	known, current := c.capabilities, c.fingerprint == s.fingerprint
	c.mu.Unlock()
	if !current {
		return provider.ListCapabilities{}, ErrSettingsChanged
	}
	if known != nil {
		return *known, nil
	}
	var capabilities provider.ListCapabilities
	err := s.request(ctx, holder, func(ctx context.Context) (err error) {
		capabilities, err = s.lister.ListCapabilities(ctx)
		return err
	})
	if err != nil {
		return provider.ListCapabilities{}, err
	}
	c.mu.Lock()
	if c.fingerprint == s.fingerprint {
		c.capabilities = &capabilities
	}
	c.mu.Unlock()
	return capabilities, nil
}

// ListPage reads one page once the turn queue grants a turn, exactly as a lookup would: otherwise it
// returns a *DeferredError saying when to come back, and the caller keeps its turn under holder.
func (s *ListingSession) ListPage(ctx context.Context, holder string, req provider.PageRequest) (provider.Page, error) {
	var page provider.Page
	err := s.request(ctx, holder, func(ctx context.Context) (err error) {
		page, err = s.lister.ListPage(ctx, req)
		return err
	})
	return page, err
}

// request sends call on a turn of the connection's queue, or returns a *DeferredError, or
// ErrSettingsChanged once the credential is not the session's any more.
func (s *ListingSession) request(ctx context.Context, holder string, call func(context.Context) error) error {
	c := s.conn
	var giveUp *time.Timer
	defer func() {
		if giveUp != nil {
			giveUp.Stop()
		}
	}()
	for {
		c.mu.Lock()
		if c.fingerprint != s.fingerprint {
			c.mu.Unlock()
			return ErrSettingsChanged
		}
		t := c.turns.take(holder, c.now(), c.shortWait)
		c.mu.Unlock()
		if t.granted {
			return c.send(ctx, t.wait, call)
		}
		if err := c.waitOrDefer(ctx, t, &giveUp); err != nil {
			return err
		}
	}
}

// Remember files a complete listing's users as answers for lookups of their keys, as if each had
// been looked up at fetchedAt, and keeps them for keepFor: a lookup whose MaxAge covers their age is
// then served without a request. Users without a key are skipped. It returns the keys whose answer
// is new (no answer was kept for them, or it said something else): only their OrgUsers can show
// anything the ones before did not. Nothing is filed, and false returned, when the credential
// changed since the listing began: those answers can serve nobody.
func (s *ListingSession) Remember(users []provider.User, fetchedAt time.Time, keepFor time.Duration) (renewed []string, ok bool) {
	c := s.conn
	c.mu.Lock()
	current := c.fingerprint == s.fingerprint
	c.mu.Unlock()
	if !current {
		return nil, false
	}
	// A credential change from here on files these under the old fingerprint, which no lookup
	// with the new one reads, and which the sweep removes.
	return c.answers.putAll(s.fingerprint, users, fetchedAt, keepFor, c.now()), true
}

// Forget drops every answer for keys under the listing's credential: a complete listing lacks these
// users, so an answer read before (by an earlier listing, or a lookup) must not serve their next
// lookup, which goes upstream and tells what became of them.
func (s *ListingSession) Forget(keys []string) {
	s.conn.answers.drop(s.fingerprint, keys)
}
