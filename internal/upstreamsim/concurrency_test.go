package upstreamsim

import (
	"net/http"
	"sync"
	"testing"
)

// TestConcurrentUseIsSafe is meant for -race: requests are served while every mutator runs.
func TestConcurrentUseIsSafe(t *testing.T) {
	s := startServer(t)
	client := trustingClient(t, s)
	s.PutMixpeekUser(MixpeekUser{Email: "alice@example.com", Role: "member"})
	s.PutFlashbackUser(FlashbackUser{ID: "u1"})

	const clients, requestsEach = 4, 10
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for range requestsEach {
				got, err := send(t.Context(), client, http.MethodGet, s.URL()+mixpeekPath+"alice@example.com", testToken)
				if err != nil {
					t.Error(err)
					return
				}
				if got.status != http.StatusOK && got.status != http.StatusServiceUnavailable {
					t.Errorf("status = %d, want 200 or the injected 503", got.status)
				}
			}
		})
	}
	wg.Go(func() {
		for i := range requestsEach {
			s.SetMixpeekRole("alice@example.com", []string{"admin", "member"}[i%2])
			s.SetFlashbackRole("u1", i)
			s.PutFlashbackUser(FlashbackUser{ID: "u2", OrgRoles: []int{i}})
			s.InjectFault(ProviderMixpeek, Fault{Status: http.StatusServiceUnavailable, Times: 1})
			s.AllowToken(testToken)
			_ = s.Requests(ProviderMixpeek, "alice@example.com")
		}
		s.ClearFaults()
	})
	wg.Wait()

	if n := s.TotalRequests(); n != clients*requestsEach {
		t.Errorf("TotalRequests() = %d, want %d", n, clients*requestsEach)
	}
}
