package outage

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/upstreamsim"
	"github.com/orgsync/orgsync/test/envsuite"
)

// normalizedRole is the API contract's role table for the upstream roles these tests use.
var normalizedRole = map[string]string{
	"admin": "Admin", "member": "Member", // Mixpeek
	"ADMINISTRATOR": "Admin", "USER": "Member", // Flashback orgRoleDescription
}

// inconsistencies lists what is wrong with one version of an OrgUser's status, judged only from
// that version: a status written in one patch is always whole, so any finding here means a write
// was split or a field was lost. f is the fixture behind the user.
func inconsistencies(u *identityv1alpha1.OrgUser, f fixture) []string {
	s := u.Status
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }

	if len(s.Conditions) == 0 {
		if s.ObservedGeneration != 0 || s.Role != "" || s.UserID != "" || s.LastHandledReconcileAt != "" {
			add("status has data (%s) but no conditions", mirroredFields(s))
		}
		return out
	}
	if s.ObservedGeneration == 0 {
		add("conditions without status.observedGeneration")
	}
	for _, c := range s.Conditions {
		if c.ObservedGeneration != s.ObservedGeneration {
			add("condition %s observedGeneration %d, status.observedGeneration %d", c.Type, c.ObservedGeneration, s.ObservedGeneration)
		}
	}
	ready := meta.FindStatusCondition(s.Conditions, identityv1alpha1.ConditionReady)
	synced := meta.FindStatusCondition(s.Conditions, identityv1alpha1.ConditionSynced)
	if ready == nil || synced == nil {
		add("conditions %s lack Ready or Synced", envsuite.DescribeConditions(s.Conditions))
		return out
	}
	if synced.Status == metav1.ConditionTrue && (ready.Status != metav1.ConditionTrue || ready.Reason != identityv1alpha1.ReasonSynced) {
		add("Synced=True but Ready=%s/%s", ready.Status, ready.Reason)
	}

	hasData := ready.Status == metav1.ConditionTrue || ready.Reason == identityv1alpha1.ReasonStale
	switch {
	case hasData:
		if s.Role == "" || s.State == "" || s.UserID == "" || s.Email == "" || s.Provider != f.provider {
			add("Ready=%s/%s but the mirror is incomplete: %s", ready.Status, ready.Reason, mirroredFields(s))
		}
		if want, known := normalizedRole[s.ProviderRole]; !known || want != s.Role {
			add("role %q does not go with providerRole %q (half of a change?)", s.Role, s.ProviderRole)
		}
		if f.provider == upstreamsim.ProviderMixpeek && s.Email != f.key {
			add("email %q is not the key %q", s.Email, f.key)
		}
		if f.provider == upstreamsim.ProviderFlashback && s.UserID != f.key {
			add("userID %q is not the key %q", s.UserID, f.key)
		}
	case ready.Reason == identityv1alpha1.ReasonUserNotFound:
		if s.State != "NotFound" || s.Role != "" || s.UserID != "" || s.Email != "" || s.DisplayName != "" || s.ProviderRole != "" {
			add("UserNotFound with mirrored data left: %s", mirroredFields(s))
		}
	}
	return out
}

// statusRecorder keeps every version of the namespace's OrgUsers that a watch delivers, so a test
// can check versions that existed only for a moment.
type statusRecorder struct {
	mu       sync.Mutex
	versions map[string][]identityv1alpha1.OrgUser
	stop     func()
	done     chan struct{}
	err      error
}

// recordStatuses starts a watch on the namespace's OrgUsers from the current state.
func recordStatuses(t *testing.T, ns string) *statusRecorder {
	t.Helper()
	list := &identityv1alpha1.OrgUserList{}
	envsuite.Must(t, suite.Client.List(envsuite.Ctx(t), list, client.InNamespace(ns)))
	ctx, cancel := context.WithCancel(context.Background())
	w, err := suite.Client.Watch(ctx, &identityv1alpha1.OrgUserList{}, client.InNamespace(ns),
		&client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: list.ResourceVersion}})
	if err != nil {
		cancel()
		t.Fatalf("watch OrgUsers: %v", err)
	}
	r := &statusRecorder{versions: map[string][]identityv1alpha1.OrgUser{}, done: make(chan struct{})}
	for _, u := range list.Items {
		r.versions[u.Name] = append(r.versions[u.Name], u)
	}
	r.stop = func() { cancel(); w.Stop() }
	go func() {
		defer close(r.done)
		for ev := range w.ResultChan() {
			switch ev.Type {
			case watch.Added, watch.Modified:
				u, ok := ev.Object.(*identityv1alpha1.OrgUser)
				if !ok {
					continue
				}
				r.mu.Lock()
				r.versions[u.Name] = append(r.versions[u.Name], *u.DeepCopy())
				r.mu.Unlock()
			case watch.Error:
				r.mu.Lock()
				r.err = fmt.Errorf("watch error: %v", ev.Object)
				r.mu.Unlock()
			}
		}
		if ctx.Err() == nil {
			r.mu.Lock()
			r.err = fmt.Errorf("the watch ended early")
			r.mu.Unlock()
		}
	}()
	t.Cleanup(r.stop)
	return r
}

// statusWrites counts the versions recorded since the start whose status differs from the
// version before; metadata-only changes (annotations) are not status writes.
func (r *statusRecorder) statusWrites() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for name, versions := range r.versions {
		for i := 1; i < len(versions); i++ {
			if statusChanged(&versions[i-1], &versions[i]) {
				out[name]++
			}
		}
	}
	return out
}

func (r *statusRecorder) total() int {
	n := 0
	for _, c := range r.statusWrites() {
		n += c
	}
	return n
}

// all returns every recorded version, for consistency checks.
func (r *statusRecorder) all() map[string][]identityv1alpha1.OrgUser {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string][]identityv1alpha1.OrgUser, len(r.versions))
	for name, versions := range r.versions {
		out[name] = append([]identityv1alpha1.OrgUser(nil), versions...)
	}
	return out
}

// watchErr reports a watch that broke: a test relying on the record must not pass on a partial one.
func (r *statusRecorder) watchErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

func statusChanged(a, b *identityv1alpha1.OrgUser) bool {
	return !equality.Semantic.DeepEqual(a.Status, b.Status)
}
