package controller

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
)

func TestSharedAnswerMaxAge(t *testing.T) {
	tests := []struct {
		name         string
		refresh      time.Duration
		forced       bool
		listInterval time.Duration
		want         time.Duration
	}{
		{"hand-written user: a quarter of its refresh", time.Hour, false, 0, 15 * time.Minute},
		{"forced refresh asks upstream", time.Hour, true, 0, 0},
		{"forced refresh of a directory's user asks upstream too", time.Hour, true, time.Hour, 0},
		{"directory listing as often as the refresh: one listing cycle and its margin",
			time.Minute, false, time.Minute, 2 * time.Minute},
		{"directory listing hourly, users refreshing hourly: one listing cycle and its margin",
			time.Hour, false, time.Hour, 72 * time.Minute},
		{"directory listing more often: one listing cycle and its margin",
			time.Hour, false, 30 * time.Minute, 36 * time.Minute},
		{"directory listing less often than the refresh: never older than the refresh window and as much again",
			10 * time.Minute, false, time.Hour, 12 * time.Minute},
		{"directory listing very often: never less than the hand-written share",
			4 * time.Hour, false, time.Minute, time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := sharedAnswerMaxAge(tc.refresh, tc.forced, tc.listInterval); got != tc.want {
				t.Errorf("sharedAnswerMaxAge(%s, %v, %s) = %s, want %s", tc.refresh, tc.forced, tc.listInterval, got, tc.want)
			}
		})
	}
}

func TestListedAnswerLifetimeOutlastsTheNextListing(t *testing.T) {
	for _, listInterval := range []time.Duration{time.Minute, time.Hour, 720 * time.Hour} {
		lifetime := ListedAnswerLifetime(listInterval)
		if lifetime < listInterval+time.Minute || lifetime < listInterval+listInterval/5 {
			t.Errorf("ListedAnswerLifetime(%s) = %s, want at least one interval plus a minute and a fifth", listInterval, lifetime)
		}
	}
}

// Only the directory that controls an OrgUser, the same object (UID) it names, lends it its
// listInterval: a hand-made OrgUser, one owned without control, or one whose directory was replaced
// keeps the hand-written rules.
func TestDirectoryListIntervalComesFromTheControllingDirectoryOnly(t *testing.T) {
	scheme := runtime.NewScheme()
	must(t, identityv1alpha1.AddToScheme(scheme))
	directory := &identityv1alpha1.OrgDirectory{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "staff", UID: "dir-uid"},
		Spec:       identityv1alpha1.OrgDirectorySpec{ListInterval: &metav1.Duration{Duration: 5 * time.Minute}},
	}
	k8s := fake.NewClientBuilder().WithScheme(scheme).WithObjects(directory).Build()
	r := &OrgUserReconciler{Client: k8s}
	ref := func(kind, name string, uid types.UID, controls bool) metav1.OwnerReference {
		return metav1.OwnerReference{APIVersion: identityv1alpha1.GroupVersion.String(), Kind: kind, Name: name, UID: uid,
			Controller: ptr(controls)}
	}
	tests := []struct {
		name   string
		owners []metav1.OwnerReference
		want   time.Duration
	}{
		{"controlled by the directory", []metav1.OwnerReference{ref("OrgDirectory", "staff", "dir-uid", true)}, 5 * time.Minute},
		{"hand-made", nil, 0},
		{"owned without control", []metav1.OwnerReference{ref("OrgDirectory", "staff", "dir-uid", false)}, 0},
		{"directory replaced by one of the same name", []metav1.OwnerReference{ref("OrgDirectory", "staff", "old-uid", true)}, 0},
		{"directory gone", []metav1.OwnerReference{ref("OrgDirectory", "gone", "gone-uid", true)}, 0},
		{"controlled by another kind", []metav1.OwnerReference{ref("ConfigMap", "staff", "dir-uid", true)}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			user := &identityv1alpha1.OrgUser{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "u", OwnerReferences: tc.owners}}
			if got := r.directoryListInterval(context.Background(), user); got != tc.want {
				t.Errorf("directoryListInterval = %s, want %s", got, tc.want)
			}
		})
	}
}
