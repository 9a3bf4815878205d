package provider

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// ErrorKind classifies a failed lookup by what the controller should do about it.
type ErrorKind string

const (
	// KindNotFound means the upstream answered 404 for this key.
	KindNotFound ErrorKind = "NotFound"
	// KindUnauthorized means 401: the credential is not accepted.
	KindUnauthorized ErrorKind = "Unauthorized"
	// KindForbidden means 403: the credential may not read this user.
	KindForbidden ErrorKind = "Forbidden"
	// KindRateLimited means 429; RetryAfter says how long the upstream asked us to wait.
	KindRateLimited ErrorKind = "RateLimited"
	// KindTransient covers 5xx, timeouts, connection errors, unreadable bodies, unexpected statuses.
	KindTransient ErrorKind = "Transient"
	// KindInvalidKey means the key cannot name a user of this provider; no request was sent.
	KindInvalidKey ErrorKind = "InvalidKey"
	// KindAmbiguousKey means more than one upstream user matches the key, so none can be mirrored
	// as the key's user. Retrying cannot help until the key or the upstream's users change.
	KindAmbiguousKey ErrorKind = "AmbiguousKey"
	// KindInvalidConfig means the upstream said that the provider's configuration cannot work (a
	// SCIM server that cannot filter users by the configured key attribute). Retrying cannot help
	// until the provider's configuration changes.
	KindInvalidConfig ErrorKind = "InvalidConfig"
)

// The operations an Error names. A Client's one call is a user lookup, so the zero Op means
// OpGetUser and the errors built before listing existed keep their text.
const (
	OpGetUser   = "get user"
	OpListUsers = "list users"
)

// Error is the only error type a Client returns. Its text names the provider, the operation, the HTTP
// status and the upstream's message (truncated); it never contains the credential.
type Error struct {
	Provider string
	// Op is what failed, e.g. OpListUsers; "" means OpGetUser.
	Op         string
	Kind       ErrorKind
	StatusCode int
	// Message is the upstream's explanation, or a description of the local failure.
	Message string
	// RetryAfter is the upstream's Retry-After as a duration from when the answer arrived; 0 if absent.
	RetryAfter time.Duration
	// Err is the underlying cause for transport failures (timeouts, TLS, connection refused).
	Err error
}

func (e *Error) Error() string {
	op := e.Op
	if op == "" {
		op = OpGetUser
	}
	prefix := op + " from " + e.Provider
	if e.StatusCode != 0 {
		prefix = fmt.Sprintf("%s: %d %s", prefix, e.StatusCode, http.StatusText(e.StatusCode))
	}
	switch {
	case e.Message != "" && e.Err != nil:
		return fmt.Sprintf("%s: %s: %v", prefix, e.Message, e.Err)
	case e.Message != "":
		return prefix + ": " + e.Message
	case e.Err != nil:
		return fmt.Sprintf("%s: %v", prefix, e.Err)
	default:
		return prefix + ": " + string(e.Kind)
	}
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the kind of a provider error, or KindTransient for any other error, because an error
// the client did not classify is safest retried with backoff.
func KindOf(err error) ErrorKind {
	var perr *Error
	if errors.As(err, &perr) {
		return perr.Kind
	}
	return KindTransient
}

// IsKind reports whether err is a provider error of the given kind.
func IsKind(err error, kind ErrorKind) bool {
	var perr *Error
	return errors.As(err, &perr) && perr.Kind == kind
}
