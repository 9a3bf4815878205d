package controller

import (
	"context"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
)

// LabelFieldOwner is the field manager under which orgsync applies the mirrored labels. Server-side
// apply then records orgsync as the owner of exactly those two keys: an apply by another manager
// (Flux) or kubectl's client-side apply (Argo CD) neither removes them nor conflicts with them, and
// applying without a key removes it, because orgsync is its only owner.
const LabelFieldOwner = "orgsync"

// mirroredLabels are the labels status asks for; a key whose status field is empty is left out.
func mirroredLabels(status *identityv1alpha1.OrgUserStatus) map[string]string {
	labels := map[string]string{}
	for key, value := range map[string]string{
		identityv1alpha1.LabelRole:  status.Role,
		identityv1alpha1.LabelState: status.State,
	} {
		if value != "" && len(validation.IsValidLabelValue(value)) == 0 {
			labels[key] = value
		}
	}
	return labels
}

func labelsMirrored(have, want map[string]string) bool {
	for _, key := range []string{identityv1alpha1.LabelRole, identityv1alpha1.LabelState} {
		if have[key] != want[key] {
			return false
		}
	}
	return true
}

// mirroredLabelsEdited passes updates in which someone else changed the mirrored labels so that they no
// longer follow status: the controller puts them back at once, without an upstream call. Its own
// label apply (labels changed, now matching status) and status writes (labels unchanged) do not pass.
func mirroredLabelsEdited() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			user, ok := e.ObjectNew.(*identityv1alpha1.OrgUser)
			if !ok {
				return false
			}
			return !labelsMirrored(e.ObjectOld.GetLabels(), user.Labels) &&
				!labelsMirrored(user.Labels, mirroredLabels(&user.Status))
		},
		CreateFunc:  func(event.CreateEvent) bool { return false },
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}

// +kubebuilder:rbac:groups=identity.orgsync.io,resources=orgusers,verbs=patch

// applyLabels applies the role and state labels, as the only owner of those two keys.
func (r *OrgUserReconciler) applyLabels(ctx context.Context, user *identityv1alpha1.OrgUser, want map[string]string) error {
	apply := &unstructured.Unstructured{}
	apply.SetGroupVersionKind(identityv1alpha1.GroupVersion.WithKind("OrgUser"))
	apply.SetNamespace(user.Namespace)
	apply.SetName(user.Name)
	// The UID makes the apply fail instead of creating the object anew if it was deleted meanwhile.
	apply.SetUID(user.UID)
	apply.SetLabels(want)
	err := r.Apply(ctx, client.ApplyConfigurationFromUnstructured(apply), client.FieldOwner(LabelFieldOwner), client.ForceOwnership)
	if err != nil {
		return err
	}
	user.Labels = apply.GetLabels()
	ctrl.LoggerFrom(ctx).V(1).Info("Labels updated", "orgUser", klog.KObj(user), "labels", want)
	return nil
}
