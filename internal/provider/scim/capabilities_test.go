package scim

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/orgsync/orgsync/internal/provider"
)

// rfc9865Config is a /ServiceProviderConfig announcing sorting and both kinds of paging, as RFC
// 9865 §4 writes it.
const rfc9865Config = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],` +
	`"filter":{"supported":true,"maxResults":200},"sort":{"supported":true},` +
	`"pagination":{"cursor":true,"index":true,"defaultPaginationMethod":"cursor","defaultPageSize":100,"maxPageSize":250,"cursorTimeout":3600}}`

func TestListCapabilities(t *testing.T) {
	tests := []struct {
		name string
		body string
		want provider.ListCapabilities
	}{
		{"RFC 9865", rfc9865Config, provider.ListCapabilities{CursorPaging: true, Sort: true}},
		{"RFC 7644 only, as the elimity library answers",
			`{"filter":{"supported":true,"maxResults":100},"sort":{"supported":false},"patch":{"supported":false}}`,
			provider.ListCapabilities{}},
		{"booleans as strings, names in another case", `{"Sort":{"Supported":"True"},"PAGINATION":{"Cursor":"true"}}`,
			provider.ListCapabilities{CursorPaging: true, Sort: true}},
		{"index paging only", `{"sort":{"supported":true},"pagination":{"cursor":false,"index":true}}`,
			provider.ListCapabilities{Sort: true}},
		{"odd values offer nothing", `{"sort":true,"pagination":{"cursor":1}}`, provider.ListCapabilities{}},
		{"an empty object", `{}`, provider.ListCapabilities{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var path string
			_, c := newUpstream(t, nil, func(w http.ResponseWriter, r *http.Request) {
				path = r.URL.Path
				fmt.Fprint(w, tt.body)
			})
			got, err := c.ListCapabilities(context.Background())
			if err != nil {
				t.Fatalf("ListCapabilities: %v", err)
			}
			if got != tt.want || path != "/scim/v2/ServiceProviderConfig" {
				t.Errorf("read %s: %+v, want %+v", path, got, tt.want)
			}
		})
	}
}

func TestListCapabilitiesAsksOnceUnlessItMustAskAgain(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		want      provider.ListCapabilities
		wantErr   string
		wantAsked int32 // requests for two calls
	}{
		{"an answer is kept", 200, rfc9865Config, provider.ListCapabilities{CursorPaging: true, Sort: true}, "", 1},
		{"404: no such document, kept", 404, `{"detail":"Not found"}`, provider.ListCapabilities{}, "", 1},
		{"501: not implemented, kept", 501, ``, provider.ListCapabilities{}, "", 1},
		{"403: defaults, asked again", 403, `{"detail":"no"}`, provider.ListCapabilities{}, "", 2},
		{"an unreadable answer: defaults, asked again", 200, `<html>`, provider.ListCapabilities{}, "", 2},
		{"500 fails", 500, `{"detail":"Boom"}`, provider.ListCapabilities{},
			"read service provider config from scim: 500 Internal Server Error: Boom", 2},
		{"401 fails", 401, `{"detail":"Bad token ` + testToken + `"}`, provider.ListCapabilities{},
			"read service provider config from scim: 401 Unauthorized: Bad token [REDACTED]", 2},
		{"429 fails", 429, `{"detail":"Slow down"}`, provider.ListCapabilities{},
			"read service provider config from scim: 429 Too Many Requests: Slow down", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var asked atomic.Int32
			_, c := newUpstream(t, nil, func(w http.ResponseWriter, r *http.Request) {
				asked.Add(1)
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			})
			for range 2 {
				got, err := c.ListCapabilities(context.Background())
				switch {
				case tt.wantErr == "" && err != nil:
					t.Fatalf("ListCapabilities: %v", err)
				case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr):
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				case got != tt.want:
					t.Errorf("%+v, want %+v", got, tt.want)
				}
				if err != nil && strings.Contains(err.Error(), testToken) {
					t.Fatalf("error leaks the token: %v", err)
				}
			}
			if n := asked.Load(); n != tt.wantAsked {
				t.Errorf("two calls sent %d requests, want %d", n, tt.wantAsked)
			}
		})
	}
}

func TestListCapabilitiesWithoutAnAnswerFails(t *testing.T) {
	srv, c := newUpstream(t, nil, func(w http.ResponseWriter, r *http.Request) {})
	srv.Close()
	_, err := c.ListCapabilities(context.Background())
	perr := requireError(t, err, provider.KindTransient)
	if !strings.HasPrefix(perr.Error(), "read service provider config from scim: ") {
		t.Errorf("error %q", perr)
	}
}
