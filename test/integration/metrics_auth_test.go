package integration

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/orgsync/orgsync/internal/metricsauth"
	"github.com/orgsync/orgsync/test/envsuite"
)

// The metrics endpoint's guard against the real API server: a ServiceAccount bound to the shipped
// metrics-reader ClusterRole reads the metrics, another ServiceAccount gets 403, no token or a forged
// one 401.
func TestMetricsEndpointAdmitsOnlyTheMetricsReaderRole(t *testing.T) {
	ctx := t.Context()
	ns := suite.NewNamespace(t, "metrics-auth", nil, nil)
	reader := &rbacv1.ClusterRole{}
	data, err := os.ReadFile(filepath.Join(envsuite.RepoRoot(), "config", "rbac", "metrics_reader_role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, reader); err != nil {
		t.Fatalf("config/rbac/metrics_reader_role.yaml: %v", err)
	}
	reader.Name = "metrics-reader-" + ns
	envsuite.Must(t, suite.Client.Create(ctx, reader))
	t.Cleanup(func() { _ = suite.Client.Delete(context.Background(), reader) })

	prometheus := serviceAccountToken(t, ns, "prometheus")
	other := serviceAccountToken(t, ns, "other")
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "metrics-reader-" + ns},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: reader.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: "prometheus"}},
	}
	envsuite.Must(t, suite.Client.Create(ctx, binding))
	t.Cleanup(func() { _ = suite.Client.Delete(context.Background(), binding) })
	waitUntilAllowed(t, "system:serviceaccount:"+ns+":prometheus")

	httpClient, err := rest.HTTPClientFor(suite.Config)
	if err != nil {
		t.Fatal(err)
	}
	filter, err := metricsauth.Filter(suite.Config, httpClient)
	if err != nil {
		t.Fatal(err)
	}
	guarded, err := filter(logr.Discard(), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("orgsync_users 1\n"))
	}))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, token string
		want        int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"a forged token", "eyJhbGciOiJSUzI1NiJ9.forged.token", http.StatusUnauthorized},
		{"a ServiceAccount without the role", other, http.StatusForbidden},
		{"a ServiceAccount bound to metrics-reader", prometheus, http.StatusOK},
	} {
		req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/metrics", nil)
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		rec := httptest.NewRecorder()
		guarded.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("%s: GET /metrics = %d %s, want %d", tc.name, rec.Code, rec.Body.String(), tc.want)
		}
	}
}

func serviceAccountToken(t *testing.T, ns, name string) string {
	t.Helper()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	envsuite.Must(t, suite.Client.Create(t.Context(), sa))
	expiry := int64(600)
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry}}
	if err := suite.Client.SubResource("token").Create(t.Context(), sa, tr); err != nil {
		t.Fatalf("token for ServiceAccount %s/%s: %v", ns, name, err)
	}
	return tr.Status.Token
}

// waitUntilAllowed waits for the API server's authorizer to see a new binding, so that the guard's
// first answer (cached) is the one under test.
func waitUntilAllowed(t *testing.T, user string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: user, Groups: []string{"system:serviceaccounts"},
			NonResourceAttributes: &authorizationv1.NonResourceAttributes{Path: "/metrics", Verb: "get"},
		}}
		if err := suite.Client.Create(t.Context(), sar); err != nil {
			t.Fatalf("SubjectAccessReview: %v", err)
		}
		if sar.Status.Allowed {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still not allowed to GET /metrics 30s after its binding was created", user)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
