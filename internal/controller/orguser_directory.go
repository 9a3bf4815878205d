package controller

import (
	"context"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
)

// What an OrgUser's reconcile knows of the OrgDirectory that keeps it: how often the directory
// lists (so the user takes its answers from the listing), and the read the directory asks for after
// each listing.

// connector is the data path of the reconciler's reads, built once from its fields and shared with
// the OrgDirectory controller (Setup hands it on).
func (r *OrgUserReconciler) connector() *Connector {
	r.connectorOnce.Do(func() {
		r.conns = &Connector{reader: r.Client, writer: r.Client, apiReader: r.APIReader, providers: r.Providers,
			pool: r.Pool, credentials: r.Credentials}
	})
	return r.conns
}

// directoryListInterval is the listInterval of the OrgDirectory that controls user, or 0 when none
// does (a hand-written OrgUser, or one whose directory is gone or was replaced).
func (r *OrgUserReconciler) directoryListInterval(ctx context.Context, user *identityv1alpha1.OrgUser) time.Duration {
	owner := metav1.GetControllerOfNoCopy(user)
	if owner == nil || owner.Kind != identityv1alpha1.OrgDirectoryKind || owner.APIVersion != identityv1alpha1.GroupVersion.String() {
		return 0
	}
	directory := &identityv1alpha1.OrgDirectory{}
	if err := r.Get(ctx, types.NamespacedName{Namespace: user.Namespace, Name: owner.Name}, directory, readOnly); err != nil ||
		directory.UID != owner.UID {
		return 0
	}
	return durationOr(directory.Spec.ListInterval, defaultListInterval)
}

// defaultListInterval is the contract's default listInterval, for directories built in Go.
const defaultListInterval = time.Hour

// requestedRead maps a read request to its OrgUser, marking the read as asked for so the reconcile
// reads whatever the user's schedule says.
func (r *OrgUserReconciler) requestedRead(_ context.Context, obj client.Object) []ctrl.Request {
	name := client.ObjectKeyFromObject(obj)
	r.memory.requestRead(name)
	return []ctrl.Request{{NamespacedName: name}}
}
