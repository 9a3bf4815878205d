// Package connection keeps one upstream connection per provider object: the provider client with its
// TLS settings, the client-side token bucket, and the pause a 429 imposes. It is the one place that
// knows about rate limits, so every OrgUser of a provider shares them.
package connection

import (
	"crypto/sha256"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"

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
}

// fingerprint changes whenever a new client must be built; the token is hashed so it is not kept twice.
func (s Settings) fingerprint() [32]byte {
	h := sha256.New()
	_, _ = fmt.Fprintf(h, "%s\x00%s\x00%d\x00", s.Provider, s.BaseURL, s.Timeout)
	_, _ = h.Write(s.CABundle)
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
}

// defaultMaxInFlight is enough to keep a 20 ms upstream at several hundred requests a second, and few
// enough that a provider that never answers holds only a small share of the controller's workers.
const defaultMaxInFlight = 16

// NewPool returns an empty pool that builds clients from registry.
func NewPool(registry provider.Registry, opts PoolOptions) *Pool {
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = defaultMaxInFlight
	}
	return &Pool{registry: registry, userAgent: opts.UserAgent, maxInFlight: opts.MaxInFlight, now: time.Now,
		shortWait: 50 * time.Millisecond, allowPrivateAddresses: opts.AllowPrivateAddresses, conns: map[string]*Conn{}}
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
	conn, ok := p.conns[id]
	if !ok {
		conn = &Conn{provider: s.Provider, now: p.now, shortWait: p.shortWait,
			limiter:  rate.NewLimiter(rate.Limit(s.RequestsPerSecond), s.Burst),
			inFlight: make(chan struct{}, p.maxInFlight),
			slots:    map[string]time.Time{}, recent: map[string]Answer{}}
		p.conns[id] = conn
	}
	conn.setRate(s.RequestsPerSecond, s.Burst)
	fp := s.fingerprint()
	if conn.client == nil || conn.fingerprint != fp {
		client, err := backend.NewClient(provider.Config{
			BaseURL:   s.BaseURL,
			Token:     s.Token,
			CABundle:  s.CABundle,
			Timeout:   s.Timeout,
			UserAgent: p.userAgent,

			AllowPrivateAddresses: p.allowPrivateAddresses,
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
	p.mu.Unlock()
	if ok {
		conn.close()
	}
}
