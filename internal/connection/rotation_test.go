package connection

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/orgsync/orgsync/internal/provider"
	"github.com/orgsync/orgsync/internal/provider/mixpeek"
	"github.com/orgsync/orgsync/internal/provider/providertest"
)

// tokenRecorder is an upstream that answers every lookup and remembers the bearer token of each
// request.
type tokenRecorder struct {
	mu     sync.Mutex
	tokens []string
}

func (u *tokenRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	u.tokens = append(u.tokens, r.Header.Get("Authorization"))
	u.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = fmt.Fprint(w, `{"user_id":"usr_1","user_name":"Alice","email":"alice@example.com","role":"admin","status":"active"}`)
}

func (u *tokenRecorder) last() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.tokens[len(u.tokens)-1]
}

// A rotated token is used by the very next request, the old client's connections are closed, and
// rebuilding clients leaks no goroutines; a provider deleted and created again gets a fresh connection.
func TestCredentialRotationUsesNewTokenAndReleasesOldConnections(t *testing.T) {
	upstream := &tokenRecorder{}
	srv, cfg := providertest.TLSUpstream(t, upstream, "token-0")
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	pool := NewPool(provider.Registry{mixpeek.Name: mixpeek.Provider{}}, PoolOptions{UserAgent: "test", AllowPrivateAddresses: true})
	settings := func(token string) Settings {
		return Settings{Provider: mixpeek.Name, BaseURL: srv.URL, CABundle: cfg.CABundle, Timeout: cfg.Timeout,
			Token: token, RequestsPerSecond: 1000, Burst: 100}
	}
	ctx := context.Background()
	for i := range 5 {
		token := fmt.Sprint("token-", i)
		conn, err := pool.Get("provider-uid", settings(token))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Lookup(ctx, Request{Key: "alice@example.com", Holder: "alice", MaxAge: 1 << 62}); err != nil {
			t.Fatalf("lookup with %s: %v", token, err)
		}
		if got := upstream.last(); got != "Bearer "+token {
			t.Fatalf("request after rotating to %s sent %q", token, got)
		}
	}
	if n := len(upstream.tokens); n != 5 {
		t.Errorf("%d requests for 5 tokens, want 5: an answer read with one token served another", n)
	}

	first, _ := pool.Get("provider-uid", settings("token-4"))
	pool.Forget("provider-uid")
	again, err := pool.Get("provider-uid-2", settings("token-4"))
	if err != nil {
		t.Fatal(err)
	}
	if again == first {
		t.Errorf("a provider created again got the deleted provider's connection")
	}
	if _, err := again.Lookup(ctx, Request{Key: "alice@example.com", Holder: "alice"}); err != nil {
		t.Fatal(err)
	}
	pool.Forget("provider-uid-2")
}
