package upstreamhttp

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// parseBaseURL accepts an absolute https URL with a host and an optional path prefix. The CRD
// already demands https; checking again here keeps the token off plain HTTP whatever the caller.
func parseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err // the outer error repeats the whole URL
		}
		return nil, fmt.Errorf("baseURL is not a valid URL: %w", err)
	}
	switch {
	case u.Scheme == "":
		return nil, errors.New("baseURL must be an absolute https:// URL")
	case u.Scheme != "https":
		return nil, fmt.Errorf("baseURL must use https, not %q", u.Scheme)
	case u.Opaque != "" || u.Host == "" || u.Hostname() == "":
		return nil, errors.New("baseURL has no host")
	case u.User != nil:
		return nil, errors.New("baseURL must not contain credentials; the token comes from the Secret")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, errors.New("baseURL must not have a query or fragment")
	}
	return u, nil
}

// joinPath appends segments to base's path, each escaped as exactly one path segment. Both Path
// and RawPath are set, so net/http sends the escaped form verbatim and a "/" or ".." inside a
// segment can never select a different resource.
func joinPath(base *url.URL, segments []string) (*url.URL, error) {
	path := strings.TrimRight(base.Path, "/")
	rawPath := strings.TrimRight(base.EscapedPath(), "/")
	for _, segment := range segments {
		if segment == "" {
			// An empty key would request the collection instead of one user.
			return nil, errors.New("key is empty")
		}
		path += "/" + segment
		rawPath += "/" + escapePathSegment(segment)
	}
	u := *base
	u.Path, u.RawPath = path, rawPath
	return &u, nil
}

// escapePathSegment percent-encodes every byte except RFC 3986 unreserved characters and "@"
// (common in email keys, legal in a path segment, and readable in logs). This is stricter than
// url.PathEscape, which leaves "+" alone although some servers read it as a space. The dot
// segments "." and ".." are encoded too, because servers and proxies resolve them even unescaped.
func escapePathSegment(segment string) string {
	if strings.Trim(segment, ".") == "" {
		return strings.Repeat("%2E", len(segment))
	}
	return percentEncode(segment, func(c byte) bool { return isUnreserved(c) || c == '@' })
}

// escapeQueryComponent percent-encodes every byte of a query name or value except RFC 3986
// unreserved characters: "+", "&", "=", "#", a space and every non-ASCII byte are encoded, so the
// server decodes exactly the string that was meant, whether it reads "+" as a space or not.
func escapeQueryComponent(component string) string { return percentEncode(component, isUnreserved) }

// percentEncode writes every byte of s that keep refuses as %XX (upper-case hex).
func percentEncode(s string, keep func(c byte) bool) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) * 3)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if keep(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0x0f])
	}
	return b.String()
}

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}
