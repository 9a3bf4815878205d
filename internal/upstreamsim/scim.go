package upstreamsim

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// SCIMBasePath is where the simulated SCIM 2.0 service lives on the server: its base URL is
// URL()+SCIMBasePath, and users are below it at /Users.
const SCIMBasePath = "/scim/v2"

// defaultSCIMPageCap is the most users one list answer holds until SetSCIMPageCap says otherwise;
// 100 is what Atlassian and the RFC examples use.
const defaultSCIMPageCap = 100

// SCIMUser is one user of the simulated SCIM service, keyed by ID. userName and externalId need
// not be unique, so a test can make a lookup by either match two users.
//
// Empty strings, nil slices and zero times leave their attribute out of the answer.
type SCIMUser struct {
	ID          string
	ExternalID  string
	UserName    string
	DisplayName string
	Name        SCIMName
	Emails      []SCIMEmail
	Active      bool
	// Roles are the values of the multi-valued roles attribute, sent as [{"value": ...}] the way
	// GitHub does.
	Roles    []string
	Groups   []SCIMGroup
	UserType string
	Title    string
	// Department is the enterprise extension's department
	// (urn:ietf:params:scim:schemas:extension:enterprise:2.0:User).
	Department   string
	Created      time.Time
	LastModified time.Time
}

// SCIMName is the complex name attribute.
type SCIMName struct {
	GivenName  string
	FamilyName string
	Formatted  string
}

// SCIMEmail is one value of the emails attribute; Primary false leaves "primary" out, as many
// servers do.
type SCIMEmail struct {
	Value   string
	Type    string
	Primary bool
}

// SCIMGroup is one value of the read-only groups attribute.
type SCIMGroup struct {
	Value   string
	Display string
}

// SCIMQuirks make the simulated SCIM service behave like real servers that bend the RFC, so a
// client can be tested against them. The zero value is the RFC behaviour.
type SCIMQuirks struct {
	// IgnoreFilter answers a filtered list with a page of all users, as servers that do not
	// understand a filter sometimes do.
	IgnoreFilter bool
	// NullResourcesWhenEmpty sends "Resources": null instead of [] when nothing matched.
	NullResourcesWhenEmpty bool
	// ActiveAsStrings sends active as the strings "True"/"False", as Entra does.
	ActiveAsStrings bool
	// ShuffledPages cuts every startIndex page from a fresh random order of the users, as servers
	// that do not sort do, so paging through them sees some users twice and others never.
	// sortBy=id restores id order when SetSCIMSorting is on; cursor pages stay in id order.
	ShuffledPages bool
}

// scimDirectory holds the SCIM users with the indexes that keep every lookup O(1), whatever the
// number of users: the benchmark seeds 10,000 and must measure the controller, not a scan. It is
// guarded by Server.mu.
type scimDirectory struct {
	users map[string]SCIMUser // by id
	// byUserName is keyed by the lowercased userName (userName is caseExact false); byExternalID
	// by the exact externalId. Both hold sets of ids.
	byUserName   map[string]map[string]bool
	byExternalID map[string]map[string]bool
	// sortedIDs is every id in order, for listing; nil when users changed since it was built.
	sortedIDs []string
	pageCap   int
	quirks    SCIMQuirks
	// generatedIDs numbers the ids PutSCIMUser makes up for users without one.
	generatedIDs int
	// listRequestsSeen numbers listing requests for InjectSCIMListFault; ResetCounters leaves it,
	// so a scheduled fault keeps its place. listFaults are the faults scheduled.
	listRequestsSeen int
	listFaults       []scheduledListFault
	// cursorPaging and sorting are what SetSCIMCursorPaging and SetSCIMSorting turned on.
	cursorPaging bool
	sorting      bool
}

func newSCIMDirectory() scimDirectory {
	return scimDirectory{
		users:        map[string]SCIMUser{},
		byUserName:   map[string]map[string]bool{},
		byExternalID: map[string]map[string]bool{},
		pageCap:      defaultSCIMPageCap,
	}
}

// foldUserName is the index key of a userName: SCIM compares userName ignoring case.
func foldUserName(userName string) string { return strings.ToLower(userName) }

func (d *scimDirectory) put(u SCIMUser) {
	d.remove(u.ID)
	d.users[u.ID] = u
	addToIndex(d.byUserName, foldUserName(u.UserName), u.ID)
	if u.ExternalID != "" {
		addToIndex(d.byExternalID, u.ExternalID, u.ID)
	}
	d.sortedIDs = nil
}

func (d *scimDirectory) remove(id string) {
	old, ok := d.users[id]
	if !ok {
		return
	}
	delete(d.users, id)
	removeFromIndex(d.byUserName, foldUserName(old.UserName), id)
	removeFromIndex(d.byExternalID, old.ExternalID, id)
	d.sortedIDs = nil
}

// orderedIDs lists every id in a stable order, so that paging through the users sees each once.
func (d *scimDirectory) orderedIDs() []string {
	if d.sortedIDs == nil {
		d.sortedIDs = slices.Sorted(maps.Keys(d.users))
	}
	return d.sortedIDs
}

// idsWithUserName lists, in order, the users whose userName equals userName ignoring case.
func (d *scimDirectory) idsWithUserName(userName string) []string {
	return slices.Sorted(maps.Keys(d.byUserName[foldUserName(userName)]))
}

// idsWithExternalID lists, in order, the users whose externalId is exactly externalID.
func (d *scimDirectory) idsWithExternalID(externalID string) []string {
	return slices.Sorted(maps.Keys(d.byExternalID[externalID]))
}

func addToIndex(index map[string]map[string]bool, key, id string) {
	ids, ok := index[key]
	if !ok {
		ids = map[string]bool{}
		index[key] = ids
	}
	ids[id] = true
}

func removeFromIndex(index map[string]map[string]bool, key, id string) {
	delete(index[key], id)
	if len(index[key]) == 0 {
		delete(index, key)
	}
}

// PutSCIMUser adds or replaces the user with u.ID and returns its id. A user without an ID gets a
// new one, as a SCIM server assigns ids itself.
func (s *Server) PutSCIMUser(u SCIMUser) (id string) {
	u = u.clone()
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.ID == "" {
		s.scim.generatedIDs++
		u.ID = fmt.Sprintf("scim-%08d", s.scim.generatedIDs)
	}
	s.scim.put(u)
	return u.ID
}

// SetSCIMRole makes role the only value of roles for every user whose userName equals userName
// ignoring case, and moves their meta.lastModified to now when that changes them. It reports
// whether such a user exists.
func (s *Server) SetSCIMRole(userName, role string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := s.scim.idsWithUserName(userName)
	for _, id := range ids {
		user := s.scim.users[id]
		if slices.Equal(user.Roles, []string{role}) {
			continue
		}
		user.Roles = []string{role}
		user.LastModified = time.Now().UTC().Truncate(time.Second)
		s.scim.put(user)
	}
	return len(ids) > 0
}

// deleteSCIMUsers removes every user that key would find: by id, userName (ignoring case) or
// externalId, so DeleteUser works whatever key attribute a test looks users up by.
func (s *Server) deleteSCIMUsers(key string) {
	ids := append(s.scim.idsWithUserName(key), s.scim.idsWithExternalID(key)...)
	ids = append(ids, key)
	for _, id := range ids {
		s.scim.remove(id)
	}
}

// SetSCIMPageCap makes a list answer hold at most n users, whatever count the client asks for,
// as real servers cap their pages; n < 1 restores the default of 100.
func (s *Server) SetSCIMPageCap(n int) {
	if n < 1 {
		n = defaultSCIMPageCap
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scim.pageCap = n
}

// SetSCIMQuirks replaces the SCIM service's quirks; SCIMQuirks{} restores the RFC behaviour.
func (s *Server) SetSCIMQuirks(q SCIMQuirks) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scim.quirks = q
}

// SCIMBaseURL is the base URL a SCIM client is configured with, e.g.
// "https://127.0.0.1:40123/scim/v2". Empty before Start.
func (s *Server) SCIMBaseURL() string {
	base := s.URL()
	if base == "" {
		return ""
	}
	return base + SCIMBasePath
}

// clone copies the slice fields so the caller can keep mutating its value.
func (u SCIMUser) clone() SCIMUser {
	u.Emails = slices.Clone(u.Emails)
	u.Roles = slices.Clone(u.Roles)
	u.Groups = slices.Clone(u.Groups)
	return u
}
