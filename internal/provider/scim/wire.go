package scim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/orgsync/orgsync/internal/provider/upstreamhttp"
)

// object is one JSON object with its member names lower-cased, because RFC 7643 §2.1 makes SCIM
// attribute names case-insensitive and servers do send "Resources", "resources", "Meta" and
// "lastmodified". Members keep their raw JSON and are decoded only when the mapping needs them, so
// an odd value costs that value, not the user. When two members differ only in case, the later
// one wins, just as encoding/json keeps the last of two identical names; Go's struct decoding would
// instead pick by a mix of exact and folded matches that a hostile body could play on.
type object map[string]json.RawMessage

// parseObject reads data, one JSON value, as an object; any other value is an error.
func parseObject(data []byte) (object, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	start, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if delim, ok := start.(json.Delim); !ok || delim != '{' {
		return nil, fmt.Errorf("expected a JSON object, got %s", kindOf(data))
	}
	obj := object{}
	for dec.More() {
		nameToken, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, _ := nameToken.(string) // json.Decoder only yields strings as object member names
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, err
		}
		obj[strings.ToLower(name)] = value
	}
	return obj, nil
}

// member returns the named member's raw value, or nil when it is absent or null: RFC 7643 §2.5
// treats an unassigned attribute and the null value alike.
func (o object) member(name string) json.RawMessage {
	raw := o[strings.ToLower(name)]
	if isNull(raw) {
		return nil
	}
	return raw
}

// str returns the named member when it is a JSON string.
func (o object) str(name string) (string, bool) {
	return asString(o.member(name))
}

// child returns the named member parsed as an object, or nil when it is absent or not an object.
func (o object) child(name string) object {
	raw := o.member(name)
	if raw == nil {
		return nil
	}
	obj, err := parseObject(raw)
	if err != nil {
		return nil
	}
	return obj
}

func isNull(raw json.RawMessage) bool {
	trimmed := bytes.TrimSpace(raw)
	return len(trimmed) == 0 || string(trimmed) == "null"
}

func asString(raw json.RawMessage) (string, bool) {
	if first := firstByte(raw); first != '"' {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

func firstByte(raw []byte) byte {
	trimmed := bytes.TrimLeft(raw, " \t\r\n")
	if len(trimmed) == 0 {
		return 0
	}
	return trimmed[0]
}

// kindOf names the JSON type of raw for error messages.
func kindOf(raw []byte) string {
	switch firstByte(raw) {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

// userResource is one SCIM User resource. Its id is the identity every lookup counts users by, so
// it must be a non-empty JSON string; everything else is read leniently by the mapping.
type userResource struct {
	attrs object
	id    string
}

// UnmarshalJSON refuses a resource that is not an object or whose id is not a string; an absent
// id is left to Validate.
func (u *userResource) UnmarshalJSON(data []byte) error {
	attrs, err := parseObject(data)
	if err != nil {
		return err
	}
	*u = userResource{attrs: attrs}
	if raw := attrs.member("id"); raw != nil {
		// Decoded into a string for the standard message, "json: cannot unmarshal object into
		// Go value of type string", which names what was wrong.
		if err := json.Unmarshal(raw, &u.id); err != nil {
			return err
		}
	}
	return nil
}

// Validate refuses a user without an id: mirroring it would look like a successful sync of nobody.
// upstreamhttp.GetJSON calls it after decoding an id lookup's answer.
func (u *userResource) Validate() error {
	if u.id == "" {
		return errors.New("missing id")
	}
	return nil
}

// listResponse is the answer to a filtered GET /Users. Every resource must be a user with an id,
// even one that does not match the key: the re-check counts matching users by id, and skipping a
// resource it cannot read could turn an ambiguous answer into a unique one.
type listResponse struct {
	resources []userResource
}

// UnmarshalJSON reads Resources; absent or null means no user matched, as some servers answer.
func (l *listResponse) UnmarshalJSON(data []byte) error {
	attrs, err := parseObject(data)
	if err != nil {
		return err
	}
	return l.readResources(attrs)
}

// readResources reads Resources from an answer already parsed.
func (l *listResponse) readResources(attrs object) error {
	*l = listResponse{}
	raw := attrs.member("Resources")
	if raw == nil {
		return nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return fmt.Errorf("%w (Resources)", err)
	}
	l.resources = make([]userResource, len(items))
	for i, item := range items {
		if err := l.resources[i].UnmarshalJSON(item); err != nil {
			return fmt.Errorf("%w (resource %d of Resources)", err, i+1)
		}
		if err := l.resources[i].Validate(); err != nil {
			return fmt.Errorf("%w (resource %d of Resources)", err, i+1)
		}
	}
	return nil
}

var (
	_ upstreamhttp.Validator = (*userResource)(nil)
	_ json.Unmarshaler       = (*userResource)(nil)
	_ json.Unmarshaler       = (*listResponse)(nil)
)

// scimError is what a SCIM error body (urn:ietf:params:scim:api:messages:2.0:Error) says.
type scimError struct {
	scimType string
	detail   string
}

// parseError reads an error body: detail and scimType at the top level, or inside a wrapper some
// servers add ({"error": {...}}, {"Errors": [{...}]}). status is not read: the HTTP status decides
// the kind, and the body's copy arrives as a string or a number and adds nothing.
func parseError(body []byte) scimError {
	obj, err := parseObject(body)
	if err != nil {
		return scimError{}
	}
	if e := errorFields(obj); e != (scimError{}) {
		return e
	}
	for _, wrapper := range []string{"error", "errors"} {
		raw := obj.member(wrapper)
		if firstByte(raw) == '[' {
			var items []json.RawMessage
			if json.Unmarshal(raw, &items) != nil || len(items) == 0 {
				continue
			}
			raw = items[0]
		}
		if inner, err := parseObject(raw); err == nil {
			if e := errorFields(inner); e != (scimError{}) {
				return e
			}
		}
	}
	return scimError{}
}

func errorFields(obj object) scimError {
	scimType, _ := obj.str("scimType")
	detail, _ := obj.str("detail")
	return scimError{scimType: strings.TrimSpace(scimType), detail: strings.TrimSpace(detail)}
}

// message is the error's text for a condition: "scimType: detail", either alone, or "" when the
// body said neither, so that upstreamhttp falls back to the raw text.
func (e scimError) message() string {
	switch {
	case e.scimType != "" && e.detail != "":
		return e.scimType + ": " + e.detail
	case e.scimType != "":
		return e.scimType
	default:
		return e.detail
	}
}
