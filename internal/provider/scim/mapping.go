package scim

import (
	"encoding/json"
	"strings"
	"time"
	"unicode"

	"github.com/orgsync/orgsync/internal/provider"
	"github.com/orgsync/orgsync/internal/provider/upstreamhttp"
)

// normalizedRoles are the role names a roles value may spell (in any case) to map without a
// roles block.
var normalizedRoles = []provider.Role{
	provider.RoleOwner, provider.RoleAdmin, provider.RoleManager, provider.RoleBilling, provider.RoleMember, provider.RoleViewer,
}

// toUser maps one SCIM user per the contract's table. It cannot fail: what cannot be read is
// absent, Unknown, or falls through to the next source of the row.
func toUser(u userResource, roles *RoleMapping) provider.User {
	role, providerRole := mapRole(u.attrs, roles)
	meta := u.attrs.child("meta")
	return provider.User{
		ID:           u.id,
		Email:        email(u.attrs),
		DisplayName:  displayName(u.attrs),
		Role:         role,
		ProviderRole: providerRole,
		State:        state(u.attrs.member("active")),
		CreatedAt:    parseTime(meta.member("created")),
		UpdatedAt:    parseTime(meta.member("lastModified")),
	}
}

// email is the primary emails entry, else the first, else userName when it looks like an address.
func email(attrs object) string {
	first := ""
	for _, entry := range elements(attrs.member("emails")) {
		value, primary := emailEntry(entry)
		if value == "" {
			continue
		}
		if primary {
			return value
		}
		if first == "" {
			first = value
		}
	}
	if first != "" {
		return first
	}
	if userName, _ := attrs.str("userName"); looksLikeEmail(userName) {
		return userName
	}
	return ""
}

// emailEntry reads one emails entry: an object's value and primary, or a bare string.
func emailEntry(entry json.RawMessage) (value string, primary bool) {
	if s, ok := asString(entry); ok {
		return strings.TrimSpace(s), false
	}
	obj, err := parseObject(entry)
	if err != nil {
		return "", false
	}
	value, _ = obj.str("value")
	return strings.TrimSpace(value), isTrue(obj.member("primary"))
}

// looksLikeEmail is deliberately loose: one "@" with something on either side and no whitespace.
func looksLikeEmail(s string) bool {
	local, domain, found := strings.Cut(s, "@")
	return found && local != "" && domain != "" && !strings.Contains(domain, "@") && !strings.ContainsFunc(s, unicode.IsSpace)
}

// displayName is displayName, else name.formatted, else givenName and familyName, else userName.
func displayName(attrs object) string {
	name := attrs.child("name")
	given, _ := name.str("givenName")
	family, _ := name.str("familyName")
	formatted, _ := name.str("formatted")
	display, _ := attrs.str("displayName")
	userName, _ := attrs.str("userName")
	joined := strings.TrimSpace(strings.TrimSpace(given) + " " + strings.TrimSpace(family))
	for _, candidate := range []string{display, formatted, joined, userName} {
		if strings.TrimSpace(candidate) != "" {
			return candidate
		}
	}
	return ""
}

// state reads active: a boolean, or the strings "true"/"false" in any case (Entra sends "True").
// Absent or null is Active, as the contract says. Any other value (a number, "yes", "disabled") is
// Unknown rather than Active: the server said something about the user that we cannot read, and
// reading it as Active could let a disabled user pass an admission policy.
func state(raw json.RawMessage) provider.State {
	if raw == nil {
		return provider.StateActive
	}
	active, ok := asBool(raw)
	switch {
	case !ok:
		return provider.StateUnknown
	case active:
		return provider.StateActive
	default:
		return provider.StateSuspended
	}
}

func asBool(raw json.RawMessage) (value, ok bool) {
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b, true
	}
	s, isString := asString(raw)
	switch {
	case isString && strings.EqualFold(strings.TrimSpace(s), "true"):
		return true, true
	case isString && strings.EqualFold(strings.TrimSpace(s), "false"):
		return false, true
	}
	return false, false
}

func isTrue(raw json.RawMessage) bool {
	value, ok := asBool(raw)
	return ok && value
}

// mapRole decides role and providerRole from the user's values of the role attribute.
func mapRole(attrs object, roles *RoleMapping) (provider.Role, string) {
	if roles == nil {
		values := attributeValues(attrs, defaultRoleAttribute)
		for _, value := range values {
			for _, role := range normalizedRoles {
				if strings.EqualFold(strings.TrimSpace(value), string(role)) {
					return role, value
				}
			}
		}
		return provider.RoleUnknown, firstOrEmpty(values)
	}
	values := attributeValues(attrs, roles.Attribute)
	// The map is ordered: the first entry matching any of the user's values wins, so an
	// administrator lists the most privileged entry first.
	for _, entry := range roles.Map {
		for _, value := range values {
			if strings.EqualFold(strings.TrimSpace(value), strings.TrimSpace(entry.Value)) {
				return entry.Role, value
			}
		}
	}
	fallback := roles.Default
	if fallback == "" {
		fallback = provider.RoleUnknown
	}
	return fallback, firstOrEmpty(values)
}

func firstOrEmpty(values []string) string {
	if len(values) == 0 {
		return ""
	}
	return values[0]
}

// attributeValues resolves an attribute path (roles, name.givenName, or an extension's full URN
// path such as urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department) and returns
// its values: each plain string or scalar, and the value and display sub-attributes of each complex
// value, in the order the server sent them.
func attributeValues(attrs object, path string) []string {
	var values []string
	for _, raw := range resolve(attrs, path) {
		for _, element := range elements(raw) {
			for _, value := range elementValues(element) {
				if strings.TrimSpace(value) != "" {
					values = append(values, value)
				}
			}
		}
	}
	return values
}

// resolve finds the raw values an attribute path names. A path into an extension starts with the
// extension's URN, which is a top-level member; the last ":"-separated segment is the attribute
// inside it. A "." descends into a complex attribute, and through each element of a multi-valued one.
func resolve(attrs object, path string) []json.RawMessage {
	path = strings.TrimSpace(path)
	current := []object{attrs}
	if strings.HasPrefix(strings.ToLower(path), "urn:") {
		cut := strings.LastIndexByte(path, ':')
		current = []object{attrs.child(path[:cut])}
		path = path[cut+1:]
	}
	segments := strings.Split(path, ".")
	for i, segment := range segments {
		var found []json.RawMessage
		for _, obj := range current {
			if raw := obj.member(segment); raw != nil {
				found = append(found, raw)
			}
		}
		if i == len(segments)-1 {
			return found
		}
		current = current[:0:0]
		for _, raw := range found {
			for _, element := range elements(raw) {
				if obj, err := parseObject(element); err == nil {
					current = append(current, obj)
				}
			}
		}
	}
	return nil
}

// elements returns the values of a multi-valued attribute: an array's elements, or the value itself
// when a server sends a single value (a bare string, one object) where an array belongs.
func elements(raw json.RawMessage) []json.RawMessage {
	if raw == nil {
		return nil
	}
	if firstByte(raw) != '[' {
		return []json.RawMessage{raw}
	}
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return nil
	}
	return items
}

// elementValues is what one value of an attribute offers a role map: a string or other scalar
// itself, or a complex value's value and display sub-attributes.
func elementValues(element json.RawMessage) []string {
	switch firstByte(element) {
	case '{':
		obj, err := parseObject(element)
		if err != nil {
			return nil
		}
		var values []string
		for _, sub := range []string{"value", "display"} {
			if raw := obj.member(sub); raw != nil && firstByte(raw) != '{' && firstByte(raw) != '[' {
				values = append(values, upstreamhttp.RawText(raw))
			}
		}
		return values
	case '[', 'n', 0:
		return nil // nested arrays are not SCIM; null is no value
	default:
		return []string{upstreamhttp.RawText(element)}
	}
}

// naiveLayout is a timestamp without an offset, which some servers send in meta; the contract
// reads it as UTC.
const naiveLayout = "2006-01-02T15:04:05"

// parseTime reads an RFC 3339 time, or one without an offset as UTC; anything else is absent.
func parseTime(raw json.RawMessage) *time.Time {
	s, ok := asString(raw)
	if !ok {
		return nil
	}
	s = strings.TrimSpace(s)
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		// Parsing accepts fractional seconds even though the layout has none.
		if t, err = time.ParseInLocation(naiveLayout, s, time.UTC); err != nil {
			return nil
		}
	}
	t = t.UTC()
	return &t
}
