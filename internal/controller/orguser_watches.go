package controller

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
)

// reconcileRequestChanged passes updates that change the force-refresh annotation, and no other
// annotation edits.
func reconcileRequestChanged() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			key := identityv1alpha1.ReconcileRequestedAnnotation
			return e.ObjectOld.GetAnnotations()[key] != e.ObjectNew.GetAnnotations()[key]
		},
		CreateFunc:  func(event.CreateEvent) bool { return false },
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}

func (r *OrgUserReconciler) usersOfProvider(ctx context.Context, obj client.Object) []ctrl.Request {
	var key string
	var opts []client.ListOption
	switch p := obj.(type) {
	case *identityv1alpha1.OrgProvider:
		key = providerIndexKey(identityv1alpha1.OrgProviderKind, p.Namespace, p.Name)
		opts = append(opts, client.InNamespace(p.Namespace))
	case *identityv1alpha1.ClusterOrgProvider:
		key = providerIndexKey(identityv1alpha1.ClusterOrgProviderKind, "", p.Name)
	default:
		return nil
	}
	users := &identityv1alpha1.OrgUserList{}
	// Only names are read: no deep copies of what may be thousands of users.
	opts = append(opts, client.MatchingFields{providerRefIndex: key}, client.UnsafeDisableDeepCopy)
	if err := r.List(ctx, users, opts...); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "List OrgUsers of provider", "provider", key)
		return nil
	}
	reqs := make([]ctrl.Request, 0, len(users.Items))
	for i := range users.Items {
		name := client.ObjectKeyFromObject(&users.Items[i])
		r.memory.requestRead(name)
		reqs = append(reqs, ctrl.Request{NamespacedName: name})
	}
	return reqs
}

// namespaceAdmissionChanges enqueues the ClusterOrgProvider users of a namespace whose labels changed,
// but only those whose provider's namespaceSelector now answers differently: unrelated label edits
// cause no upstream calls. Creations are ignored, since every user is reconciled at start-up and a
// new namespace has no users yet.
func (r *OrgUserReconciler) namespaceAdmissionChanges() handler.EventHandler {
	return handler.Funcs{
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			oldLabels, newLabels := labels.Set(e.ObjectOld.GetLabels()), labels.Set(e.ObjectNew.GetLabels())
			if labels.Equals(oldLabels, newLabels) {
				return
			}
			for _, req := range r.usersWhoseAdmissionChanged(ctx, e.ObjectNew.GetName(), oldLabels, newLabels) {
				q.Add(req)
			}
		},
	}
}

func (r *OrgUserReconciler) usersWhoseAdmissionChanged(ctx context.Context, namespace string,
	oldLabels, newLabels labels.Set) []ctrl.Request {
	users := &identityv1alpha1.OrgUserList{}
	if err := r.List(ctx, users, client.InNamespace(namespace), client.UnsafeDisableDeepCopy); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "List OrgUsers of namespace", "namespace", namespace)
		return nil
	}
	var reqs []ctrl.Request
	for i := range users.Items {
		u := &users.Items[i]
		if providerRefKind(u.Spec.ProviderRef) != identityv1alpha1.ClusterOrgProviderKind {
			continue
		}
		cop := &identityv1alpha1.ClusterOrgProvider{}
		if err := r.Get(ctx, types.NamespacedName{Name: u.Spec.ProviderRef.Name}, cop); err != nil {
			continue // a missing provider is reported by the user's own reconcile, whatever the labels
		}
		if cop.Spec.NamespaceSelector == nil {
			continue
		}
		selector, err := metav1.LabelSelectorAsSelector(cop.Spec.NamespaceSelector)
		if err != nil || selector.Matches(oldLabels) != selector.Matches(newLabels) {
			name := client.ObjectKeyFromObject(u)
			r.memory.requestRead(name)
			reqs = append(reqs, ctrl.Request{NamespacedName: name})
		}
	}
	return reqs
}
