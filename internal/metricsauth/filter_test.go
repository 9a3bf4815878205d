package metricsauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
)

// fakeAPI answers TokenReviews from tokens and SubjectAccessReviews from allowed, and counts both.
type fakeAPI struct {
	mu      sync.Mutex
	tokens  map[string]authenticationv1.UserInfo
	allowed map[string]bool // user name -> may GET /metrics
	fail    error
	reviews []any
}

func (f *fakeAPI) create(_ context.Context, _ client.WithWatch, obj client.Object, _ ...client.CreateOption) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	switch r := obj.(type) {
	case *authenticationv1.TokenReview:
		f.reviews = append(f.reviews, r.DeepCopy())
		if user, ok := f.tokens[r.Spec.Token]; ok {
			r.Status = authenticationv1.TokenReviewStatus{Authenticated: true, User: user}
		}
	case *authorizationv1.SubjectAccessReview:
		f.reviews = append(f.reviews, r.DeepCopy())
		na := r.Spec.NonResourceAttributes
		r.Status.Allowed = na != nil && na.Verb == "get" && na.Path == "/metrics" && f.allowed[r.Spec.User]
	default:
		return fmt.Errorf("unexpected create of %T", obj)
	}
	return nil
}

func (f *fakeAPI) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.reviews)
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newTestGuard(api *fakeAPI) (http.Handler, *clock) {
	c := fake.NewClientBuilder().WithInterceptorFuncs(interceptor.Funcs{Create: api.create}).Build()
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	g := newGuard(c, clk.now)
	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("metrics")) })
	return g.handler(logr.Discard(), metrics), clk
}

func get(h http.Handler, token string) int {
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

func prometheusAPI() *fakeAPI {
	return &fakeAPI{
		tokens: map[string]authenticationv1.UserInfo{
			"prom-token":  {Username: "system:serviceaccount:monitoring:prometheus", Groups: []string{"system:serviceaccounts"}},
			"other-token": {Username: "system:serviceaccount:default:default"},
		},
		allowed: map[string]bool{"system:serviceaccount:monitoring:prometheus": true},
	}
}

func TestMetricsNeedAnAcceptedTokenOfAnIdentityAllowedToReadThem(t *testing.T) {
	for _, tc := range []struct {
		name, token string
		want        int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"a token the API server does not know", "forged", http.StatusUnauthorized},
		{"a token of an identity without the metrics-reader role", "other-token", http.StatusForbidden},
		{"a token of an identity with it", "prom-token", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := newTestGuard(prometheusAPI())
			if got := get(h, tc.token); got != tc.want {
				t.Errorf("GET /metrics = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestMetricsAskTheAuthorizerAboutTheNonResourceURLWithTheUsersGroups(t *testing.T) {
	api := prometheusAPI()
	h, _ := newTestGuard(api)
	if got := get(h, "prom-token"); got != http.StatusOK {
		t.Fatalf("GET /metrics = %d", got)
	}
	sar, ok := api.reviews[1].(*authorizationv1.SubjectAccessReview)
	if !ok {
		t.Fatalf("second review is %T, want a SubjectAccessReview", api.reviews[1])
	}
	if sar.Spec.User != "system:serviceaccount:monitoring:prometheus" || len(sar.Spec.Groups) != 1 ||
		sar.Spec.NonResourceAttributes == nil || *sar.Spec.NonResourceAttributes != (authorizationv1.NonResourceAttributes{Path: "/metrics", Verb: "get"}) {
		t.Errorf("SubjectAccessReview spec = %+v", sar.Spec)
	}
}

// A scrape every few seconds costs no API call once the answers are cached, and a revoked binding
// or token takes effect once its cache entry expires.
func TestMetricsReviewsAreCachedForTheirLifetimes(t *testing.T) {
	api := prometheusAPI()
	h, clk := newTestGuard(api)
	for range 10 {
		if got := get(h, "prom-token"); got != http.StatusOK {
			t.Fatalf("GET /metrics = %d", got)
		}
		clk.t = clk.t.Add(5 * time.Second)
	}
	if n := api.calls(); n != 2 {
		t.Errorf("%d reviews for 10 scrapes within a minute, want 2 (one TokenReview, one SubjectAccessReview)", n)
	}
	api.mu.Lock()
	api.allowed = map[string]bool{}
	api.mu.Unlock()
	clk.t = clk.t.Add(allowTTL)
	if got := get(h, "prom-token"); got != http.StatusForbidden {
		t.Errorf("GET /metrics after the binding was removed and the cache expired = %d, want 403", got)
	}
}

func TestMetricsAnswer500WhenTheAPIServerCannotReview(t *testing.T) {
	api := prometheusAPI()
	api.fail = errors.New("connection refused")
	h, _ := newTestGuard(api)
	if got := get(h, "prom-token"); got != http.StatusInternalServerError {
		t.Errorf("GET /metrics with the API server unreachable = %d, want 500", got)
	}
}

func TestBearerTokenParsing(t *testing.T) {
	for header, want := range map[string]string{
		"Bearer abc": "abc", "bearer abc": "abc", "BEARER  abc ": "abc",
		"Basic abc": "", "Bearer": "", "Bearer ": "", "": "", "abc": "",
	} {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.Header.Set("Authorization", header)
		got, ok := bearerToken(req)
		if got != want || ok != (want != "") {
			t.Errorf("bearerToken(%q) = %q, %v; want %q", header, got, ok, want)
		}
	}
}

// Tokens sprayed at the endpoint cost API calls, not memory.
func TestTokenCacheIsBounded(t *testing.T) {
	api := prometheusAPI()
	c := fake.NewClientBuilder().WithInterceptorFuncs(interceptor.Funcs{Create: api.create}).Build()
	clk := &clock{t: time.Now()}
	g := newGuard(c, clk.now)
	h := g.handler(logr.Discard(), http.NotFoundHandler())
	for i := range 3 * maxEntries {
		_ = get(h, fmt.Sprint("forged-", i))
	}
	if n := len(g.tokens.Keys()); n > maxEntries {
		t.Errorf("%d cached token reviews, want at most %d", n, maxEntries)
	}
}
