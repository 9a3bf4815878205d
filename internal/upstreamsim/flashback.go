package upstreamsim

import (
	"net/http"
	"slices"
	"time"
)

// Flashback organization role codes, from the reference page's enumerated values.
const (
	FlashbackRoleUser          = 0x00
	FlashbackRoleBilling       = 0x01
	FlashbackRoleWorkspaces    = 0x02
	FlashbackRoleAdministrator = 0xfe
	FlashbackRoleOwner         = 0xff
)

// flashbackRoleDescriptions is the documented orgRole → orgRoleDescription table.
var flashbackRoleDescriptions = map[int]string{
	FlashbackRoleUser:          "USER",
	FlashbackRoleBilling:       "BILLING",
	FlashbackRoleWorkspaces:    "WORKSPACES",
	FlashbackRoleAdministrator: "ADMINISTRATOR",
	FlashbackRoleOwner:         "OWNER",
}

// FlashbackUser is one user of the simulated Flashback organization, keyed by ID.
type FlashbackUser struct {
	ID       string
	Email    string
	Name     string
	LastName string
	OrgID    string
	OrgRole  int
	// OrgRoleDescription is sent verbatim when set. Empty means the documented name of OrgRole,
	// or no field at all for a code outside the table, which is what makes an unknown code
	// observable to clients.
	OrgRoleDescription string
	Validated          bool
	DeletedAt          *time.Time // nil is sent as "deletedAt": null (a live user)
	OrgRoles           []int      // nil is sent as []
}

// flashbackUserJSON is the documented 200 body of GET /organization/users/{userId}, in the page's
// field order. The user object is returned directly, not wrapped.
type flashbackUserJSON struct {
	ID                 string  `json:"id"`
	Email              string  `json:"email"`
	Name               string  `json:"name"`
	LastName           string  `json:"lastName"`
	OrgID              string  `json:"orgId"`
	OrgRole            int     `json:"orgRole"`
	Validated          bool    `json:"validated"`
	DeletedAt          *string `json:"deletedAt"`
	OrgRoleDescription string  `json:"orgRoleDescription,omitempty"`
	OrgRoles           []int   `json:"orgRoles"`
}

// flashbackErrorJSON is the documented error body of every non-200 answer.
type flashbackErrorJSON struct {
	Success bool   `json:"success"`
	Message string `json:"message"`
}

var flashbackAPI = providerAPI{
	name:       ProviderFlashback,
	pathPrefix: "/organization/users/",
	errorBody:  flashbackErrorBody,
	lookupUser: func(s *Server, key string) (any, bool) {
		s.mu.Lock()
		user, ok := s.flashbackUsers[key]
		s.mu.Unlock()
		if !ok {
			return nil, false
		}
		return user.toJSON(), true
	},
}

func flashbackErrorBody(status int) any {
	// 403, 404 and 500 are the reference page's own messages; the others follow their style.
	messages := map[int]string{
		http.StatusUnauthorized:        "Invalid or missing access token",
		http.StatusForbidden:           "Insufficient permissions to view users",
		http.StatusNotFound:            "User not found",
		http.StatusTooManyRequests:     "Too many requests",
		http.StatusInternalServerError: "Internal server error",
	}
	message, ok := messages[status]
	if !ok {
		message = http.StatusText(status)
	}
	return flashbackErrorJSON{Success: false, Message: message}
}

// PutFlashbackUser adds or replaces the user with u.ID.
func (s *Server) PutFlashbackUser(u FlashbackUser) {
	u = u.clone()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flashbackUsers[u.ID] = u
}

// SetFlashbackRole changes a user's role code. The description follows the new code (it is
// cleared, so the documented name, or none, is sent). It reports whether the user exists.
func (s *Server) SetFlashbackRole(id string, code int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	user, ok := s.flashbackUsers[id]
	if !ok {
		return false
	}
	user.OrgRole = code
	user.OrgRoleDescription = ""
	s.flashbackUsers[id] = user
	return true
}

// clone copies the pointer and slice fields so the caller can keep mutating its value.
func (u FlashbackUser) clone() FlashbackUser {
	if u.DeletedAt != nil {
		deletedAt := *u.DeletedAt
		u.DeletedAt = &deletedAt
	}
	u.OrgRoles = slices.Clone(u.OrgRoles)
	return u
}

func (u FlashbackUser) toJSON() flashbackUserJSON {
	body := flashbackUserJSON{
		ID:                 u.ID,
		Email:              u.Email,
		Name:               u.Name,
		LastName:           u.LastName,
		OrgID:              u.OrgID,
		OrgRole:            u.OrgRole,
		Validated:          u.Validated,
		OrgRoleDescription: u.OrgRoleDescription,
		OrgRoles:           u.OrgRoles,
	}
	if body.OrgRoleDescription == "" {
		body.OrgRoleDescription = flashbackRoleDescriptions[u.OrgRole]
	}
	if body.OrgRoles == nil {
		body.OrgRoles = []int{}
	}
	if u.DeletedAt != nil {
		deletedAt := formatTime(*u.DeletedAt)
		body.DeletedAt = &deletedAt
	}
	return body
}
