package upstreamsim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// providerAPI is what differs between the upstream APIs; everything else about a request
// (routing, counting, faults, auth) is shared and lives in this file.
type providerAPI struct {
	name string
	// pathPrefix is the escaped path before the key segment.
	pathPrefix string
	// errorBody renders the provider's error body for an HTTP status.
	errorBody func(status int) any
	// contentType is the media type of the error body; empty means application/json.
	contentType string
	// lookupUser renders the success body for key, or reports that no such user exists. The SCIM
	// API has none: the library answers its routes.
	lookupUser func(s *Server, key string) (any, bool)
}

var providerAPIs = []*providerAPI{&mixpeekAPI, &flashbackAPI}

// Handler returns the simulator's routing. It can be mounted on any server, httptest included.
//
// The SCIM service below SCIMBasePath is routed here too, and then by its library, which is handed
// the escaped path.
//
// It deliberately does not use http.ServeMux: the mux cleans paths and redirects, so a key such as
// "%2E%2E" or "a%2Fb" would be rewritten or split before it reached us. The escaped path is matched
// by hand and the key segment is unescaped exactly once.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if escapedRest, isSCIM := cutSCIMBase(r.URL.EscapedPath()); isSCIM {
		s.serveSCIM(w, r, escapedRest)
		return
	}
	api, key, ok := route(r.URL)
	if !ok {
		// Not a route of either API; the body means nothing on purpose, like a proxy's 404.
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	s.countRequest(api.name, key)
	if !allowOnlyGET(w, r, api) || !s.admit(w, r, api) {
		return
	}

	body, found := api.lookupUser(s, key)
	if !found {
		writeErrorBody(w, api, http.StatusNotFound, "")
		return
	}
	writeJSON(w, http.StatusOK, body, "")
}

// allowOnlyGET answers 405 to any other method and reports whether the request may go on.
func allowOnlyGET(w http.ResponseWriter, r *http.Request, api *providerAPI) bool {
	if r.Method == http.MethodGet {
		return true
	}
	w.Header().Set("Allow", http.MethodGet)
	writeErrorBody(w, api, http.StatusMethodNotAllowed, "")
	return false
}

// admit applies everything that can answer a routed request before the API itself looks at it:
// latency and blackhole, queued faults, the fault rate, the per-token rate limit and then the
// token. It reports whether the request may go on; when it returns false, the request has been
// answered or dropped.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, api *providerAPI) bool {
	if !s.applyLatencyAndBlackhole(r, api.name) {
		// Aborting drops the connection: the client sees no answer, as with a stalled upstream.
		panic(http.ErrAbortHandler)
	}

	// Faults come before authentication: they stand for an overloaded or broken upstream (or the
	// gateway in front of it), which answers before it ever looks at the credential.
	if fault, faulted := s.takeFault(api.name); faulted && s.applyFault(w, r, api, fault) {
		return false
	}

	if status, faulted := s.randomFault(api.name); faulted {
		writeErrorBody(w, api, status, "")
		return false
	}
	if retryAfter, limited := s.limitToken(bearerToken(r)); limited {
		w.Header().Set("Retry-After", retryAfter)
		writeErrorBody(w, api, http.StatusTooManyRequests, "")
		return false
	}

	access, known := s.lookupToken(bearerToken(r))
	switch {
	case !known:
		w.Header().Set("WWW-Authenticate", `Bearer`)
		writeErrorBody(w, api, http.StatusUnauthorized, "")
		return false
	case access == accessForbidden:
		writeErrorBody(w, api, http.StatusForbidden, "")
		return false
	}
	return true
}

// route finds the API and the unescaped key for a request URL. A route is the API's prefix
// followed by exactly one non-empty escaped segment.
func route(u *url.URL) (api *providerAPI, key string, ok bool) {
	escapedPath := u.EscapedPath()
	for _, candidate := range providerAPIs {
		escapedKey, hasPrefix := strings.CutPrefix(escapedPath, candidate.pathPrefix)
		if !hasPrefix || escapedKey == "" || strings.Contains(escapedKey, "/") {
			continue
		}
		key, err := url.PathUnescape(escapedKey)
		if err != nil {
			return nil, "", false
		}
		return candidate, key, true
	}
	return nil, "", false
}

// bearerToken extracts the token of an "Authorization: Bearer <token>" header; "" when absent.
// The scheme is matched case-insensitively, as RFC 9110 requires of auth schemes.
func bearerToken(r *http.Request) string {
	scheme, token, found := strings.Cut(r.Header.Get("Authorization"), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return token
}

// writeErrorBody answers status with the provider's own error body; contentType overrides the
// provider's media type.
func writeErrorBody(w http.ResponseWriter, api *providerAPI, status int, contentType string) {
	if contentType == "" {
		contentType = api.contentType
	}
	writeJSON(w, status, api.errorBody(status), contentType)
}

// writeJSON answers status with body encoded as JSON; contentType overrides application/json.
func writeJSON(w http.ResponseWriter, status int, body any, contentType string) {
	encoded, err := json.Marshal(body)
	if err != nil {
		// Only the simulator's own wire types reach here; failing to encode them is a bug in it.
		http.Error(w, "upstreamsim: encode body: "+err.Error(), http.StatusInternalServerError)
		return
	}
	if contentType == "" {
		contentType = "application/json"
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(encoded)
}
