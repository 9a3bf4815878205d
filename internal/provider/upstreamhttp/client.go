// Package upstreamhttp is the HTTP plumbing shared by the upstream API clients: a hardened
// *http.Client, request URLs whose key cannot change the requested path, and the mapping of every
// HTTP answer or failure onto a *provider.Error. It knows nothing about Kubernetes and nothing about
// any one upstream's JSON beyond "the body is an object".
package upstreamhttp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/orgsync/orgsync/internal/provider"
)

const (
	// MaxBodyBytes caps what is read from the upstream. A user record is a few hundred bytes, so a
	// body this large is a misbehaving server and must not grow the controller's memory.
	MaxBodyBytes = 1 << 20
	// DefaultTimeout applies when provider.Config.Timeout is not set: a request without a bound
	// would let one hung upstream block a reconcile worker forever.
	DefaultTimeout = 10 * time.Second
	// DefaultUserAgent is sent when provider.Config.UserAgent is empty.
	DefaultUserAgent = "orgsync"
	// DefaultAccept is sent when Options.Accept is empty.
	DefaultAccept = "application/json"
)

// Options adapts the shared plumbing to one upstream.
type Options struct {
	// ErrorMessage extracts the upstream's explanation from a non-200 body. Nil, or an empty result,
	// means the body is used as opaque text. Either way the text is sanitized and truncated.
	ErrorMessage func(body []byte) string
	// Now is the clock used to turn an HTTP-date Retry-After into a duration; nil means time.Now.
	Now func() time.Time
	// Accept is the Accept header of every request; "" means DefaultAccept. SCIM servers, for one,
	// are asked for "application/scim+json, application/json".
	Accept string
	// ClassifyStatus lets a provider give a non-200 answer another kind than its HTTP status alone
	// would (SCIM's 400 invalidFilter says the configuration cannot work, not that a retry may
	// help). It sees the status and the body; when it returns ok, kind replaces the kind the status
	// decided and a non-empty message replaces the upstream's message. The message is sanitized,
	// redacted and truncated like any upstream text. Nil, or ok false, keeps the status's kind.
	ClassifyStatus func(status int, body []byte) (kind provider.ErrorKind, message string, ok bool)
}

// Client sends authenticated GET requests to one upstream organization. It is safe for concurrent
// use and reuses connections across requests.
type Client struct {
	provider string
	// op is the operation its errors name (provider.Error.Op); "" is a user lookup.
	op             string
	base           *url.URL
	token          string
	userAgent      string
	accept         string
	httpClient     *http.Client
	errorMessage   func(body []byte) string
	classifyStatus func(status int, body []byte) (provider.ErrorKind, string, bool)
	now            func() time.Time
}

// New checks cfg and builds a client whose errors name providerName. It fails only on unusable
// configuration: a BaseURL that is not an absolute https URL, or a CABundle without a certificate.
func New(providerName string, cfg provider.Config, opts Options) (*Client, error) {
	base, err := parseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	httpClient, err := newHTTPClient(cfg, base)
	if err != nil {
		return nil, err
	}
	userAgent := cfg.UserAgent
	if userAgent == "" {
		userAgent = DefaultUserAgent
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	accept := opts.Accept
	if accept == "" {
		accept = DefaultAccept
	}
	return &Client{
		provider:       providerName,
		base:           base,
		token:          cfg.Token,
		userAgent:      userAgent,
		accept:         accept,
		httpClient:     httpClient,
		errorMessage:   opts.ErrorMessage,
		classifyStatus: opts.ClassifyStatus,
		now:            now,
	}, nil
}

// ForOperation returns a client for another kind of request to the same upstream, e.g. a listing
// beside a user lookup: it shares c's connections and credential, names op in its errors, and
// classifies statuses with classify instead of c's hook (nil keeps c's), since a status can mean
// something else for another request (a 400 invalidFilter is about the key attribute for a lookup
// and about the listing's filter for a listing).
func (c *Client) ForOperation(op string, classify func(status int, body []byte) (provider.ErrorKind, string, bool)) *Client {
	derived := *c
	derived.op = op
	if classify != nil {
		derived.classifyStatus = classify
	}
	return &derived
}

// Validator is implemented by a response type that can tell, once decoded, whether the object is
// one it can use (for example, that the user's identity is present). GetJSON calls Validate after a
// successful decode; an error fails the request like an undecodable body.
type Validator interface {
	Validate() error
}

// GetJSON requests base/segments... and decodes a 200 answer's JSON object into out. If out
// implements Validator, the decoded value must also pass Validate. Each segment is escaped as
// exactly one path segment, so a key may contain anything. Every failure is a *provider.Error; an
// undecodable or invalid 200 body is KindTransient with the message "decode response".
func (c *Client) GetJSON(ctx context.Context, out any, segments ...string) error {
	return c.GetJSONWithQuery(ctx, out, nil, segments...)
}

// GetJSONWithQuery is GetJSON with a URL query. Every name and value is percent-encoded except RFC
// 3986 unreserved characters, so a "+" travels as %2B and a space as %20 (url.Values.Encode writes
// "+" for a space, which some servers read literally, and a server reading "+" as a space would turn
// alice+ops@example.com into another address). Names are sent in sorted order, values in the order
// given. An empty or nil query sends no "?".
func (c *Client) GetJSONWithQuery(ctx context.Context, out any, query url.Values, segments ...string) error {
	endpoint, err := joinPath(c.base, segments)
	if err != nil {
		return &provider.Error{Provider: c.provider, Op: c.op, Kind: provider.KindInvalidKey, Message: err.Error()}
	}
	endpoint.RawQuery = EncodeQuery(query)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint.String(), nil)
	if err != nil {
		return c.transient(0, "build request", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", c.accept)
	req.Header.Set("User-Agent", c.userAgent)

	resp, err := c.httpClient.Do(req)
	if err != nil {
		return c.requestFailed(err)
	}
	defer resp.Body.Close()

	body, readErr := readCapped(resp.Body)
	if resp.StatusCode != http.StatusOK {
		// The status alone decides the class; a body that could not be read fully only costs the
		// message, so readErr is ignored here.
		return c.statusError(resp, body)
	}
	if readErr != nil {
		return c.transient(resp.StatusCode, "read response body", readErr)
	}
	if err := DecodeObject(body, out); err != nil {
		return c.transient(resp.StatusCode, "decode response", err)
	}
	return nil
}

// EncodeQuery renders query as GetJSONWithQuery sends it: names sorted, each name and value
// percent-encoded except RFC 3986 unreserved characters.
func EncodeQuery(query url.Values) string {
	if len(query) == 0 {
		return ""
	}
	names := make([]string, 0, len(query))
	for name := range query {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, name := range names {
		for _, value := range query[name] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(escapeQueryComponent(name))
			b.WriteByte('=')
			b.WriteString(escapeQueryComponent(value))
		}
	}
	return b.String()
}

// errBodyTooLarge is returned by readCapped instead of a truncated body, which could otherwise parse
// as something it is not.
var errBodyTooLarge = errors.New("response body exceeds 1 MiB")

// readCapped reads at most MaxBodyBytes; it returns what it read even when it also returns an error.
func readCapped(r io.Reader) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, MaxBodyBytes+1))
	if err != nil {
		return body, err
	}
	if len(body) > MaxBodyBytes {
		return body[:MaxBodyBytes], errBodyTooLarge
	}
	return body, nil
}

// DecodeObject is how GetJSON decodes a 200 body, exposed so that the providers can fuzz their
// decoding and mapping without a server. It insists on a JSON object: "null", "[]" or a bare string
// would otherwise decode into an empty user without complaint. An object that decodes but fails
// out's Validate (say, "{}") is refused too.
func DecodeObject(body []byte, out any) error {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return errors.New("expected a JSON object")
	}
	if err := json.Unmarshal(body, out); err != nil {
		return err
	}
	if v, ok := out.(Validator); ok {
		return v.Validate()
	}
	return nil
}

// statusError classifies a non-200 answer.
func (c *Client) statusError(resp *http.Response, body []byte) *provider.Error {
	perr := &provider.Error{
		Provider:   c.provider,
		Op:         c.op,
		Kind:       provider.KindTransient, // 5xx and every status nobody documented
		StatusCode: resp.StatusCode,
		Message:    c.upstreamMessage(body),
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		perr.Kind = provider.KindUnauthorized
	case http.StatusForbidden:
		perr.Kind = provider.KindForbidden
	case http.StatusNotFound:
		perr.Kind = provider.KindNotFound
	case http.StatusTooManyRequests:
		perr.Kind = provider.KindRateLimited
		perr.RetryAfter = ParseRetryAfter(resp.Header.Get("Retry-After"), c.now())
	case http.StatusServiceUnavailable:
		// The contract honours a 503's Retry-After like a 429's: the upstream said when to come
		// back. Without a usable one it is an ordinary transient failure with backoff.
		if wait := ParseRetryAfter(resp.Header.Get("Retry-After"), c.now()); wait > 0 {
			perr.Kind = provider.KindRateLimited
			perr.RetryAfter = wait
		}
	}
	if c.classifyStatus != nil {
		if kind, message, ok := c.classifyStatus(resp.StatusCode, body); ok {
			perr.Kind = kind
			if message != "" {
				perr.Message = sanitizeMessage(message, c.token)
			}
		}
	}
	return perr
}

// upstreamMessage turns an error body into text that is safe to put in a status condition.
func (c *Client) upstreamMessage(body []byte) string {
	text := ""
	if c.errorMessage != nil {
		text = c.errorMessage(body)
	}
	if text == "" {
		text = string(body)
	}
	return sanitizeMessage(text, c.token)
}

// requestFailed classifies a request that got no answer: timeouts, refused connections, TLS
// failures, refused redirects, the egress guard and cancellation all land here, as KindTransient;
// the cause stays reachable through errors.Is / errors.As. The *url.Error net/http wraps around it
// is dropped: it repeats the request URL, or a redirect target the upstream chose.
func (c *Client) requestFailed(err error) *provider.Error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		err = urlErr.Err
	}
	var refused *AddressRefusedError
	if errors.As(err, &refused) {
		// "dial tcp 10.0.0.1:443: egress guard refused to connect to 10.0.0.1" says it twice.
		err = refused
	}
	return c.transient(0, "", err)
}

// transient builds a KindTransient error. The cause is wrapped so that its text can never carry the
// token while errors.Is(err, context.Canceled) and friends keep working.
func (c *Client) transient(status int, message string, cause error) *provider.Error {
	return &provider.Error{
		Provider:   c.provider,
		Op:         c.op,
		Kind:       provider.KindTransient,
		StatusCode: status,
		Message:    message,
		Err:        redact(cause, c.token),
	}
}

// redactedError hides a secret in the text of an error it wraps.
type redactedError struct {
	err    error
	secret string
}

func redact(err error, secret string) error {
	if err == nil || secret == "" {
		return err
	}
	return &redactedError{err: err, secret: secret}
}

func (e *redactedError) Error() string { return redactSecret(e.err.Error(), e.secret) }
func (e *redactedError) Unwrap() error { return e.err }

// CloseIdleConnections closes the connections kept alive for this client.
func (c *Client) CloseIdleConnections() { c.httpClient.CloseIdleConnections() }
