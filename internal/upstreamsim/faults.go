package upstreamsim

import (
	"net/http"
	"time"
)

// Fault replaces the answer of the next requests to one provider, whatever the key, so tests can
// produce the failures the controller must survive: 429 with Retry-After, 5xx, slow answers and
// unreadable bodies.
type Fault struct {
	// Status is the HTTP status to answer. 0 means "no status of its own": the request is only
	// delayed and then served normally, which simulates a slow but healthy upstream.
	Status int
	// RetryAfter is sent verbatim as the Retry-After header when not empty, so tests can send
	// seconds, HTTP dates or garbage alike.
	RetryAfter string
	// Body is sent verbatim when not empty (with Status 200 it makes an unreadable success);
	// empty means the provider's documented error body for Status.
	Body string
	// ContentType overrides the Content-Type header. Empty means application/json for the
	// documented body and text/plain for a raw Body.
	ContentType string
	// Delay is waited before answering. A request cancelled meanwhile gets no answer at all, as a
	// client that timed out would see.
	Delay time.Duration
	// Times is how many requests the fault answers; 0 means every request until ClearFaults.
	Times int
}

// InjectFault queues a fault for provider. Faults queued for the same provider apply one after the
// other: the first answers its Times requests, then the next takes over, so "two 503s, then a 429"
// is two calls. A fault with Times 0 never hands over.
func (s *Server) InjectFault(provider string, f Fault) {
	mustBeProvider(provider)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[provider] = append(s.faults[provider], &f)
}

// ClearFaults removes every queued fault of every provider, and every scheduled listing fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = map[string][]*Fault{}
	s.scim.listFaults = nil
}

// takeFault returns the fault that answers this request, if any, and uses up one of its Times.
func (s *Server) takeFault(provider string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	queue := s.faults[provider]
	if len(queue) == 0 {
		return Fault{}, false
	}
	current := queue[0]
	if current.Times > 0 {
		current.Times--
		if current.Times == 0 {
			s.faults[provider] = queue[1:]
		}
	}
	return *current, true
}

// applyFault waits out the fault's delay and answers with its status, reporting whether the
// request has been answered; a fault without a status leaves the request to be served normally.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, api *providerAPI, f Fault) bool {
	if !s.waitFaultDelay(r, f.Delay) {
		// Returning normally would make net/http send an empty 200; aborting drops the
		// connection instead, so the client sees no answer, as with a real stalled upstream.
		panic(http.ErrAbortHandler)
	}
	if f.Status == 0 {
		return false
	}
	writeFault(w, api, f)
	return true
}

// waitFaultDelay sleeps for the fault's delay. It returns false when the request was cancelled or
// the server closed meanwhile, in which case no answer must be sent.
func (s *Server) waitFaultDelay(r *http.Request, delay time.Duration) bool {
	if delay <= 0 {
		return true
	}
	timer := time.NewTimer(delay)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-r.Context().Done():
		return false
	case <-s.closed:
		return false
	}
}

// writeFault answers with the fault's status, headers and body.
func writeFault(w http.ResponseWriter, api *providerAPI, f Fault) {
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	if f.Body == "" {
		writeErrorBody(w, api, f.Status, f.ContentType)
		return
	}
	contentType := f.ContentType
	if contentType == "" {
		contentType = "text/plain; charset=utf-8"
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(f.Status)
	_, _ = w.Write([]byte(f.Body))
}
