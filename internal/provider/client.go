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
