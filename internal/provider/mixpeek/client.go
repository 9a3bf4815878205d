// Package mixpeek reads organization users from the Mixpeek API
// (GET {baseURL}/v1/organizations/users/{user_email}).
package mixpeek

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/orgsync/orgsync/internal/provider"
	"github.com/orgsync/orgsync/internal/provider/upstreamhttp"
)

const (
	// Name is the provider's name in status.provider.
	Name = "mixpeek"
	// DefaultBaseURL is used when provider.Config.BaseURL is empty.
	DefaultBaseURL = "https://api.mixpeek.com"
)

// Provider is the Mixpeek API: keys are email addresses.
type Provider struct{}

var _ provider.Provider = Provider{}

// Name returns "mixpeek".
func (Provider) Name() string { return Name }

// ValidateKey accepts one bare address, local@domain.
func (Provider) ValidateKey(key string) error { return validateKey(key) }

// NewClient builds a Mixpeek client.
func (Provider) NewClient(cfg provider.Config) (provider.Client, error) {
	c, err := NewClient(cfg)
	if err != nil {
		return nil, err // not a nil *Client inside a non-nil interface
	}
	return c, nil
}

// Client reads users from one Mixpeek organization.
type Client struct {
	upstream *upstreamhttp.Client
}

var (
	_ provider.Client               = (*Client)(nil)
	_ provider.IdleConnectionCloser = (*Client)(nil)
)

// NewClient builds a client; it fails only on unusable configuration (non-https BaseURL, CABundle
// without a certificate).
func NewClient(cfg provider.Config) (*Client, error) {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	// Mixpeek does not document its error body, so it is kept as opaque text.
	upstream, err := upstreamhttp.New(Name, cfg, upstreamhttp.Options{})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	return &Client{upstream: upstream}, nil
}

// GetUser reads the user whose email is key. An invalid key fails before any request is sent.
func (c *Client) GetUser(ctx context.Context, key string) (provider.User, error) {
	if err := validateKey(key); err != nil {
		return provider.User{}, err
	}
	var wire userResponse
	if err := c.upstream.GetJSON(ctx, &wire, "v1", "organizations", "users", key); err != nil {
		return provider.User{}, err
	}
	// Bounded before it leaves the client: the upstream decides how long its strings are.
	return toUser(wire).Bounded(), nil
}

// validateKey checks that key is one bare address, exactly as the API contract words it: valid
// UTF-8, exactly one "@" with something on each side, and no whitespace (unicode.IsSpace) or
// control characters (unicode.IsControl) anywhere. Nothing stricter: it is not an RFC 5322 parser,
// and other characters are left to the upstream, which decides whether the address exists.
func validateKey(key string) error {
	if reason := invalidEmailReason(key); reason != "" {
		return &provider.Error{
			Provider: Name,
			Kind:     provider.KindInvalidKey,
			Message:  fmt.Sprintf("key %q is not an email address: %s", key, reason),
		}
	}
	return nil
}

func invalidEmailReason(key string) string {
	if !utf8.ValidString(key) {
		return "not valid UTF-8"
	}
	for _, r := range key {
		switch {
		case unicode.IsSpace(r):
			return "contains whitespace"
		case unicode.IsControl(r):
			return "contains a control character"
		}
	}
	local, domain, found := strings.Cut(key, "@")
	switch {
	case !found:
		return `it has no "@"`
	case strings.Contains(domain, "@"):
		return `it has more than one "@"`
	case local == "":
		return `nothing before the "@"`
	case domain == "":
		return `nothing after the "@"`
	}
	return ""
}

// CloseIdleConnections closes the connections kept alive for this client.
func (c *Client) CloseIdleConnections() { c.upstream.CloseIdleConnections() }
