// Package upstreamsim is a simulated upstream: one HTTPS server on loopback that speaks the
// Mixpeek and the Flashback user APIs exactly as their reference pages document them, and SCIM 2.0
// /Users below SCIMBasePath through a third-party SCIM server library. Unit tests,
// envtest tests, the demo and the benchmark all use it, so it is ordinary project code.
//
// It is written from the published wire format alone and deliberately imports nothing from the
// project's provider clients: if a client and the simulator shared types, a misread of the
// documentation would be agreed on by both and never caught.
package upstreamsim

import (
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
)

// Provider names, as used by DeleteUser, InjectFault and Requests.
const (
	ProviderMixpeek   = "mixpeek"
	ProviderFlashback = "flashback"
	ProviderSCIM      = "scim"
)

// tokenAccess is what a registered bearer token may do.
type tokenAccess int

const (
	accessFull tokenAccess = iota + 1
	// accessForbidden authenticates but is refused every lookup, like a key without the user
	// management permission.
	accessForbidden
)

// requestKey identifies one user of one provider in the request counters.
type requestKey struct {
	provider string
	key      string
}

// Server is the simulated upstream. All methods are safe for concurrent use, including while
// requests are being served.
type Server struct {
	authority *authority

	mu             sync.Mutex
	tokens         map[string]tokenAccess
	mixpeekUsers   map[string]MixpeekUser   // by email
	flashbackUsers map[string]FlashbackUser // by id
	scim           scimDirectory            // users by id, indexed by userName and externalId
	faults         map[string][]*Fault      // by provider, applied in injection order
	requests       map[requestKey]int
	totalRequests  int
	// byProvider and rateLimited are the load counters the benchmark reads.
	byProvider  map[string]int
	rateLimited int
	// scimListRequests counts SCIM listing requests, for SCIMListRequests.
	scimListRequests int
	// load holds the knobs that shape answers under load: latency, token rate limit, fault rate,
	// blackhole.
	load loadKnobs

	httpServer *http.Server
	listener   net.Listener

	// closed ends pending fault delays when the server shuts down, so Close never waits on them.
	closed    chan struct{}
	closeOnce sync.Once
}

// New returns an empty server: no users, no tokens, no faults. Its CA exists from the start, so
// CABundle can be handed out before Start.
func New() *Server { return NewWithIPs() }

// NewWithIPs is New with a serving certificate that also names ips, for a simulator that clients
// reach at an address other than loopback (the e2e suite's pods reach it at the node's address).
func NewWithIPs(ips ...net.IP) *Server {
	return &Server{
		authority:      newAuthority(ips...),
		tokens:         map[string]tokenAccess{},
		mixpeekUsers:   map[string]MixpeekUser{},
		flashbackUsers: map[string]FlashbackUser{},
		scim:           newSCIMDirectory(),
		faults:         map[string][]*Fault{},
		requests:       map[requestKey]int{},
		byProvider:     map[string]int{},
		load:           newLoadKnobs(),
		closed:         make(chan struct{}),
	}
}

// Start serves HTTPS on a free loopback port.
func (s *Server) Start() error { return s.StartOn("127.0.0.1:0") }

// StartOn serves HTTPS on addr. The serving certificate names 127.0.0.1, ::1 and localhost, and the
// addresses given to NewWithIPs.
func (s *Server) StartOn(addr string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.httpServer != nil {
		return errors.New("upstreamsim: server already started")
	}
	listener, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s.listener = listener
	s.httpServer = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: &tls.Config{
			MinVersion:   tls.VersionTLS12,
			Certificates: []tls.Certificate{s.authority.serving},
		},
		// Keep the log free of the TLS handshake errors that tests provoke on purpose.
		ErrorLog: discardLogger(),
	}
	go func() { _ = s.httpServer.ServeTLS(listener, "", "") }()
	return nil
}

// URL is the base URL clients use, e.g. "https://127.0.0.1:40123". Empty before Start.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listener == nil {
		return ""
	}
	return "https://" + s.listener.Addr().String()
}

// CABundle is the PEM of the CA that signed the serving certificate: what a client puts in caBundle.
func (s *Server) CABundle() []byte {
	return append([]byte(nil), s.authority.caPEM...)
}

// Close stops serving and drops open connections. It is safe to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closed) })
	s.mu.Lock()
	httpServer := s.httpServer
	s.mu.Unlock()
	if httpServer != nil {
		_ = httpServer.Close()
	}
}

// AllowToken registers a bearer token with full read access. It replaces an earlier ForbidToken.
func (s *Server) AllowToken(token string) { s.setToken(token, accessFull) }

// ForbidToken registers a bearer token that authenticates but is refused every lookup with 403.
// It replaces an earlier AllowToken.
func (s *Server) ForbidToken(token string) { s.setToken(token, accessForbidden) }

// RevokeToken forgets a token: requests bearing it are answered 401 again.
func (s *Server) RevokeToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, token)
}

func (s *Server) setToken(token string, access tokenAccess) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = access
}

// DeleteUser removes a user outright; afterwards its key answers 404 (or, for SCIM, an empty
// list). provider is ProviderMixpeek (key = email), ProviderFlashback (key = id) or ProviderSCIM
// (every user whose id, userName ignoring case, or externalId is key). A Flashback soft delete is a
// PutFlashbackUser with DeletedAt set instead, a SCIM suspension a PutSCIMUser with Active false.
func (s *Server) DeleteUser(provider, key string) {
	mustBeProvider(provider)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch provider {
	case ProviderMixpeek:
		delete(s.mixpeekUsers, key)
	case ProviderFlashback:
		delete(s.flashbackUsers, key)
	case ProviderSCIM:
		s.deleteSCIMUsers(key)
	}
}

// Requests is how many requests for this user reached a route, whatever their answer.
func (s *Server) Requests(provider, key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[requestKey{provider, key}]
}

// TotalRequests is how many requests reached a route of any provider, whatever their answer.
func (s *Server) TotalRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.totalRequests
}

// ResetCounters sets every request counter back to zero.
func (s *Server) ResetCounters() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = map[requestKey]int{}
	s.totalRequests = 0
	s.byProvider = map[string]int{}
	s.rateLimited = 0
	s.scimListRequests = 0
}

// ProviderRequests is how many requests reached a route of provider, whatever their answer.
func (s *Server) ProviderRequests(provider string) int {
	mustBeProvider(provider)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byProvider[provider]
}

// RateLimited is how many requests the per-token rate limit (SetTokenRateLimit) answered with 429.
func (s *Server) RateLimited() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rateLimited
}

func (s *Server) countRequest(provider, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests[requestKey{provider, key}]++
	s.totalRequests++
	s.byProvider[provider]++
}

// lookupToken reports what the token may do; ok is false for a token never registered, and for
// the empty token, so that a missing header can never authenticate.
func (s *Server) lookupToken(token string) (access tokenAccess, ok bool) {
	if token == "" {
		return 0, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	access, ok = s.tokens[token]
	return access, ok
}

// mustBeProvider panics on a misspelt provider name: a helper that silently ignored it would let a
// test pass without exercising what it meant to.
func mustBeProvider(provider string) {
	if provider != ProviderMixpeek && provider != ProviderFlashback && provider != ProviderSCIM {
		panic("upstreamsim: unknown provider " + `"` + provider + `"` + `, want "mixpeek", "flashback" or "scim"`)
	}
}
