package upstreamhttp

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/orgsync/orgsync/internal/provider"
)

func TestForOperationNamesItsOperationAndClassifiesOnItsOwn(t *testing.T) {
	var mu sync.Mutex
	clientAddrs := map[string]bool{} // one per connection
	_, cfg := newTLSServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		clientAddrs[r.RemoteAddr] = true
		mu.Unlock()
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, "invalidFilter")
	})
	lookupHook := func(int, []byte) (provider.ErrorKind, string, bool) {
		return provider.KindInvalidConfig, "lookup", true
	}
	listHook := func(int, []byte) (provider.ErrorKind, string, bool) {
		return provider.KindInvalidConfig, "listing", true
	}
	lookups := mustNew(t, cfg, Options{ClassifyStatus: lookupHook})
	listings := lookups.ForOperation(provider.OpListUsers, listHook)
	kept := lookups.ForOperation(provider.OpListUsers, nil)

	if perr := getError(t, context.Background(), listings, "u"); perr.Op != provider.OpListUsers || perr.Message != "listing" ||
		!strings.HasPrefix(perr.Error(), "list users from testapi: 400 Bad Request: listing") {
		t.Errorf("derived client: %q (op %q)", perr, perr.Op)
	}
	if perr := getError(t, context.Background(), kept, "u"); perr.Message != "lookup" {
		t.Errorf("a nil hook: message %q, want the original hook's", perr.Message)
	}
	if perr := getError(t, context.Background(), lookups, "u"); perr.Op != "" || perr.Message != "lookup" {
		t.Errorf("the original client changed: %q (op %q)", perr, perr.Op)
	}
	if perr := getError(t, context.Background(), listings, ""); perr.Op != provider.OpListUsers || perr.Kind != provider.KindInvalidKey {
		t.Errorf("a local failure: %q (op %q)", perr, perr.Op)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(clientAddrs) != 1 {
		t.Errorf("%d connections for three clients, want one shared", len(clientAddrs))
	}
}
