package policy

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/upstreamsim"
	"github.com/orgsync/orgsync/test/envsuite"
)

// testersGroup is the group of every requester; its RBAC allows what the tests ask for, so that any
// refusal seen comes from the policies.
const testersGroup = "orgsync-policy-testers"

var rbacOnce sync.Once

func ensureTesterRBAC(t *testing.T) {
	t.Helper()
	rbacOnce.Do(func() {
		role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: testersGroup}, Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"configmaps", "pods", "serviceaccounts"}, Verbs: []string{"get", "create", "update", "delete"}},
			{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"get", "create", "update"}},
			{APIGroups: []string{rbacv1.GroupName}, Resources: []string{"rolebindings", "clusterrolebindings"}, Verbs: []string{"get", "create", "update"}},
			{APIGroups: []string{rbacv1.GroupName}, Resources: []string{"clusterroles"}, Verbs: []string{"bind"}, ResourceNames: []string{"admin", "view"}},
		}}
		envsuite.Must(t, suite.Client.Create(envsuite.Ctx(t), role))
		binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: testersGroup},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: testersGroup},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: testersGroup}}}
		envsuite.Must(t, suite.Client.Create(envsuite.Ctx(t), binding))
	})
}

// person is someone sending requests with their own client certificate.
type person struct {
	name   string
	client client.Client
}

func newPerson(t *testing.T, name string) person {
	t.Helper()
	ensureTesterRBAC(t)
	user, err := suite.Env.AddUser(envtest.User{Name: name, Groups: []string{testersGroup}}, nil)
	envsuite.Must(t, err)
	c, err := client.New(user.Config(), client.Options{Scheme: suite.Scheme})
	envsuite.Must(t, err)
	return person{name: name, client: c}
}

// request is what a person asks the API server to create; a new object for every attempt.
type request struct {
	what string
	obj  func() client.Object
}

// try sends the request as a server-side dry run: admission runs in full, nothing is stored.
func (p person) try(t *testing.T, r request) error {
	t.Helper()
	return p.client.Create(envsuite.Ctx(t), r.obj(), client.DryRunAll)
}

// requireDenied waits until the API server refuses the request with a message containing want (the
// policies read OrgUsers through an informer, so a fresh status takes a moment to count).
func requireDenied(t *testing.T, p person, r request, want string) {
	t.Helper()
	var last error
	envsuite.Eventually(t, envsuite.SettleTimeout, func() error {
		last = p.try(t, r)
		if !refused(last) || !strings.Contains(last.Error(), want) {
			return fmt.Errorf("%s by %s: want refused with %q, got %v", r.what, p.name, want, last)
		}
		return nil
	})
	t.Logf("DENIED  %s by %s: %v", r.what, p.name, last)
}

func requireAllowed(t *testing.T, p person, r request) {
	t.Helper()
	envsuite.Eventually(t, envsuite.SettleTimeout, func() error {
		if err := p.try(t, r); err != nil {
			return fmt.Errorf("%s by %s: want allowed, got %w", r.what, p.name, err)
		}
		return nil
	})
	t.Logf("ALLOWED %s by %s", r.what, p.name)
}

func roleBinding(ns, clusterRole, subject string) request {
	return request{
		what: fmt.Sprintf("RoleBinding in %s granting ClusterRole %s to User %s", ns, clusterRole, subject),
		obj: func() client.Object {
			return &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "grant-" + envsuite.UniqueSuffix()},
				RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: clusterRole},
				Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: subject}}}
		},
	}
}

func clusterRoleBinding(clusterRole, subject string) request {
	return request{
		what: fmt.Sprintf("ClusterRoleBinding granting ClusterRole %s to User %s", clusterRole, subject),
		obj: func() client.Object {
			return &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "grant-" + envsuite.UniqueSuffix()},
				RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: clusterRole},
				Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: subject}}}
		},
	}
}

func configMap(ns string) request {
	return request{what: "ConfigMap in " + ns, obj: func() client.Object {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cm-" + envsuite.UniqueSuffix()}}
	}}
}

func serviceAccount(ns string) request {
	return request{what: "ServiceAccount in " + ns, obj: func() client.Object {
		return &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "sa-" + envsuite.UniqueSuffix()}}
	}}
}

func deployment(ns string) request {
	return request{what: "Deployment in " + ns, obj: func() client.Object {
		labels := map[string]string{"app": "web"}
		return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web-" + envsuite.UniqueSuffix()},
			Spec: appsv1.DeploymentSpec{
				Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "registry.example.com/web:1"}}}},
			}}
	}}
}

// impostorNamespace is a namespace whose editor runs their own upstream, where bob and eve are active
// Admins, and mirrors both from it: OrgUsers that read Admin, Active, Ready and must not be believed.
func impostorNamespace(t *testing.T) string {
	t.Helper()
	fake := upstreamsim.New()
	envsuite.Must(t, fake.Start())
	t.Cleanup(fake.Close)
	fake.AllowToken(envsuite.GoodToken)
	envsuite.SetMixpeekUser(fake, bobKey, "admin", "active")
	envsuite.SetMixpeekUser(fake, eveKey, "admin", "active")
	ns := suite.NewNamespace(t, "impostor", nil, nil)
	suite.NewMixpeekProvider(t, ns, envsuite.GoodToken, fake)
	suite.NewOrgUser(t, ns, "bob-is-admin", "mixpeek", bobKey)
	suite.NewOrgUser(t, ns, "eve-is-admin", "mixpeek", eveKey)
	for _, name := range []string{"bob-is-admin", "eve-is-admin"} {
		user := suite.WaitForReady(t, ns, name, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
		if user.Status.Role != "Admin" || user.Status.State != "Active" {
			t.Fatalf("the impostor OrgUser %s should read Admin, Active; reads %s, %s", name, user.Status.Role, user.Status.State)
		}
	}
	return ns
}

// refused tells a refusal by an admission policy from success and from other failures. A failed
// validation answers 403 (the reason the policy gives); a binding whose param is missing while its
// parameterNotFoundAction is Deny answers 422 Invalid.
func refused(err error) bool {
	var status apierrors.APIStatus
	if !errors.As(err, &status) || !strings.Contains(err.Error(), "ValidatingAdmissionPolicy") {
		return false
	}
	code := status.Status().Code
	return code == http.StatusForbidden || code == http.StatusUnprocessableEntity
}
