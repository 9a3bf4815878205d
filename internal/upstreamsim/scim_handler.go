package upstreamsim

import (
	"net/http"
	"time"

	"github.com/elimity-com/scim"
	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"
)

// The SCIM service is github.com/elimity-com/scim's server: its routing below the base URL, its
// core User schema and enterprise extension, its filter validation, its ListResponse, its errors
// and its /ServiceProviderConfig. Only the store behind it (scimUserHandler) is ours, so the
// project's SCIM client is tested against a server that nobody here wrote.

// scimValueAttribute is the sub-attribute that holds each value of a multi-valued attribute.
const scimValueAttribute = "value"

// scimEnterpriseUserURN is the enterprise extension; its attributes sit under this key.
const scimEnterpriseUserURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// The schemas are built once: building them allocates hundreds of attributes, which every
// request would otherwise pay for.
var (
	scimUserSchema       = schema.CoreUserSchema()
	scimEnterpriseSchema = schema.ExtensionEnterpriseUser()
)

// errSCIMReadOnly answers every write: the operator only reads users.
var errSCIMReadOnly = scimerrors.ScimError{Status: http.StatusNotImplemented, Detail: "The simulator serves reads only."}

// newSCIMLibraryServer builds the library's server for one request. It is built per request
// because its page cap (MaxResults) and base URL are fixed at construction, while SetSCIMPageCap
// can change the cap at any time and the host is only known from the request; construction copies
// a few fields and is cheap.
func (s *Server) newSCIMLibraryServer(r *http.Request, pageCap int) (scim.Server, error) {
	return scim.NewServer(
		&scim.ServerArgs{
			ServiceProviderConfig: &scim.ServiceProviderConfig{
				MaxResults:       pageCap,
				SupportFiltering: true,
				AuthenticationSchemes: []scim.AuthenticationScheme{{
					Type:        scim.AuthenticationTypeOauthBearerToken,
					Name:        "OAuth Bearer Token",
					Description: "Authentication with a bearer token in the Authorization header.",
					Primary:     true,
				}},
			},
			ResourceTypes: []scim.ResourceType{{
				ID:               optional.NewString("User"),
				Name:             "User",
				Description:      optional.NewString("User Account"),
				Endpoint:         "/Users",
				Schema:           scimUserSchema,
				SchemaExtensions: []scim.SchemaExtension{{Schema: scimEnterpriseSchema}},
				Handler:          scimUserHandler{s},
			}},
		},
		scim.WithBaseURL("https://"+r.Host+SCIMBasePath),
	)
}

// scimUserHandler is the in-memory store behind the library's /Users routes. Every lookup goes
// through the directory's indexes, never a scan, except listing by active.
type scimUserHandler struct{ s *Server }

var _ scim.ResourceHandler = scimUserHandler{}

func (h scimUserHandler) Get(_ *http.Request, id string) (scim.Resource, error) {
	h.s.mu.Lock()
	user, ok := h.s.scim.users[id]
	quirks := h.s.scim.quirks
	h.s.mu.Unlock()
	if !ok {
		return scim.Resource{}, scimerrors.ScimErrorResourceNotFound(id)
	}
	return user.toResource(quirks), nil
}

// GetAll answers a list: the users the filter selects, in id order (unless the ShuffledPages
// quirk says otherwise), one page of them, by startIndex or by cursor (scim_paging.go). The
// library has already validated the filter against the schema and capped Count at the page cap.
func (h scimUserHandler) GetAll(r *http.Request, params scim.ListRequestParams) (scim.Page, error) {
	var query *scimQuery
	if params.FilterValidator != nil {
		parsed, err := parseSCIMQuery(params.FilterValidator.GetFilter())
		if err != nil {
			return scim.Page{}, scimerrors.ScimErrorInvalidFilter
		}
		query = &parsed
	}

	h.s.mu.Lock()
	quirks := h.s.scim.quirks
	if quirks.IgnoreFilter {
		query = nil
	}
	ids := h.s.scim.matchingIDs(query)
	var pageIDs []string
	if cursorPage := scimCursorPageOf(r); cursorPage != nil {
		var err error
		if pageIDs, cursorPage.next, err = cursorPageOf(ids, cursorPage.cursor, params.Count); err != nil {
			h.s.mu.Unlock()
			return scim.Page{}, err
		}
		cursorPage.answered = true
	} else {
		pageIDs = pageOf(h.s.scim.orderForPage(ids, r.URL.Query().Get("sortBy")), params.StartIndex, params.Count)
	}
	users := make([]SCIMUser, 0, len(pageIDs))
	for _, id := range pageIDs {
		users = append(users, h.s.scim.users[id])
	}
	h.s.mu.Unlock()

	// A non-nil empty slice is sent as "Resources": [], nil as null.
	resources := make([]scim.Resource, 0, len(users))
	for _, user := range users {
		resources = append(resources, user.toResource(quirks))
	}
	if len(resources) == 0 && quirks.NullResourcesWhenEmpty {
		resources = nil
	}
	return scim.Page{TotalResults: len(ids), Resources: resources}, nil
}

func (scimUserHandler) Create(*http.Request, scim.ResourceAttributes) (scim.Resource, error) {
	return scim.Resource{}, errSCIMReadOnly
}

func (scimUserHandler) Replace(*http.Request, string, scim.ResourceAttributes) (scim.Resource, error) {
	return scim.Resource{}, errSCIMReadOnly
}

func (scimUserHandler) Delete(*http.Request, string) error { return errSCIMReadOnly }

func (scimUserHandler) Patch(*http.Request, string, []scim.PatchOperation) (scim.Resource, error) {
	return scim.Resource{}, errSCIMReadOnly
}

// matchingIDs lists, in id order, the users query selects; a nil query selects every user. The
// caller holds Server.mu.
func (d *scimDirectory) matchingIDs(query *scimQuery) []string {
	if query == nil {
		return d.orderedIDs()
	}
	switch query.attribute {
	case scimAttrUserName:
		return d.idsWithUserName(query.value)
	case scimAttrExternalID:
		return d.idsWithExternalID(query.value)
	case scimAttrID:
		if _, ok := d.users[query.value]; ok {
			return []string{query.value}
		}
		return nil
	default: // scimAttrActive: a listing, so a scan is what any server does too.
		var ids []string
		for _, id := range d.orderedIDs() {
			if d.users[id].Active == query.active {
				ids = append(ids, id)
			}
		}
		return ids
	}
}

// pageOf is the page of ids that starts at the 1-based startIndex and holds at most count.
func pageOf(ids []string, startIndex, count int) []string {
	start := max(startIndex, 1) - 1
	if start >= len(ids) || count <= 0 {
		return nil
	}
	return ids[start:min(len(ids), start+count)]
}

// toResource renders the user as the library's resource; the library adds schemas, id,
// externalId and meta.
func (u SCIMUser) toResource(quirks SCIMQuirks) scim.Resource {
	attributes := scim.ResourceAttributes{"userName": u.UserName, "active": u.Active}
	if quirks.ActiveAsStrings {
		attributes["active"] = map[bool]string{true: "True", false: "False"}[u.Active]
	}
	setIfNotEmpty(attributes, "displayName", u.DisplayName)
	setIfNotEmpty(attributes, "userType", u.UserType)
	setIfNotEmpty(attributes, "title", u.Title)

	name := map[string]any{}
	setIfNotEmpty(name, "givenName", u.Name.GivenName)
	setIfNotEmpty(name, "familyName", u.Name.FamilyName)
	setIfNotEmpty(name, "formatted", u.Name.Formatted)
	if len(name) > 0 {
		attributes["name"] = name
	}
	if len(u.Emails) > 0 {
		attributes["emails"] = emailValues(u.Emails)
	}
	if len(u.Roles) > 0 {
		roles := make([]any, 0, len(u.Roles))
		for _, role := range u.Roles {
			roles = append(roles, map[string]any{scimValueAttribute: role})
		}
		attributes["roles"] = roles
	}
	if len(u.Groups) > 0 {
		groups := make([]any, 0, len(u.Groups))
		for _, group := range u.Groups {
			value := map[string]any{scimValueAttribute: group.Value}
			setIfNotEmpty(value, "display", group.Display)
			groups = append(groups, value)
		}
		attributes["groups"] = groups
	}
	if u.Department != "" {
		attributes[scimEnterpriseUserURN] = map[string]any{"department": u.Department}
	}

	resource := scim.Resource{ID: u.ID, Attributes: attributes}
	if u.ExternalID != "" {
		resource.ExternalID = optional.NewString(u.ExternalID)
	}
	resource.Meta.Created = utcOrNil(u.Created)
	resource.Meta.LastModified = utcOrNil(u.LastModified)
	return resource
}

func emailValues(emails []SCIMEmail) []any {
	values := make([]any, 0, len(emails))
	for _, email := range emails {
		value := map[string]any{scimValueAttribute: email.Value}
		setIfNotEmpty(value, "type", email.Type)
		if email.Primary {
			value["primary"] = true
		}
		values = append(values, value)
	}
	return values
}

func setIfNotEmpty[M ~map[string]any](attributes M, name, value string) {
	if value != "" {
		attributes[name] = value
	}
}

// utcOrNil is t in UTC, or nil for the zero time; the library formats meta times as given, so
// they are made UTC here to end in "Z" like the other APIs' timestamps.
func utcOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	utc := t.UTC()
	return &utc
}
