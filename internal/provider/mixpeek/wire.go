package mixpeek

import "github.com/orgsync/orgsync/internal/provider/upstreamhttp"

// userResponse is the 200 body of GET /v1/organizations/users/{user_email}, per the published page.
// Only mirrored fields are declared; internal_id, organization_id, metadata and
// namespace_permissions are ignored.
//
// The identity fields are plain strings: if they arrive with another type the record is not one we
// can mirror, and decoding fails visibly. Everything else is optional and tolerant, so one odd value
// (say, an unparsable timestamp) costs only that field.
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
