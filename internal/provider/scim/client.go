package scim

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/orgsync/orgsync/internal/provider"
	"github.com/orgsync/orgsync/internal/provider/upstreamhttp"
)

const (
	// Name is the provider's name in status.provider.
	Name = "scim"
	// MaxKeyLength is the longest key, in characters: an email address's maximum.
	MaxKeyLength = 320
	// accept asks for SCIM's media type and takes plain JSON, which many servers send instead.
	accept = "application/scim+json, application/json"
	// defaultRoleAttribute is the attribute roles are read from when nothing else is configured.
	defaultRoleAttribute = "roles"
	// maxAmbiguousIDs bounds how many ids an AmbiguousKey message lists.
	maxAmbiguousIDs = 5
	// maxIDInMessage bounds each id quoted in a message, in bytes.
	maxIDInMessage = 64
)

// The attributes a key can hold (Options.KeyAttribute), spelled as in the schema because some
// servers require that spelling in a filter.
const (
	KeyUserName   = "userName"
	KeyExternalID = "externalId"
	KeyID         = "id"
)

// Options are the scim provider's settings, passed in provider.Config.Options.
type Options struct {
	// KeyAttribute is the attribute OrgUser.spec.key holds: KeyUserName (the default when ""),
	// KeyExternalID or KeyID.
	KeyAttribute string
	// Roles says how the role is derived; nil means a roles value naming a normalized role.
	Roles *RoleMapping
}

// RoleMapping derives the normalized role from one attribute of the user.
type RoleMapping struct {
	// Attribute is the attribute whose values are matched: roles (the default when ""), groups,
	// entitlements, userType, title, or a full URN path into an extension.
	Attribute string
	// Map is ordered: the first entry matching any of the user's values, ignoring case, wins.
	Map []RoleMapEntry
	// Default is the role when no entry matches; "" means provider.RoleUnknown.
	Default provider.Role
}

// RoleMapEntry maps one upstream value to a normalized role.
type RoleMapEntry struct {
	Value string
	Role  provider.Role
}

// Provider is any SCIM 2.0 service's /Users endpoint.
type Provider struct{}

var _ provider.Provider = Provider{}

// Name returns "scim".
func (Provider) Name() string { return Name }

// ValidateKey accepts 1..320 characters of valid UTF-8 without control characters.
func (Provider) ValidateKey(key string) error { return validateKey(key) }

// NewClient builds a SCIM client.
func (Provider) NewClient(cfg provider.Config) (provider.Client, error) {
	c, err := NewClient(cfg)
	if err != nil {
		return nil, err // not a nil *Client inside a non-nil interface
	}
	return c, nil
}

// Client reads users from one SCIM service.
type Client struct {
	upstream *upstreamhttp.Client
	// lister and discovery share upstream's connections; their errors name a listing and the
	// reading of /ServiceProviderConfig (a discovery endpoint, RFC 7644 §4), and a 400 means
	// something else to each.
	lister       *upstreamhttp.Client
	discovery    *upstreamhttp.Client
	keyAttribute string
	roles        *RoleMapping

	capabilitiesMu sync.Mutex
	// capabilities is what /ServiceProviderConfig said, once it said it; nil before.
	capabilities *provider.ListCapabilities
}

var (
	_ provider.Client               = (*Client)(nil)
	_ provider.IdleConnectionCloser = (*Client)(nil)
)

// NewClient builds a client from cfg, whose Options is a scim.Options, a *scim.Options or nil
// (the defaults). It fails on unusable configuration: no BaseURL (SCIM has no default server), a
// non-https BaseURL, a CABundle without a certificate, or Options it cannot use.
func NewClient(cfg provider.Config) (*Client, error) {
	opts, err := optionsFrom(cfg.Options)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	if cfg.BaseURL == "" {
		return nil, fmt.Errorf("%s: baseURL is required: a SCIM service has no default address", Name)
	}
	c := &Client{keyAttribute: opts.KeyAttribute, roles: opts.Roles}
	upstream, err := upstreamhttp.New(Name, cfg, upstreamhttp.Options{
		Accept:         accept,
		ErrorMessage:   func(body []byte) string { return parseError(body).message() },
		ClassifyStatus: c.classifyStatus,
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	c.upstream = upstream
	c.lister = upstream.ForOperation(provider.OpListUsers, c.classifyListStatus)
	c.discovery = upstream.ForOperation(opReadConfig, statusDecides)
	return c, nil
}

// optionsFrom reads provider.Config.Options and checks it, with defaults filled in. The role
// mapping is copied, so a caller changing its Options later cannot change a running client.
func optionsFrom(raw any) (Options, error) {
	var opts Options
	switch v := raw.(type) {
	case nil:
	case Options:
		opts = v
	case *Options:
		if v != nil {
			opts = *v
		}
	default:
		return Options{}, fmt.Errorf("options must be scim.Options, not %T", raw)
	}
	switch opts.KeyAttribute {
	case "":
		opts.KeyAttribute = KeyUserName
	case KeyUserName, KeyExternalID, KeyID:
	default:
		return Options{}, fmt.Errorf("keyAttribute %q is not one of %s, %s, %s", opts.KeyAttribute, KeyUserName, KeyExternalID, KeyID)
	}
	if opts.Roles != nil {
		roles, err := checkRoles(*opts.Roles)
		if err != nil {
			return Options{}, err
		}
		opts.Roles = &roles
	}
	return opts, nil
}

func checkRoles(roles RoleMapping) (RoleMapping, error) {
	roles.Attribute = strings.TrimSpace(roles.Attribute)
	if roles.Attribute == "" {
		roles.Attribute = defaultRoleAttribute
	}
	if strings.HasPrefix(strings.ToLower(roles.Attribute), "urn:") && strings.HasSuffix(roles.Attribute, ":") {
		return RoleMapping{}, fmt.Errorf("roles.attribute %q names an extension but no attribute inside it", roles.Attribute)
	}
	if roles.Default != "" && !isRole(roles.Default) {
		return RoleMapping{}, fmt.Errorf("roles.default %q is not a normalized role", roles.Default)
	}
	roles.Map = append([]RoleMapEntry(nil), roles.Map...)
	for i, entry := range roles.Map {
		if strings.TrimSpace(entry.Value) == "" {
			return RoleMapping{}, fmt.Errorf("roles.map[%d] has no value", i)
		}
		if !isRole(entry.Role) {
			return RoleMapping{}, fmt.Errorf("roles.map[%d] maps %q to %q, which is not a normalized role", i, entry.Value, entry.Role)
		}
	}
	return roles, nil
}

func isRole(role provider.Role) bool {
	return role == provider.RoleUnknown || slices.Contains(normalizedRoles, role)
}

// GetUser reads the user whose keyAttribute is key. An invalid key fails before any request is sent.
func (c *Client) GetUser(ctx context.Context, key string) (provider.User, error) {
	if err := validateKey(key); err != nil {
		return provider.User{}, err
	}
	if c.keyAttribute == KeyID {
		var user userResource
		if err := c.upstream.GetJSON(ctx, &user, "Users", key); err != nil {
			return provider.User{}, err
		}
		return toUser(user, c.roles).Bounded(), nil
	}
	var list listResponse
	query := url.Values{"filter": {Filter(c.keyAttribute, key)}}
	if err := c.upstream.GetJSONWithQuery(ctx, &list, query, "Users"); err != nil {
		return provider.User{}, err
	}
	user, err := c.pick(list.resources, key)
	if err != nil {
		return provider.User{}, err
	}
	// Bounded before it leaves the client: the upstream decides how long its strings are.
	return toUser(user, c.roles).Bounded(), nil
}

// pick re-checks a filtered answer, because servers compare userName case-sensitively, match
// externalId ignoring case, or ignore the filter and answer a page of other users: only a resource
// whose attribute holds the key counts, userName compared ignoring case (caseExact false in RFC
// 7643) and externalId exactly.
func (c *Client) pick(resources []userResource, key string) (userResource, error) {
	var matches []userResource
	for _, resource := range resources {
		value, ok := resource.attrs.str(c.keyAttribute)
		if !ok {
			continue
		}
		if value == key || c.keyAttribute == KeyUserName && strings.EqualFold(value, key) {
			matches = append(matches, resource)
		}
	}
	switch len(matches) {
	case 0:
		return userResource{}, &provider.Error{
			Provider: Name,
			Kind:     provider.KindNotFound,
			Message:  fmt.Sprintf("no user has %s %q", c.keyAttribute, key),
		}
	case 1:
		return matches[0], nil
	default:
		return userResource{}, &provider.Error{
			Provider: Name,
			Kind:     provider.KindAmbiguousKey,
			Message:  fmt.Sprintf("%d users have %s %q: %s", len(matches), c.keyAttribute, key, listIDs(matches)),
		}
	}
}

// listIDs names the ids of ambiguous matches, bounded in number and length, quoted so that an id
// cannot break the condition message.
func listIDs(users []userResource) string {
	quoted := make([]string, 0, maxAmbiguousIDs)
	for i, user := range users {
		if i == maxAmbiguousIDs {
			quoted[len(quoted)-1] += fmt.Sprintf(" and %d more", len(users)-maxAmbiguousIDs)
			break
		}
		id := provider.TruncateUTF8(strings.ToValidUTF8(user.id, "\uFFFD"), maxIDInMessage)
		quoted = append(quoted, fmt.Sprintf("%q", id))
	}
	return "ids " + strings.Join(quoted, ", ")
}

// classifyStatus makes a 400 invalidFilter or invalidSyntax an InvalidConfig error: the server
// cannot look users up by the configured attribute, and no retry changes that.
func (c *Client) classifyStatus(status int, body []byte) (provider.ErrorKind, string, bool) {
	if status != http.StatusBadRequest {
		return "", "", false
	}
	e := parseError(body)
	if !strings.EqualFold(e.scimType, "invalidFilter") && !strings.EqualFold(e.scimType, "invalidSyntax") {
		return "", "", false
	}
	how := "filter users by " + c.keyAttribute
	if c.keyAttribute == KeyID {
		how = "look users up by id"
	}
	return provider.KindInvalidConfig, fmt.Sprintf("the server cannot %s: %s", how, e.message()), true
}

// statusDecides leaves every answer the kind its HTTP status gives.
func statusDecides(int, []byte) (provider.ErrorKind, string, bool) { return "", "", false }

// Filter is the SCIM filter that selects the users whose attribute equals key:
// `attribute eq "key"`, with the key written as a JSON string (`"` and `\` escaped, control
// characters as \uXXXX, invalid UTF-8 as U+FFFD) and <, >, & left alone, since they are not
// special in a filter.
func Filter(attribute, key string) string {
	var b strings.Builder
	b.Grow(len(attribute) + len(key) + 8)
	b.WriteString(attribute)
	b.WriteString(` eq "`)
	const hex = "0123456789abcdef"
	for i := 0; i < len(key); {
		r, size := utf8.DecodeRuneInString(key[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\ufffd`)
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\u00`)
			b.WriteByte(hex[r>>4])
			b.WriteByte(hex[r&0x0f])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// validateKey checks the contract's key rule: 1..MaxKeyLength characters, valid UTF-8, no control
// characters. Anything else is left to the server, which decides whether the user exists.
func validateKey(key string) error {
	reason := ""
	switch n := utf8.RuneCountInString(key); {
	case key == "":
		reason = "it is empty"
	case !utf8.ValidString(key):
		reason = "it is not valid UTF-8"
	case n > MaxKeyLength:
		reason = fmt.Sprintf("it has %d characters, more than %d", n, MaxKeyLength)
	case strings.ContainsFunc(key, unicode.IsControl):
		reason = "it contains a control character"
	}
	if reason == "" {
		return nil
	}
	shown := key
	if len(shown) > MaxKeyLength {
		shown = provider.TruncateUTF8(shown, 64) + "..."
	}
	return &provider.Error{
		Provider: Name,
		Kind:     provider.KindInvalidKey,
		Message:  fmt.Sprintf("key %q cannot name a SCIM user: %s", shown, reason),
	}
}

// CloseIdleConnections closes the connections kept alive for this client.
func (c *Client) CloseIdleConnections() { c.upstream.CloseIdleConnections() }
