package upstreamhttp

import (
	"bytes"
	"encoding/json"
	"time"
)

// OptionalString decodes a JSON field documented as a string (or null) without letting a value of
// a surprising type fail the whole response: one odd field should cost that field, not the user.
type OptionalString struct {
	// Value is the string, when the field is a JSON string.
	Value string
	// IsString reports that the field is a JSON string.
	IsString bool
	// Set reports that the field is present and not null, whatever its type.
	Set bool
	// Raw is the value as the upstream sent it, for showing verbatim: the string itself for a JSON
	// string, the compact JSON text of any other value (7, -1, 2.5, true, {"a":1}), and "" when the
	// field is absent or null.
	Raw string
}

// UnmarshalJSON never fails; json.Decoder does not call it for absent fields.
func (s *OptionalString) UnmarshalJSON(data []byte) error {
	*s = OptionalString{}
	if string(data) == "null" {
		return nil
	}
	s.Set = true
	if json.Unmarshal(data, &s.Value) == nil {
		s.IsString = true
	}
	s.Raw = RawText(data)
	return nil
}

// RawText renders one JSON value for display: the string value of a JSON string, "" for null, and
// the compact JSON text of anything else. data is a single JSON value, as given to UnmarshalJSON.
func RawText(data []byte) string {
	data = bytes.TrimSpace(data)
	if string(data) == "null" {
		return ""
	}
	var text string
	if json.Unmarshal(data, &text) == nil {
		return text
	}
	var compact bytes.Buffer
	if json.Compact(&compact, data) != nil {
		return string(data) // not reached for input that came from json.Decoder
	}
	return compact.String()
}

// ParseTimestamp parses an RFC 3339 timestamp (fractional seconds allowed) and returns it in UTC,
// or nil when the field is absent, null, not a string or not RFC 3339.
func ParseTimestamp(s OptionalString) *time.Time {
	if !s.IsString {
		return nil
	}
	t, err := time.Parse(time.RFC3339, s.Value)
	if err != nil {
		return nil
	}
	t = t.UTC()
	return &t
}
