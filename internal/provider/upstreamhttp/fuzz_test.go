package upstreamhttp

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzParseRetryAfter: any header value gives a wait between 0 and MaxRetryAfter, and never panics.
func FuzzParseRetryAfter(f *testing.F) {
	now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, seed := range []string{
		"", "0", "7", "120", " 30 ", "-5", "+5", "1.5", "1e3", "soon", "99999999999999999999999999",
		now.Add(90 * time.Second).Format(http.TimeFormat), "Saturday, 01-Jun-30 12:00:45 GMT", "Sat Jun  1 12:01:00 2030",
		"Sat, 01 Jun 2030 12:00:00 PST", "\x00", "٣",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, value string) {
		wait := ParseRetryAfter(value, now)
		if wait < 0 || wait > MaxRetryAfter {
			t.Errorf("ParseRetryAfter(%q) = %v, want within [0, %v]", value, wait, MaxRetryAfter)
		}
		if isDigits(strings.TrimSpace(value)) && wait%time.Second != 0 {
			t.Errorf("ParseRetryAfter(%q) = %v, want whole seconds", value, wait)
		}
	})
}

// FuzzJoinPath: a key, whatever it holds, becomes exactly one path segment below the base path,
// which the server decodes back to the key. So no key can name another resource.
func FuzzJoinPath(f *testing.F) {
	for _, seed := range []string{
		"alice@example.com", "erin+ops@example.com", "550e8400-e29b-41d4-a716-446655440000", "a/b", "..", ".", "...",
		"../admin", "%2e%2e", "a?b#c", "50%", "a b", "jürgen", "\x00", "\xff", "//evil.example.com", "\\..\\", ";x=1",
	} {
		f.Add(seed)
	}
	base, err := parseBaseURL("https://api.example.com/prefix%20dir/")
	if err != nil {
		f.Fatal(err)
	}
	const wantPrefix = "/prefix%20dir/v1/users/"
	f.Fuzz(func(t *testing.T, key string) {
		u, err := joinPath(base, []string{"v1", "users", key})
		if key == "" {
			if err == nil {
				t.Errorf("an empty key was accepted: %s", u)
			}
			return
		}
		if err != nil {
			t.Fatalf("joinPath(%q): %v", key, err)
		}
		// What net/http sends is the re-parsed URL's request URI.
		sent, err := url.Parse(u.String())
		if err != nil {
			t.Fatalf("joinPath(%q) = %q, which does not parse: %v", key, u, err)
		}
		requestURI := sent.RequestURI()
		segment, found := strings.CutPrefix(requestURI, wantPrefix)
		if !found || sent.Host != "api.example.com" || sent.RawQuery != "" || sent.Fragment != "" {
			t.Fatalf("key %q requests %q on %q, want below %s on api.example.com", key, requestURI, sent.Host, wantPrefix)
		}
		if strings.Contains(segment, "/") || segment == "." || segment == ".." {
			t.Errorf("key %q became %q, more than one plain segment", key, segment)
		}
		if decoded, err := url.PathUnescape(segment); err != nil || decoded != key {
			t.Errorf("key %q became %q, which decodes to %q (%v)", key, segment, decoded, err)
		}
	})
}

// FuzzEncodeQuery: any name and value, encoded, decode back to exactly themselves, and the encoded
// form never holds a "+" or a space that a server could read either way.
func FuzzEncodeQuery(f *testing.F) {
	for _, seed := range []string{"userName eq \"erin+ops@example.com\"", "a b", "&=#%", "é", "\x00", "\xff", ""} {
		f.Add("filter", seed)
	}
	f.Fuzz(func(t *testing.T, name, value string) {
		encoded := EncodeQuery(url.Values{name: {value}})
		if strings.ContainsAny(encoded, "+ ") {
			t.Errorf("EncodeQuery(%q=%q) = %q holds a + or a space", name, value, encoded)
		}
		decoded, err := url.ParseQuery(encoded)
		if err != nil || len(decoded) != 1 || len(decoded[name]) != 1 || decoded[name][0] != value {
			t.Errorf("EncodeQuery(%q=%q) = %q decodes to %v (%v)", name, value, encoded, decoded, err)
		}
	})
}
