package upstreamsim

import (
	"encoding/json"
	"errors"
	"strings"

	scimfilter "github.com/scim2/filter-parser/v2"
)

// The filters the simulated SCIM service answers: one attribute compared with eq. The library
// validates a filter against the schema; this narrows it to what the simulator implements, as a
// real server supports a few filters only (GitHub: one attribute at a time).
const (
	scimAttrUserName   = "username"
	scimAttrExternalID = "externalid"
	scimAttrID         = "id"
	scimAttrActive     = "active"
)

// scimCoreUserURN prefixes a fully qualified core attribute, e.g. "...:User:userName".
const scimCoreUserURN = "urn:ietf:params:scim:schemas:core:2.0:User"

var errUnsupportedFilter = errors.New("unsupported filter")

// scimQuery is a filter the simulator implements.
type scimQuery struct {
	// attribute is one of the scimAttr names (lowercase: attribute names are case-insensitive).
	attribute string
	// value is the decoded string compared with userName, externalId or id.
	value string
	// active is the boolean compared with active.
	active bool
}

// parseSCIMQuery narrows a parsed filter to a scimQuery, or errUnsupportedFilter.
func parseSCIMQuery(expression scimfilter.Expression) (scimQuery, error) {
	comparison, ok := expression.(*scimfilter.AttributeExpression)
	if !ok || comparison.Operator != scimfilter.EQ || comparison.AttributePath.SubAttribute != nil {
		return scimQuery{}, errUnsupportedFilter
	}
	if prefix := comparison.AttributePath.URIPrefix; prefix != nil && !strings.EqualFold(*prefix, scimCoreUserURN) {
		return scimQuery{}, errUnsupportedFilter
	}
	attribute := strings.ToLower(comparison.AttributePath.AttributeName)
	switch attribute {
	case scimAttrUserName, scimAttrExternalID, scimAttrID:
		raw, isString := comparison.CompareValue.(string)
		if !isString {
			return scimQuery{}, errUnsupportedFilter
		}
		value, err := decodeFilterString(raw)
		if err != nil {
			return scimQuery{}, err
		}
		return scimQuery{attribute: attribute, value: value}, nil
	case scimAttrActive:
		active, isBool := comparison.CompareValue.(bool)
		if !isBool {
			return scimQuery{}, errUnsupportedFilter
		}
		return scimQuery{attribute: attribute, active: active}, nil
	default:
		return scimQuery{}, errUnsupportedFilter
	}
}

// decodeFilterString decodes the escapes of a filter's string value. The filter parser hands the
// text between the quotes over as written, so `"a\"b"` arrives as `a\"b`; SCIM writes a compValue
// exactly as JSON writes a string (RFC 7644 §3.4.2.2), so JSON decodes it.
func decodeFilterString(raw string) (string, error) {
	var value string
	if err := json.Unmarshal([]byte(`"`+raw+`"`), &value); err != nil {
		return "", errUnsupportedFilter
	}
	return value, nil
}

// scimRequestKey is the key a SCIM list request looks up, for the request counters: the value of a
// userName, externalId or id filter; "" for any other request, including an unreadable filter.
func scimRequestKey(rawFilter string) string {
	if rawFilter == "" {
		return ""
	}
	expression, err := scimfilter.ParseFilter([]byte(rawFilter))
	if err != nil {
		return ""
	}
	query, err := parseSCIMQuery(expression)
	if err != nil || query.attribute == scimAttrActive {
		return ""
	}
	return query.value
}

// normalizeUnicodeEscapes upper-cases the hex digits of every \uXXXX escape in a filter. The
// library's filter parser accepts only upper-case ones, while JSON allows either and Go's
// encoding/json writes lower case ("<" becomes \u003c), so a key written correctly would
// otherwise be refused as an invalid filter. An escaped backslash is skipped whole, so `\\u00e9`
// (a backslash, then the text "u00e9") is left as it is.
func normalizeUnicodeEscapes(filter string) string {
	if !strings.Contains(filter, `\u`) {
		return filter
	}
	normalized := []byte(filter)
	for i := 0; i < len(normalized)-1; i++ {
		if normalized[i] != '\\' {
			continue
		}
		if normalized[i+1] == 'u' && i+5 < len(normalized) {
			for j := i + 2; j < i+6; j++ {
				if 'a' <= normalized[j] && normalized[j] <= 'f' {
					normalized[j] -= 'a' - 'A'
				}
			}
		}
		i++ // skip the escaped character, which may itself be a backslash
	}
	return string(normalized)
}
