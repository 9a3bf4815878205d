package upstreamsim

import "net/http"

// A listing is many requests, and a test needs to break one particular page of it (a 500 on the
// third page, a 429 on the second), whatever else reaches the server meanwhile: lookups, the
// ServiceProviderConfig, another provider. InjectFault cannot aim that well, so listing requests
// are numbered on their own.

// scheduledListFault answers the listing request numbered request.
type scheduledListFault struct {
	request int
	fault   Fault
}

// isSCIMListing reports that a request to escapedRest, whose filter looks up key, lists users:
// GET /Users without a filter on userName, externalId or id.
func isSCIMListing(escapedRest, key string) bool { return escapedRest == scimUsersPath && key == "" }

// InjectSCIMListFault makes the n-th listing request from now (1 is the next one) answer as f
// says, and the Times-1 listing requests after it too (Times 0 counts as 1). A listing request is
// a GET of /Users that is not a lookup by userName, externalId or id; other requests neither
// count nor are answered. The fault answers before anything else looks at the request, like one
// queued by InjectFault; Status 0 only delays it. ClearFaults removes it.
func (s *Server) InjectSCIMListFault(n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	first := s.scim.listRequestsSeen + max(n, 1)
	for i := range max(f.Times, 1) {
		s.scim.listFaults = append(s.scim.listFaults, scheduledListFault{request: first + i, fault: f})
	}
}

// SCIMListRequests is how many listing requests (see InjectSCIMListFault) reached the SCIM
// service since the last ResetCounters, whatever their answer.
func (s *Server) SCIMListRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.scimListRequests
}

// countSCIMListing numbers a listing request and returns the fault scheduled for it, if any.
func (s *Server) countSCIMListing() (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scimListRequests++
	s.scim.listRequestsSeen++
	for i, scheduled := range s.scim.listFaults {
		if scheduled.request == s.scim.listRequestsSeen {
			s.scim.listFaults = append(s.scim.listFaults[:i], s.scim.listFaults[i+1:]...)
			return scheduled.fault, true
		}
	}
	return Fault{}, false
}

// answerSCIMListFault applies a listing's scheduled fault, if it has one, and reports whether the
// request has been answered (or dropped).
func (s *Server) answerSCIMListFault(w http.ResponseWriter, r *http.Request) bool {
	fault, faulted := s.countSCIMListing()
	return faulted && s.applyFault(w, r, &scimAPI, fault)
}
