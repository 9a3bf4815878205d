package mixpeek

import (
	"errors"

	"github.com/orgsync/orgsync/internal/provider/upstreamhttp"
)

// userResponse is the 200 body of GET /v1/organizations/users/{user_email}, per the published page.
// Only mirrored fields are declared; internal_id, organization_id, metadata and
// namespace_permissions are ignored.
//
// The identity fields are plain strings: if they arrive with another type the record is not one we
// can mirror, and decoding fails visibly; so does a record without an email (required on the page),
// see Validate. Everything else is optional and tolerant, so one odd value (say, an unparsable
// timestamp) costs only that field.
type userResponse struct {
	UserID   string `json:"user_id"`
	Email    string `json:"email"`
	UserName string `json:"user_name"`

	// Role is documented as admin | member | viewer.
	Role upstreamhttp.OptionalString `json:"role"`
	// Status is documented as active | suspended | pending.
	Status upstreamhttp.OptionalString `json:"status"`

	CreatedAt upstreamhttp.OptionalString `json:"created_at"`
	UpdatedAt upstreamhttp.OptionalString `json:"updated_at"`
	// LastLogin is null for a user who never logged in.
	LastLogin upstreamhttp.OptionalString `json:"last_login"`
}

// Validate refuses an object without the user's identity: mirroring "{}" as a user with no email
// would look like a successful sync of nobody. upstreamhttp.GetJSON calls it after decoding.
func (w *userResponse) Validate() error {
	if w.Email == "" {
		return errors.New("missing email")
	}
	return nil
}

var _ upstreamhttp.Validator = (*userResponse)(nil)
