// Package connection keeps one upstream connection per provider object. Each is three parts, one idea
// each: a turn queue (token bucket, reservations, 429 pause, in-flight budget; turns.go) that answers
// "send now" or "come back at T" and never blocks a worker; an answer cache keyed by credential
// fingerprint and key (answers.go); and the thin Lookup on top (conn.go), beside the ListingSession
// that sends a directory's pages on the same turns and files a complete listing as answers
// (listing.go). It is the one place that knows about rate limits, so every OrgUser and OrgDirectory
// of a provider shares them.
package connection

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/orgsync/orgsync/internal/provider"
)

// Settings is everything that determines how one provider object talks to its upstream.
type Settings struct {
	Provider          string
	BaseURL           string
	CABundle          []byte
	Timeout           time.Duration
	Token             string
	RequestsPerSecond float64
	Burst             int
	// Options are the provider's own settings (provider.Config.Options), e.g. how SCIM derives roles.
	Options any
}

// fingerprint changes whenever a new client must be built; the token is hashed so it is not kept twice.
// Answers are keyed by it too, so it covers everything that changes what an answer says.
func (s Settings) fingerprint() [32]byte {
	h := sha256.New()
	_, _ = fmt.Fprintf(h, "%s\x00%s\x00%d\x00", s.Provider, s.BaseURL, s.Timeout)
	_, _ = h.Write(s.CABundle)
	_, _ = h.Write([]byte{0})
	options, _ := json.Marshal(s.Options) // plain data; a type json cannot encode hashes as empty
	_, _ = h.Write(options)
	_, _ = h.Write([]byte{0})
	_, _ = h.Write([]byte(s.Token))
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum
}

// PoolOptions tunes every connection of a pool.
type PoolOptions struct {
	UserAgent string
	// MaxInFlight is how many requests one provider object may have waiting for an answer; default 16.
	MaxInFlight int
	// AllowPrivateAddresses lets every client reach loopback and private addresses
	// (--allow-private-addresses: a simulator or an in-cluster upstream). Link-local and cloud
	// metadata addresses stay refused regardless.
	AllowPrivateAddresses bool
}

// Pool holds connections keyed by the provider object's UID. It is safe for concurrent use.
type Pool struct {
	registry    provider.Registry
	userAgent   string
	maxInFlight int
	now         func() time.Time
	// shortWait is how long a caller may block on the token bucket before being told to come back later.
	shortWait             time.Duration
	allowPrivateAddresses bool

	mu    sync.Mutex
	conns map[string]*Conn
	// forgotten are the provider objects deleted recently, by UID: a reconcile that still sees one in
	// a lagging cache must not build its connection again.
	forgotten map[string]time.Time
}

// ErrForgotten is returned by Get for a provider object that was deleted: its users should wait for
// the cache to catch up, which then shows the provider missing.
var ErrForgotten = errors.New("provider object was deleted")

// forgetFor is how long a deleted provider's UID is remembered; a cache lags by far less.
const forgetFor = 10 * time.Minute

// defaultMaxInFlight is enough to keep a 20 ms upstream at several hundred requests a second, and few
// enough that a provider that never answers holds only a small share of the controller's workers.
const defaultMaxInFlight = 16

// NewPool returns an empty pool that builds clients from registry.
func NewPool(registry provider.Registry, opts PoolOptions) *Pool {
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = defaultMaxInFlight
	}
	return &Pool{registry: registry, userAgent: opts.UserAgent, maxInFlight: opts.MaxInFlight, now: time.Now,
		shortWait: 50 * time.Millisecond, allowPrivateAddresses: opts.AllowPrivateAddresses,
		conns: map[string]*Conn{}, forgotten: map[string]time.Time{}}
}

// Get returns the connection for the provider object id, building or updating it when the settings
// changed. The rate limiter and any 429 pause survive a settings change: they describe the upstream
// organization, not the client.
func (p *Pool) Get(id string, s Settings) (*Conn, error) {
	backend, ok := p.registry[s.Provider]
	if !ok {
		return nil, fmt.Errorf("unknown provider %q", s.Provider)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if at, deleted := p.forgotten[id]; deleted && p.now().Sub(at) <= forgetFor {
		return nil, ErrForgotten
	}
	conn, ok := p.conns[id]
	if !ok {
		conn = &Conn{provider: s.Provider, now: p.now, shortWait: p.shortWait,
			turns:   newTurnQueue(s.RequestsPerSecond, s.Burst, p.maxInFlight),
			flights: map[answerKey]*flight{}}
		p.conns[id] = conn
	}
	conn.turns.setRate(s.RequestsPerSecond, s.Burst, p.now())
	fp := s.fingerprint()
	if conn.client == nil || conn.fingerprint != fp {
		client, err := backend.NewClient(provider.Config{
			BaseURL:   s.BaseURL,
			Token:     s.Token,
			CABundle:  s.CABundle,
			Timeout:   s.Timeout,
			UserAgent: p.userAgent,

			AllowPrivateAddresses: p.allowPrivateAddresses,
			Options:               s.Options,
		})
		if err != nil {
			return nil, err
		}
		conn.swapClient(client, fp)
	}
	return conn, nil
}

// Forget drops the connection of a deleted provider object and closes its idle connections. A provider
// created again under the same name has another UID, so it gets a fresh connection.
func (p *Pool) Forget(id string) {
	p.mu.Lock()
	conn, ok := p.conns[id]
	delete(p.conns, id)
	now := p.now()
	for uid, at := range p.forgotten {
		if now.Sub(at) > forgetFor {
			delete(p.forgotten, uid)
		}
	}
	p.forgotten[id] = now
	p.mu.Unlock()
	if ok {
		conn.close()
	}
}
