package provider

import (
	"context"
	"time"
)

// Client reads users from one upstream organization with one credential.
// Implementations are safe for concurrent use.
type Client interface {
	// GetUser reads the user named by key. It returns a *Error for every failure.
	GetUser(ctx context.Context, key string) (User, error)
}

// Config is what a Client needs to reach one upstream organization.
type Config struct {
	// BaseURL is the API root, e.g. https://api.mixpeek.com, without a trailing path for the endpoint.
	BaseURL string
	// Token is sent as "Authorization: Bearer <token>" and nowhere else.
	Token string
	// CABundle holds extra PEM certificates trusted in addition to the system roots.
	CABundle []byte
	// Timeout bounds each request, including reading the body.
	Timeout time.Duration
	// UserAgent is sent on every request.
	UserAgent string
	// AllowPrivateAddresses lets the client connect to loopback, private and other non-public
	// addresses (for a simulator or an in-cluster upstream). Link-local and cloud metadata
	// addresses are refused regardless.
	AllowPrivateAddresses bool
	// Options holds provider-specific settings, of a type the provider documents: nil for mixpeek
	// and flashback, scim.Options (or a pointer to one) for scim.
	Options any
}

// Provider is one upstream API: it checks keys and builds clients.
type Provider interface {
	// Name is the provider's name as it appears in status.provider, e.g. "mixpeek".
	Name() string
	// ValidateKey returns a *Error of KindInvalidKey when key cannot name a user of this provider.
	ValidateKey(key string) error
	// NewClient builds a client; it fails only on unusable configuration (bad URL, bad CA bundle).
	NewClient(cfg Config) (Client, error)
}

// Registry maps provider names to providers. cmd/main.go builds it explicitly.
type Registry map[string]Provider

// IdleConnectionCloser is implemented by clients that keep connections open between requests. The
// connection pool calls it when it replaces a client (a rotated token) or forgets one (a deleted
// provider), so the old credential's connections do not linger.
type IdleConnectionCloser interface {
	CloseIdleConnections()
}

// Lister is implemented by clients that can list every user of their organization, for
// OrgDirectory. It is optional: a caller asks for it with a type assertion, and a provider whose
// client lacks it cannot list (ProviderCannotList). Each call sends at most one request, so the
// caller can give every request its own turn in its rate-limited queue; Listing decides which
// pages to ask for and when a listing is complete. Every failure is a *Error whose Op is
// OpListUsers, or the implementation's own for ListCapabilities.
type Lister interface {
	// ListCapabilities says what the server offers a listing beyond RFC 7644's startIndex paging.
	// The first successful call sends one request; later calls answer from memory.
	ListCapabilities(ctx context.Context) (ListCapabilities, error)
	// ListPage reads one page of users.
	ListPage(ctx context.Context, req PageRequest) (Page, error)
}

// ListCapabilities is what a server announces about listing. The zero value is RFC 7644's
// baseline: startIndex paging, in whatever order the server likes.
type ListCapabilities struct {
	// CursorPaging means the server offers RFC 9865 cursor paging, which a listing prefers: a
	// cursor does not shift when users are added or removed between pages.
	CursorPaging bool
	// Sort means the server can sort (sort.supported), so a listing asks sortBy=id: some servers
	// answer every page in a fresh order unless asked to sort.
	Sort bool
}

// PageRequest asks for one page of users.
type PageRequest struct {
	// Filter is passed to the server as written (a SCIM filter for scim); "" lists every user.
	Filter string
	// Count is how many users the page should hold; the server may send fewer. 0 leaves it to
	// the server.
	Count int
	// StartIndex is the 1-based position of the page's first user, for startIndex paging; values
	// below 1 mean 1. It is not sent when CursorPaging is set.
	StartIndex int
	// CursorPaging asks for RFC 9865 cursor paging: Cursor is sent, empty for the first page and
	// then the previous page's NextCursor.
	CursorPaging bool
	Cursor       string
	// SortByID asks the server to sort by id, for an order that holds from one page to the next.
	SortByID bool
}

// Page is one page of a listing. Users carry their ID and Key; a user may appear on two pages,
// and a page may hold fewer users than asked for, so only Listing can tell when a listing is
// complete.
type Page struct {
	Users []User
	// TotalResults is how many users the server says match the listing, when HasTotalResults.
	TotalResults    int
	HasTotalResults bool
	// StartIndex and ItemsPerPage are what the server said, 0 when it did not. Servers report them
	// inconsistently (some echo the requested count), so paging never relies on them.
	StartIndex   int
	ItemsPerPage int
	// NextCursor is the cursor of the next page in cursor paging; "" means there is none.
	NextCursor string
}
