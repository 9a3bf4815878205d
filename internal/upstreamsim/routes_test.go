package upstreamsim

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestAuthentication(t *testing.T) {
	s := startServer(t)
	s.PutMixpeekUser(MixpeekUser{Email: "alice@example.com"})
	s.PutFlashbackUser(FlashbackUser{ID: "u1"})
	client := trustingClient(t, s)

	paths := map[string]string{
		ProviderMixpeek:   mixpeekPath + "alice@example.com",
		ProviderFlashback: flashbackPath + "u1",
	}
	cases := []struct {
		name          string
		authorization string
		want          int
	}{
		{"missing header", "", http.StatusUnauthorized},
		{"unknown token", "Bearer sk_test_unknown", http.StatusUnauthorized},
		{"other scheme", "Basic " + testToken, http.StatusUnauthorized},
		{"empty bearer", "Bearer ", http.StatusUnauthorized},
		{"forbidden token", "Bearer " + testForbidden, http.StatusForbidden},
		{"allowed token", "Bearer " + testToken, http.StatusOK},
		{"scheme is case-insensitive", "bearer " + testToken, http.StatusOK},
	}
	for provider, path := range paths {
		for _, tc := range cases {
			t.Run(provider+"/"+tc.name, func(t *testing.T) {
				req, err := http.NewRequest(http.MethodGet, s.URL()+path, nil)
				if err != nil {
					t.Fatal(err)
				}
				if tc.authorization != "" {
					req.Header.Set("Authorization", tc.authorization)
				}
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != tc.want {
					t.Errorf("status = %d, want %d", resp.StatusCode, tc.want)
				}
			})
		}
	}
}

func TestTokenRegistrationLastCallWins(t *testing.T) {
	s := startServer(t)
	s.PutFlashbackUser(FlashbackUser{ID: "u1"})
	client := trustingClient(t, s)

	s.ForbidToken(testToken)
	wantStatus(t, get(t, client, s, flashbackPath+"u1", testToken), http.StatusForbidden)
	s.AllowToken(testToken)
	wantStatus(t, get(t, client, s, flashbackPath+"u1", testToken), http.StatusOK)
}

func TestAwkwardKeysRoundTripAsOneSegment(t *testing.T) {
	s := startServer(t)
	client := trustingClient(t, s)
	cases := []struct {
		name     string
		provider string
		key      string // as stored
		segment  string // as sent, already escaped
	}{
		{"escaped slash", ProviderFlashback, "a/b", "a%2Fb"},
		{"escaped dot-dot", ProviderFlashback, "..", "%2E%2E"},
		{"escaped dot", ProviderFlashback, ".", "%2E"},
		{"escaped percent", ProviderFlashback, "100%", "100%25"},
		{"escaped space", ProviderFlashback, "with space", "with%20space"},
		{"plus and at sent raw", ProviderMixpeek, "alice+ops@example.com", "alice+ops@example.com"},
		{"plus and at escaped", ProviderMixpeek, "alice+ops@example.com", "alice%2Bops%40example.com"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s.ResetCounters()
			var path, field string
			if tc.provider == ProviderMixpeek {
				s.PutMixpeekUser(MixpeekUser{Email: tc.key})
				path, field = mixpeekPath+tc.segment, "email"
			} else {
				s.PutFlashbackUser(FlashbackUser{ID: tc.key})
				path, field = flashbackPath+tc.segment, "id"
			}

			got := get(t, client, s, path, testToken)

			wantStatus(t, got, http.StatusOK)
			if value := decodeObject(t, got.body)[field]; value != tc.key {
				t.Errorf("%s = %#v, want %q", field, value, tc.key)
			}
			if n := s.Requests(tc.provider, tc.key); n != 1 {
				t.Errorf("Requests(%s, %q) = %d, want 1", tc.provider, tc.key, n)
			}
		})
	}
}

func TestUnknownPathsAnswerOpaque404AndAreNotCounted(t *testing.T) {
	s := startServer(t)
	s.PutFlashbackUser(FlashbackUser{ID: "a/b"})
	s.PutFlashbackUser(FlashbackUser{ID: "b"})
	client := trustingClient(t, s)

	for _, path := range []string{
		"/",
		"/v1/organizations/users/",
		"/v1/organizations/users",
		"/organization/users/",
		"/organization/users/a/b", // an unescaped slash makes two segments, not the key "a/b"
		"/organization/users/b/",
		"/v2/organizations/users/alice@example.com",
	} {
		t.Run(path, func(t *testing.T) {
			got := get(t, client, s, path, testToken)
			wantStatus(t, got, http.StatusNotFound)
			if ct := got.header.Get("Content-Type"); ct == "application/json" {
				t.Errorf("Content-Type = %q, want a non-API (opaque) body", ct)
			}
		})
	}
	if n := s.TotalRequests(); n != 0 {
		t.Errorf("TotalRequests() = %d after only unknown paths, want 0", n)
	}
}

func TestOnlyGETIsAllowed(t *testing.T) {
	s := startServer(t)
	s.PutFlashbackUser(FlashbackUser{ID: "u1"})
	client := trustingClient(t, s)

	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		got := do(t, context.Background(), client, method, s.URL()+flashbackPath+"u1", testToken)
		wantStatus(t, got, http.StatusMethodNotAllowed)
		if allow := got.header.Get("Allow"); allow != http.MethodGet {
			t.Errorf("%s: Allow = %q, want GET", method, allow)
		}
	}
	if n := s.Requests(ProviderFlashback, "u1"); n != 4 {
		t.Errorf("Requests = %d, want 4: a wrong method still reached the route", n)
	}
}

func TestHandlerWorksWithoutStart(t *testing.T) {
	s := New()
	s.AllowToken(testToken)
	s.PutFlashbackUser(FlashbackUser{ID: "a/b"})
	req := httptest.NewRequest(http.MethodGet, "/organization/users/a%2Fb", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	recorder := httptest.NewRecorder()

	s.Handler().ServeHTTP(recorder, req)

	if recorder.Code != http.StatusOK {
		t.Errorf("status = %d, want 200; body %s", recorder.Code, recorder.Body)
	}
}
