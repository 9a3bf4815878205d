package upstreamhttp

import (
	"net/url"
	"testing"
)

func TestJoinPathKeepsBasePrefix(t *testing.T) {
	tests := []struct {
		base string
		want string
	}{
		{"https://api.example.com", "https://api.example.com/v1/users/a%2Fb"},
		{"https://api.example.com/", "https://api.example.com/v1/users/a%2Fb"},
		{"https://api.example.com/mixpeek//", "https://api.example.com/mixpeek/v1/users/a%2Fb"},
		{"https://api.example.com:8443/a%20b", "https://api.example.com:8443/a%20b/v1/users/a%2Fb"},
	}
	for _, tt := range tests {
		base, err := parseBaseURL(tt.base)
		if err != nil {
			t.Fatalf("parseBaseURL(%q): %v", tt.base, err)
		}
		u, err := joinPath(base, []string{"v1", "users", "a/b"})
		if err != nil {
			t.Fatal(err)
		}
		if got := u.String(); got != tt.want {
			t.Errorf("base %q: got %q, want %q", tt.base, got, tt.want)
		}
		// The escaped form must survive the round trip net/http makes through url.Parse.
		reparsed, err := url.Parse(u.String())
		if err != nil || reparsed.EscapedPath() != u.EscapedPath() {
			t.Errorf("base %q: reparsed path %q, want %q (%v)", tt.base, reparsed.EscapedPath(), u.EscapedPath(), err)
		}
	}
}
