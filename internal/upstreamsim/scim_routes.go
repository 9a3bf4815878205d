package upstreamsim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	scimerrors "github.com/elimity-com/scim/errors"
)

// scimContentType is the SCIM media type, which the library also answers with.
const scimContentType = "application/scim+json"

// scimUsersPath is the users endpoint below the base path, scimServiceProviderConfigPath what the
// service says it offers (RFC 7644 §4).
const (
	scimUsersPath                 = "/Users"
	scimServiceProviderConfigPath = "/ServiceProviderConfig"
)

// scimAPI describes the SCIM service to the shared request steps (counting, faults, limits,
// auth). It is not in providerAPIs: its routes are not "prefix plus one key segment", and its
// answers come from the library, not from lookupUser.
var scimAPI = providerAPI{
	name:        ProviderSCIM,
	pathPrefix:  SCIMBasePath,
	errorBody:   scimErrorBody,
	contentType: scimContentType,
}

// scimErrorBody is the SCIM error message (urn:ietf:params:scim:api:messages:2.0:Error), with
// status as a string as RFC 7644 §3.12 writes it. The library's own type renders it.
func scimErrorBody(status int) any {
	messages := map[int]string{
		http.StatusUnauthorized:    "Authorization failure: the bearer token is missing or unknown.",
		http.StatusForbidden:       "The token is not permitted to read users.",
		http.StatusNotFound:        "Resource not found.",
		http.StatusTooManyRequests: "Too many requests.",
	}
	message, ok := messages[status]
	if !ok {
		message = http.StatusText(status)
	}
	return scimerrors.ScimError{Status: status, Detail: message}
}

// cutSCIMBase reports whether the escaped path is below the SCIM base path and returns the rest,
// which is "" or starts with "/".
func cutSCIMBase(escapedPath string) (escapedRest string, ok bool) {
	rest, found := strings.CutPrefix(escapedPath, SCIMBasePath)
	if !found || (rest != "" && rest[0] != '/') {
		return "", false
	}
	return rest, true
}

// serveSCIM is the middleware in front of the library's server. Everything the simulator does per
// provider happens here, before the library sees the request: counting, the method check, latency,
// blackhole, faults, the token rate limit and auth. It must: the library turns any error status
// its handler returns that SCIM does not define for the method, 429 among them, into a 500.
func (s *Server) serveSCIM(w http.ResponseWriter, r *http.Request, escapedRest string) {
	query := r.URL.Query()
	if filter := query.Get("filter"); filter != "" {
		query.Set("filter", normalizeUnicodeEscapes(filter))
	}
	key, routable := scimRequestTarget(escapedRest, query.Get("filter"))
	s.countRequest(ProviderSCIM, key)
	if !allowOnlyGET(w, r, &scimAPI) {
		return
	}
	if isSCIMListing(escapedRest, key) && s.answerSCIMListFault(w, r) {
		return
	}
	if !s.admit(w, r, &scimAPI) {
		return
	}
	if !routable {
		writeErrorBody(w, &scimAPI, http.StatusNotFound, "")
		return
	}

	s.mu.Lock()
	pageCap, cursorPaging, sorting := s.scim.pageCap, s.scim.cursorPaging, s.scim.sorting
	s.mu.Unlock()
	library, err := s.newSCIMLibraryServer(r, pageCap)
	if err != nil {
		writeErrorBody(w, &scimAPI, http.StatusInternalServerError, "")
		return
	}

	// The library routes on URL.Path and unescapes the id segment itself. It is handed the escaped
	// path on purpose: given the decoded one, an id such as "a%2Fb" or "100%" would be unescaped
	// twice. WithContext copies the request, so the caller's URL stays as it was.
	ctx := r.Context()
	var cursorPage *scimCursorPage
	if cursorPaging && escapedRest == scimUsersPath && query.Has("cursor") {
		cursorPage = &scimCursorPage{cursor: query.Get("cursor")}
		ctx = withSCIMCursorPage(ctx, cursorPage)
	}
	inner := r.WithContext(ctx)
	innerURL := *r.URL
	innerURL.Path, innerURL.RawPath = escapedRest, ""
	innerURL.RawQuery = query.Encode()
	inner.URL = &innerURL

	// Only answers that need what the library lacks are held and edited; every other answer is
	// the library's, byte for byte.
	switch {
	case cursorPage != nil:
		held := newBufferedResponse()
		library.ServeHTTP(held, inner)
		var edit func(map[string]json.RawMessage)
		if cursorPage.answered {
			edit = cursorAnswer(cursorPage)
		}
		held.send(w, edit)
	case (cursorPaging || sorting) && escapedRest == scimServiceProviderConfigPath:
		held := newBufferedResponse()
		library.ServeHTTP(held, inner)
		held.send(w, serviceProviderConfigAnswer(cursorPaging, sorting, pageCap))
	default:
		library.ServeHTTP(w, inner)
	}
}

// scimRequestTarget is the key a SCIM request looks up, for the counters: the unescaped id of
// /Users/{id}, the value of a key filter on /Users, or "". routable is false for a path below
// /Users/ with more than one segment, which names no resource (the library would read "a/b" as
// one id).
func scimRequestTarget(escapedRest, filter string) (key string, routable bool) {
	if escapedRest == scimUsersPath {
		return scimRequestKey(filter), true
	}
	escapedID, isUser := strings.CutPrefix(escapedRest, scimUsersPath+"/")
	if !isUser {
		return "", true
	}
	if strings.Contains(escapedID, "/") {
		return "", false
	}
	id, err := url.PathUnescape(escapedID)
	if err != nil {
		return "", false
	}
	return id, true
}
