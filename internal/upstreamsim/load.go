package upstreamsim

import (
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/time/rate"
)

// loadKnobs shape answers the way a busy or broken upstream does, so the benchmark can measure the
// controller under load. They are guarded by Server.mu; the zero value of each knob is "off".
type loadKnobs struct {
	latency    time.Duration
	faultRates map[string]faultRate // by provider
	blackholed map[string]bool      // by provider
	// tokenLimit, when tokenLimit.rps > 0, gives every bearer token its own bucket, as SaaS APIs
	// limit each API key; limiters holds the buckets created so far.
	tokenLimit tokenRateLimit
	limiters   map[string]*rate.Limiter
}

type faultRate struct {
	fraction float64
	status   int
}

type tokenRateLimit struct {
	rps   float64
	burst int
}

func newLoadKnobs() loadKnobs {
	return loadKnobs{faultRates: map[string]faultRate{}, blackholed: map[string]bool{}, limiters: map[string]*rate.Limiter{}}
}

// SetLatency delays every routed answer by d, like a distant upstream; 0 turns it off. A request
// cancelled meanwhile gets no answer.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load.latency = d
}

// SetTokenRateLimit gives each bearer token a token bucket of rps requests per second and burst;
// a request beyond it is answered 429 with a Retry-After in whole seconds (at least 1), before
// the token is checked. rps 0 turns the limit off. Every call starts all buckets full.
func (s *Server) SetTokenRateLimit(rps float64, burst int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load.tokenLimit = tokenRateLimit{rps: rps, burst: max(1, burst)}
	s.load.limiters = map[string]*rate.Limiter{}
}

// SetFaultRate makes a random fraction (0..1) of provider's requests answer status with the
// provider's error body and no Retry-After. Fraction 0 turns it off. Queued faults (InjectFault)
// take precedence.
func (s *Server) SetFaultRate(provider string, fraction float64, status int) {
	mustBeProvider(provider)
	s.mu.Lock()
	defer s.mu.Unlock()
	if fraction <= 0 {
		delete(s.load.faultRates, provider)
		return
	}
	s.load.faultRates[provider] = faultRate{fraction: min(fraction, 1), status: status}
}

// Blackhole makes provider accept requests and never answer them: each is held until the client
// gives up or the server closes, and then the connection is dropped. Requests already held stay
// held when it is turned off.
func (s *Server) Blackhole(provider string, on bool) {
	mustBeProvider(provider)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load.blackholed[provider] = on
}

// applyLatencyAndBlackhole holds the request as the knobs say. It returns false when no answer must
// be sent: the request is blackholed, or it was cancelled or the server closed while it waited.
func (s *Server) applyLatencyAndBlackhole(r *http.Request, provider string) bool {
	s.mu.Lock()
	latency, blackholed := s.load.latency, s.load.blackholed[provider]
	s.mu.Unlock()
	if blackholed {
		select {
		case <-r.Context().Done():
		case <-s.closed:
		}
		return false
	}
	return s.waitFaultDelay(r, latency)
}

// randomFault draws whether this request of provider is one of the fault rate's share.
func (s *Server) randomFault(provider string) (status int, faulted bool) {
	s.mu.Lock()
	fault, ok := s.load.faultRates[provider]
	s.mu.Unlock()
	if !ok || rand.Float64() >= fault.fraction { //nolint:gosec // a fault share needs no crypto
		return 0, false
	}
	return fault.status, true
}

// limitToken takes one request from token's bucket; when the bucket is empty it counts a 429 and
// returns the Retry-After to send.
func (s *Server) limitToken(token string) (retryAfter string, limited bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	limit := s.load.tokenLimit
	if limit.rps <= 0 {
		return "", false
	}
	limiter, ok := s.load.limiters[token]
	if !ok {
		limiter = rate.NewLimiter(rate.Limit(limit.rps), limit.burst)
		s.load.limiters[token] = limiter
	}
	if limiter.Allow() {
		return "", false
	}
	s.rateLimited++
	// The bucket refills one request every 1/rps seconds; Retry-After has whole seconds only.
	return strconv.Itoa(max(1, int(math.Ceil(1/limit.rps)))), true
}
