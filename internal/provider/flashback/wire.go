package flashback

import (
	"encoding/json"
	"errors"
	"strconv"

	"github.com/orgsync/orgsync/internal/provider/upstreamhttp"
)

// userResponse is the 200 body of GET /organization/users/{userId}, per the published page. The
// user comes unwrapped. orgId and orgRoles are not mirrored and so not declared.
//
// The identity fields are plain strings: if they arrive with another type the record is not one we
// can mirror, and decoding fails visibly; so does a record without an id, see Validate. Role and
// state fields are tolerant, so an odd value maps to Unknown (or is ignored) instead of failing the
// whole user.
type userResponse struct {
	ID       string `json:"id"`
	Email    string `json:"email"`
	Name     string `json:"name"`
	LastName string `json:"lastName"`

	OrgRole            roleCode                    `json:"orgRole"`
	OrgRoleDescription upstreamhttp.OptionalString `json:"orgRoleDescription"`
	Validated          optionalBool                `json:"validated"`
	// DeletedAt is null (or, from some backends, "") for a live user; any other value means the
	// user is deleted.
	DeletedAt upstreamhttp.OptionalString `json:"deletedAt"`
}

// Validate refuses an object without the user's identity: mirroring "{}" as a user with no id
// would look like a successful sync of nobody. upstreamhttp.GetJSON calls it after decoding.
func (w *userResponse) Validate() error {
	if w.ID == "" {
		return errors.New("missing id")
	}
	return nil
}

var _ upstreamhttp.Validator = (*userResponse)(nil)

// errorResponse is the documented error body for 403, 404 and 500.
type errorResponse struct {
	Success bool   `json:"success"`
	Message string `json:"message"`
}

// errorMessage returns the message of a documented error body, or "" so that the raw text is used.
func errorMessage(body []byte) string {
	var e errorResponse
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	return e.Message
}

// roleCode is the integer orgRole. Valid is false when the field is absent, null, or not a
// non-negative integer (a string, a fraction, a negative number): all of those have no code.
type roleCode struct {
	Value uint64
	Valid bool
	// Raw is the field as sent, for providerRole: a string's value, the compact JSON text of any
	// other value ("-1", "2.5", {"a":1}), "" when absent or null.
	Raw string
}

// UnmarshalJSON never fails, so a surprising orgRole cannot fail the whole user.
func (c *roleCode) UnmarshalJSON(data []byte) error {
	value, err := strconv.ParseUint(string(data), 10, 64)
	*c = roleCode{Value: value, Valid: err == nil, Raw: upstreamhttp.RawText(data)}
	return nil
}

// optionalBool is a JSON boolean; Valid is false when absent, null or of another type.
type optionalBool struct {
	Value bool
	Valid bool
}

// UnmarshalJSON never fails; a non-boolean reads as absent.
func (b *optionalBool) UnmarshalJSON(data []byte) error {
	*b = optionalBool{}
	b.Valid = json.Unmarshal(data, &b.Value) == nil && string(data) != "null"
	return nil
}
