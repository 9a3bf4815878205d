package directory

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	orgsynccontroller "github.com/orgsync/orgsync/internal/controller"
)

// controllerIndex indexes OrgUsers by the UID of their controller, so a directory counts its own
// without reading the namespace's other OrgUsers.
const controllerIndex = ".metadata.controller"

func indexByController(obj client.Object) []string {
	owner := metav1.GetControllerOfNoCopy(obj)
	if owner == nil || owner.Kind != identityv1alpha1.OrgDirectoryKind {
		return nil
	}
	return []string{string(owner.UID)}
}

// Setup registers the OrgDirectory controller with mgr, on what controller.Setup shares.
func Setup(ctx context.Context, mgr ctrl.Manager, shared *orgsynccontroller.Shared) error {
	if err := mgr.GetFieldIndexer().IndexField(ctx, &identityv1alpha1.OrgUser{}, controllerIndex, indexByController); err != nil {
		return fmt.Errorf("index OrgUsers by controller: %w", err)
	}
	r := &Reconciler{
		Client:       mgr.GetClient(),
		APIReader:    mgr.GetAPIReader(),
		Connector:    shared.Connector,
		ReadRequests: shared.ReadRequests,
	}
	return r.SetupWithManager(mgr)
}

// SetupWithManager watches directories (spec edits only: its own status writes list nothing), the
// OrgUsers they control (deleted, or turned NotFound, which may start a prune's clock), and the
// provider objects they name.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&identityv1alpha1.OrgDirectory{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&identityv1alpha1.OrgUser{},
			handler.EnqueueRequestForOwner(mgr.GetScheme(), mgr.GetRESTMapper(), &identityv1alpha1.OrgDirectory{}, handler.OnlyControllerOwner()),
			builder.WithPredicates(ownedUserChanges())).
		Watches(&identityv1alpha1.OrgProvider{}, handler.EnqueueRequestsFromMapFunc(r.directoriesOfProvider),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&identityv1alpha1.ClusterOrgProvider{}, handler.EnqueueRequestsFromMapFunc(r.directoriesOfProvider),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: 2}).
		Named("orgdirectory").
		Complete(r)
}

// ownedUserChanges passes what changes a directory's count or its pruning: an OrgUser deleted, one
// whose controller changed, and one that turned NotFound or stopped being so. Its own creations and
// the OrgUsers' ordinary status writes do not pass: there are thousands.
func ownedUserChanges() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc: func(event.CreateEvent) bool { return false },
		DeleteFunc: func(event.DeleteEvent) bool { return true },
		UpdateFunc: func(e event.UpdateEvent) bool {
			oldUser, okOld := e.ObjectOld.(*identityv1alpha1.OrgUser)
			newUser, okNew := e.ObjectNew.(*identityv1alpha1.OrgUser)
			if !okOld || !okNew {
				return false
			}
			return readsNotFound(oldUser) != readsNotFound(newUser) || controllerUID(oldUser) != controllerUID(newUser) ||
				!oldUser.DeletionTimestamp.Equal(newUser.DeletionTimestamp)
		},
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}

func controllerUID(u *identityv1alpha1.OrgUser) string {
	if owner := metav1.GetControllerOfNoCopy(u); owner != nil {
		return string(owner.UID)
	}
	return ""
}

// directoriesOfProvider maps a provider object to the directories that name it.
func (r *Reconciler) directoriesOfProvider(ctx context.Context, obj client.Object) []ctrl.Request {
	kind, opts := identityv1alpha1.ClusterOrgProviderKind, []client.ListOption{}
	if _, ok := obj.(*identityv1alpha1.OrgProvider); ok {
		kind, opts = identityv1alpha1.OrgProviderKind, append(opts, client.InNamespace(obj.GetNamespace()))
	}
	directories := &identityv1alpha1.OrgDirectoryList{}
	if err := r.List(ctx, directories, append(opts, client.UnsafeDisableDeepCopy)...); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "List OrgDirectories of provider", "provider", obj.GetName())
		return nil
	}
	var reqs []ctrl.Request
	for i := range directories.Items {
		ref := normalizedRef(directories.Items[i].Spec.ProviderRef)
		if ref.Kind == kind && ref.Name == obj.GetName() {
			reqs = append(reqs, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(&directories.Items[i])})
		}
	}
	return reqs
}
