package upstreamhttp

import (
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
	return nil
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
