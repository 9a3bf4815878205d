package metricsauth

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-logr/logr"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/cache"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// Cache lifetimes, as controller-runtime's filter sets them: a token's review for a minute, an allowed
// identity for five, a denied one for thirty seconds (so a new RoleBinding takes effect soon).
const (
	tokenTTL   = time.Minute
	allowTTL   = 5 * time.Minute
	denyTTL    = 30 * time.Second
	reviewWait = 10 * time.Second
)

// Filter is a metricsserver.Options.FilterProvider. The manager's ServiceAccount may create the reviews
// through the metrics-auth-role (config/rbac/metrics_auth_role.yaml).
func Filter(config *rest.Config, httpClient *http.Client) (metricsserver.Filter, error) {
	scheme := runtime.NewScheme()
	if err := authenticationv1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := authorizationv1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	c, err := client.New(config, client.Options{Scheme: scheme, HTTPClient: httpClient})
	if err != nil {
		return nil, fmt.Errorf("client for token and access reviews: %w", err)
	}
	g := newGuard(c, time.Now)
	return func(log logr.Logger, handler http.Handler) (http.Handler, error) {
		return g.handler(log, handler), nil
	}, nil
}

// guard answers who a token belongs to and what it may do, from the API server, with caches.
type guard struct {
	client client.Client
	// tokens holds a tokenResult per SHA-256 of a token; access a bool per accessKey.
	tokens  *cache.LRUExpireCache
	access  *cache.LRUExpireCache
	timeout time.Duration
}

type tokenResult struct {
	authenticated bool
	user          authenticationv1.UserInfo
}

// maxEntries bounds each cache: a caller sending a new token on every request costs API calls, but
// not the manager's memory (the least recently used answers go first).
const maxEntries = 1024

// clockFunc is the guard's clock as the caches read it.
type clockFunc func() time.Time

func (f clockFunc) Now() time.Time { return f() }

func newGuard(c client.Client, now func() time.Time) *guard {
	clock := clockFunc(now)
	return &guard{client: c, tokens: cache.NewLRUExpireCacheWithClock(maxEntries, clock),
		access: cache.NewLRUExpireCacheWithClock(maxEntries, clock), timeout: reviewWait}
}

func (g *guard) handler(log logr.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		token, ok := bearerToken(req)
		if !ok {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		who, err := g.authenticate(req.Context(), token)
		if err != nil {
			log.Error(err, "Authentication failed")
			http.Error(w, "Authentication failed", http.StatusInternalServerError)
			return
		}
		if !who.authenticated {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		verb, path := strings.ToLower(req.Method), req.URL.Path
		allowed, err := g.authorize(req.Context(), who.user, verb, path)
		if err != nil {
			msg := fmt.Sprintf("Authorization for user %s failed", who.user.Username)
			log.Error(err, msg)
			http.Error(w, msg, http.StatusInternalServerError)
			return
		}
		if !allowed {
			http.Error(w, fmt.Sprintf("Authorization denied for user %s", who.user.Username), http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, req)
	})
}

// bearerToken reads "Authorization: Bearer <token>".
func bearerToken(req *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(req.Header.Get("Authorization")), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "bearer") || token == "" {
		return "", false
	}
	return token, true
}

// authenticate asks the API server whose token this is (a TokenReview); the token is kept only as
// its SHA-256, never in memory as text beyond the request.
func (g *guard) authenticate(ctx context.Context, token string) (tokenResult, error) {
	key := sha256.Sum256([]byte(token))
	if r, ok := g.tokens.Get(key); ok {
		return r.(tokenResult), nil
	}
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	review := &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: token}}
	if err := g.client.Create(ctx, review); err != nil {
		return tokenResult{}, fmt.Errorf("create TokenReview: %w", err)
	}
	r := tokenResult{authenticated: review.Status.Authenticated && review.Status.Error == "", user: review.Status.User}
	g.tokens.Add(key, r, tokenTTL)
	return r, nil
}

// authorize asks the API server whether user may verb path (a SubjectAccessReview of a non-resource
// URL, as for kubectl get --raw /metrics).
func (g *guard) authorize(ctx context.Context, user authenticationv1.UserInfo, verb, path string) (bool, error) {
	key := accessKey(user, verb, path)
	if allowed, ok := g.access.Get(key); ok {
		return allowed.(bool), nil
	}
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	extra := make(map[string]authorizationv1.ExtraValue, len(user.Extra))
	for k, v := range user.Extra {
		extra[k] = authorizationv1.ExtraValue(v)
	}
	review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: user.Username, UID: user.UID, Groups: user.Groups, Extra: extra,
		NonResourceAttributes: &authorizationv1.NonResourceAttributes{Path: path, Verb: verb},
	}}
	if err := g.client.Create(ctx, review); err != nil {
		return false, fmt.Errorf("create SubjectAccessReview: %w", err)
	}
	allowed := review.Status.Allowed && !review.Status.Denied
	ttl := denyTTL
	if allowed {
		ttl = allowTTL
	}
	g.access.Add(key, allowed, ttl)
	return allowed, nil
}

// accessKey names one question to the authorizer; the parts are quoted so that no two questions share
// a key.
func accessKey(user authenticationv1.UserInfo, verb, path string) string {
	return fmt.Sprintf("%q %q %q %q %q %q", user.Username, user.UID, user.Groups, user.Extra, verb, path)
}
