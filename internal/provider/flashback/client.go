// Package flashback reads organization users from the Flashback API
// (GET {baseURL}/organization/users/{userId}).
package flashback

import (
	"context"
	"fmt"

	"github.com/orgsync/orgsync/internal/provider"
	"github.com/orgsync/orgsync/internal/provider/upstreamhttp"
)

const (
	// Name is the provider's name in status.provider.
	Name = "flashback"
	// DefaultBaseURL is used when provider.Config.BaseURL is empty.
	DefaultBaseURL = "https://backend.flashback.tech"
)

// Provider is the Flashback API: keys are user ids.
type Provider struct{}

var _ provider.Provider = Provider{}

// Name returns "flashback".
func (Provider) Name() string { return Name }

// ValidateKey accepts any non-empty id; escaping makes every character safe in the request path.
func (Provider) ValidateKey(key string) error { return validateKey(key) }

// NewClient builds a Flashback client.
func (Provider) NewClient(cfg provider.Config) (provider.Client, error) {
	c, err := NewClient(cfg)
	if err != nil {
		return nil, err // not a nil *Client inside a non-nil interface
	}
	return c, nil
}

// Client reads users from one Flashback organization.
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
	upstream, err := upstreamhttp.New(Name, cfg, upstreamhttp.Options{ErrorMessage: errorMessage})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	return &Client{upstream: upstream}, nil
}

// GetUser reads the user whose id is key. An empty key fails before any request is sent.
func (c *Client) GetUser(ctx context.Context, key string) (provider.User, error) {
	if err := validateKey(key); err != nil {
		return provider.User{}, err
	}
	var wire userResponse
	if err := c.upstream.GetJSON(ctx, &wire, "organization", "users", key); err != nil {
		return provider.User{}, err
	}
	// Bounded before it leaves the client: the upstream decides how long its strings are.
	return toUser(wire).Bounded(), nil
}

func validateKey(key string) error {
	if key == "" {
		return &provider.Error{Provider: Name, Kind: provider.KindInvalidKey, Message: "key is empty: a Flashback user id is required"}
	}
	return nil
}

// CloseIdleConnections closes the connections kept alive for this client.
func (c *Client) CloseIdleConnections() { c.upstream.CloseIdleConnections() }
