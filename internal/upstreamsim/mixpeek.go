package upstreamsim

import (
	"maps"
	"net/http"
	"time"
)

// MixpeekUser is one user of the simulated Mixpeek organization, keyed by Email.
//
// Role and Status are sent verbatim, so values outside the documented enums (admin/member/viewer,
// active/suspended/pending) can be simulated. UserID, Role and Status are optional in the
// reference page: an empty value leaves the field out. A zero CreatedAt or UpdatedAt leaves that
// timestamp out too.
type MixpeekUser struct {
	UserID         string
	Email          string
	UserName       string
	Role           string
	Status         string
	InternalID     string
	OrganizationID string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	LastLogin      *time.Time // nil is sent as "last_login": null
	// Metadata is sent as the "metadata" object; nil is sent as {}.
	Metadata map[string]string
}

// mixpeekUserJSON is the documented success body of GET /v1/organizations/users/{user_email}, in
// the page's field order.
type mixpeekUserJSON struct {
	CreatedAt      string            `json:"created_at,omitempty"`
	Email          string            `json:"email"`
	InternalID     string            `json:"internal_id"`
	Metadata       map[string]string `json:"metadata"`
	OrganizationID string            `json:"organization_id"`
	Role           string            `json:"role,omitempty"`
	Status         string            `json:"status,omitempty"`
	UpdatedAt      string            `json:"updated_at,omitempty"`
	UserID         string            `json:"user_id,omitempty"`
	UserName       string            `json:"user_name"`
	LastLogin      *string           `json:"last_login"`
}

// mixpeekErrorJSON is the error body. The reference page documents none, so this mirrors the
// FastAPI default the service appears to use; clients must treat it as opaque text anyway.
type mixpeekErrorJSON struct {
	Detail string `json:"detail"`
}

var mixpeekAPI = providerAPI{
	name:       ProviderMixpeek,
	pathPrefix: "/v1/organizations/users/",
	errorBody:  mixpeekErrorBody,
	lookupUser: func(s *Server, key string) (any, bool) {
		s.mu.Lock()
		user, ok := s.mixpeekUsers[key]
		s.mu.Unlock()
		if !ok {
			return nil, false
		}
		return user.toJSON(), true
	},
}

func mixpeekErrorBody(status int) any {
	messages := map[int]string{
		http.StatusUnauthorized:    "Invalid or missing API key",
		http.StatusForbidden:       "Insufficient permissions",
		http.StatusNotFound:        "User not found",
		http.StatusTooManyRequests: "Too many requests",
	}
	message, ok := messages[status]
	if !ok {
		message = http.StatusText(status)
	}
	return mixpeekErrorJSON{Detail: message}
}

// PutMixpeekUser adds or replaces the user with u.Email.
func (s *Server) PutMixpeekUser(u MixpeekUser) {
	u = u.clone()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mixpeekUsers[u.Email] = u
}

// SetMixpeekRole changes a user's role and, like the real service, moves updated_at to now when the
// role actually changes. It reports whether the user exists.
func (s *Server) SetMixpeekRole(email, role string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	user, ok := s.mixpeekUsers[email]
	if !ok {
		return false
	}
	if user.Role != role {
		user.Role = role
		user.UpdatedAt = time.Now().UTC().Truncate(time.Second)
		s.mixpeekUsers[email] = user
	}
	return true
}

// clone copies the pointer and map fields so the caller can keep mutating its value.
func (u MixpeekUser) clone() MixpeekUser {
	if u.LastLogin != nil {
		lastLogin := *u.LastLogin
		u.LastLogin = &lastLogin
	}
	u.Metadata = maps.Clone(u.Metadata)
	return u
}

func (u MixpeekUser) toJSON() mixpeekUserJSON {
	body := mixpeekUserJSON{
		CreatedAt:      formatOptionalTime(u.CreatedAt),
		Email:          u.Email,
		InternalID:     u.InternalID,
		Metadata:       u.Metadata,
		OrganizationID: u.OrganizationID,
		Role:           u.Role,
		Status:         u.Status,
		UpdatedAt:      formatOptionalTime(u.UpdatedAt),
		UserID:         u.UserID,
		UserName:       u.UserName,
	}
	if body.Metadata == nil {
		body.Metadata = map[string]string{}
	}
	if u.LastLogin != nil {
		lastLogin := formatTime(*u.LastLogin)
		body.LastLogin = &lastLogin
	}
	return body
}

// formatTime renders a timestamp as the reference pages do: RFC 3339 in UTC ("...Z"), with
// fractional seconds only when there are any.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// formatOptionalTime is formatTime, or "" for the zero time so that omitempty drops the field.
func formatOptionalTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return formatTime(t)
}
