package upstreamsim

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// BenchmarkSCIMLookupAmong10000 measures one userName lookup through the handler (library
// included) after SeedBulk(10000): it must stay far below the benchmark's 20 ms latency.
func BenchmarkSCIMLookupAmong10000(b *testing.B) {
	s := New()
	s.AllowToken(testToken)
	s.SeedBulk(10_000)
	handler := s.Handler()
	b.ResetTimer()
	for i := range b.N {
		req := httptest.NewRequest(http.MethodGet, scimFilterPathForRequest(`userName eq "`+BulkSCIMKey(i%10_000)+`"`), nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		recorder := httptest.NewRecorder()
		handler.ServeHTTP(recorder, req)
		if recorder.Code != http.StatusOK {
			b.Fatalf("status %d: %s", recorder.Code, recorder.Body)
		}
	}
}

// BenchmarkSeedBulk10000 is the cost of seeding the benchmark's population, all providers.
func BenchmarkSeedBulk10000(b *testing.B) {
	for range b.N {
		New().SeedBulk(10_000)
	}
}

// TestSCIMConcurrentUseIsSafe is meant for -race: SCIM lookups and listings are served while the
// SCIM mutators run.
func TestSCIMConcurrentUseIsSafe(t *testing.T) {
	s := startServer(t)
	client := trustingClient(t, s)
	s.PutSCIMUser(SCIMUser{ID: "id-1", UserName: "alice@example.com", Roles: []string{"user"}})
	paths := []string{scimFilterPath(t, "userName", "alice@example.com"), scimUsers + "/id-1", scimUsers + "?count=5"}

	var wg sync.WaitGroup
	for _, path := range paths {
		wg.Go(func() {
			for range 10 {
				got, err := send(t.Context(), client, http.MethodGet, s.URL()+path, testToken)
				if err != nil {
					t.Error(err)
					return
				}
				if got.status != http.StatusOK && got.status != http.StatusNotFound {
					t.Errorf("%s: status = %d, want 200 or (deleted meanwhile) 404", path, got.status)
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 10 {
			s.SetSCIMRole("alice@example.com", []string{"user", "enterprise_owner"}[i%2])
			s.PutSCIMUser(SCIMUser{UserName: "extra@example.com"})
			s.SetSCIMPageCap(1 + i)
			s.SetSCIMQuirks(SCIMQuirks{ActiveAsStrings: i%2 == 0})
			s.DeleteUser(ProviderSCIM, "extra@example.com")
		}
	})
	wg.Wait()
}
