package scim

import (
	"context"
	"errors"
	"net/http"

	"github.com/orgsync/orgsync/internal/provider"
)

// opReadConfig is the operation a failed ListCapabilities names: "read service provider config
// from scim: 503 Service Unavailable: ...".
const opReadConfig = "read service provider config"

// ListCapabilities reads /ServiceProviderConfig: sort.supported, and RFC 9865's
// pagination.cursor. Booleans are read as the mapping reads active, so "True" counts.
//
// A server that has no such document (404, 501) offers nothing beyond RFC 7644, and that answer is
// kept like a successful one, so only the first call sends a request. A server that answers but
// does not tell (403 and other refusals, an unreadable body) gets the same defaults, without
// keeping them, so a later call asks again. Only what a retry can cure fails: no answer, 401, 429
// and 5xx. Two calls at once may both send a request.
func (c *Client) ListCapabilities(ctx context.Context) (provider.ListCapabilities, error) {
	c.capabilitiesMu.Lock()
	known := c.capabilities
	c.capabilitiesMu.Unlock()
	if known != nil {
		return *known, nil
	}

	var config serviceProviderConfig
	capabilities, keep := provider.ListCapabilities{}, true
	if err := c.discovery.GetJSON(ctx, &config, "ServiceProviderConfig"); err != nil {
		var perr *provider.Error
		if !errors.As(err, &perr) || mustRetry(perr) {
			return provider.ListCapabilities{}, err
		}
		keep = perr.StatusCode == http.StatusNotFound || perr.StatusCode == http.StatusNotImplemented
	} else {
		capabilities = config.capabilities()
	}
	if keep {
		c.capabilitiesMu.Lock()
		c.capabilities = &capabilities
		c.capabilitiesMu.Unlock()
	}
	return capabilities, nil
}

// mustRetry tells a failure a retry can cure from a server that will not say what it offers.
func mustRetry(perr *provider.Error) bool {
	switch {
	case perr.Kind == provider.KindUnauthorized, perr.Kind == provider.KindRateLimited:
		return true
	case perr.StatusCode == 0: // no answer: timeout, refused connection, TLS
		return true
	default:
		return perr.StatusCode >= 500 && perr.StatusCode != http.StatusNotImplemented
	}
}

// serviceProviderConfig is the answer of /ServiceProviderConfig (RFC 7643 §5), read for the two
// things a listing needs. Its zero value offers nothing.
type serviceProviderConfig struct {
	attrs object
}

func (s *serviceProviderConfig) UnmarshalJSON(data []byte) error {
	attrs, err := parseObject(data)
	if err != nil {
		return err
	}
	s.attrs = attrs
	return nil
}

func (s serviceProviderConfig) capabilities() provider.ListCapabilities {
	return provider.ListCapabilities{
		CursorPaging: isTrue(s.attrs.child("pagination").member("cursor")),
		Sort:         isTrue(s.attrs.child("sort").member("supported")),
	}
}
