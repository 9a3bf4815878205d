package upstreamhttp

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/orgsync/orgsync/internal/provider"
)

func TestGetJSONWithQuerySendsEveryCharacterSoTheServerDecodesItExactly(t *testing.T) {
	filter := `userName eq "erin+ops@example.com" and x eq "a b&c=d#e%f\"g\\h jürgen"`
	var rawQuery string
	var decoded url.Values
	srv, cfg := newTLSServer(t, func(w http.ResponseWriter, r *http.Request) {
		rawQuery, decoded = r.URL.RawQuery, r.URL.Query()
		if r.URL.Path != "/scim/v2/Users" {
			t.Errorf("path = %q, want /scim/v2/Users", r.URL.Path)
		}
		fmt.Fprint(w, `{}`)
	})
	cfg.BaseURL = srv.URL + "/scim/v2"
	c := mustNew(t, cfg, Options{})

	var out map[string]any
	query := url.Values{"filter": {filter}, "count": {"2"}}
	if err := c.GetJSONWithQuery(context.Background(), &out, query, "Users"); err != nil {
		t.Fatalf("GetJSONWithQuery: %v", err)
	}
	if got := decoded.Get("filter"); got != filter {
		t.Errorf("server decoded filter %q, want %q", got, filter)
	}
	if strings.ContainsAny(rawQuery, "+ ") || !strings.Contains(rawQuery, "erin%2Bops") || !strings.Contains(rawQuery, "a%20b") {
		t.Errorf("raw query %q: want + as %%2B and a space as %%20", rawQuery)
	}
	if !strings.HasPrefix(rawQuery, "count=2&filter=") {
		t.Errorf("raw query %q: want names in sorted order", rawQuery)
	}
}

func TestEncodeQuery(t *testing.T) {
	tests := []struct {
		query url.Values
		want  string
	}{
		{nil, ""},
		{url.Values{}, ""},
		{url.Values{"a": {"1", "2"}}, "a=1&a=2"},
		{url.Values{"b": {"x y"}, "a": {"+"}}, "a=%2B&b=x%20y"},
		{url.Values{"a b": {"~-._"}}, "a%20b=~-._"},
		{url.Values{"q": {"é"}}, "q=%C3%A9"},
	}
	for _, tt := range tests {
		if got := EncodeQuery(tt.query); got != tt.want {
			t.Errorf("EncodeQuery(%v) = %q, want %q", tt.query, got, tt.want)
		}
	}
}

func TestAcceptHeaderDefaultAndOverride(t *testing.T) {
	for _, tt := range []struct{ option, want string }{
		{"", "application/json"},
		{"application/scim+json, application/json", "application/scim+json, application/json"},
	} {
		var accept string
		_, cfg := newTLSServer(t, func(w http.ResponseWriter, r *http.Request) {
			accept = r.Header.Get("Accept")
			fmt.Fprint(w, `{}`)
		})
		var out map[string]any
		if err := mustNew(t, cfg, Options{Accept: tt.option}).GetJSON(context.Background(), &out, "u"); err != nil {
			t.Fatalf("GetJSON: %v", err)
		}
		if accept != tt.want {
			t.Errorf("Options.Accept %q: server saw Accept %q, want %q", tt.option, accept, tt.want)
		}
	}
}

func TestClassifyStatusHookReclassifiesAndItsMessageIsSanitized(t *testing.T) {
	hook := func(status int, body []byte) (provider.ErrorKind, string, bool) {
		if status == http.StatusBadRequest && strings.Contains(string(body), "invalidFilter") {
			return provider.KindInvalidConfig, "cannot filter:\n" + string(body), true
		}
		return "", "", false
	}
	tests := []struct {
		status      int
		body        string
		wantKind    provider.ErrorKind
		wantMessage string
	}{
		{http.StatusBadRequest, "invalidFilter " + testToken, provider.KindInvalidConfig, "cannot filter: invalidFilter [REDACTED]"},
		{http.StatusBadRequest, "something else", provider.KindTransient, "something else"},
		{http.StatusNotFound, "invalidFilter", provider.KindNotFound, "invalidFilter"},
	}
	for _, tt := range tests {
		_, cfg := newTLSServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(tt.status)
			fmt.Fprint(w, tt.body)
		})
		perr := getError(t, context.Background(), mustNew(t, cfg, Options{ClassifyStatus: hook}), "u")
		if perr.Kind != tt.wantKind || perr.Message != tt.wantMessage || perr.StatusCode != tt.status {
			t.Errorf("%d %q: got %s %d %q, want %s %q", tt.status, tt.body, perr.Kind, perr.StatusCode, perr.Message,
				tt.wantKind, tt.wantMessage)
		}
	}
}
