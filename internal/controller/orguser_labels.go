package controller

import (
	"context"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

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

// +kubebuilder:rbac:groups=identity.orgsync.io,resources=orgusers,verbs=patch

// mirrorLabels applies the role and state labels when they differ from status. A failure is logged,
// not returned: retrying the reconcile would call the upstream again, and the next reconcile that
// finds the labels out of date writes them anyway.
func (r *OrgUserReconciler) mirrorLabels(ctx context.Context, user *identityv1alpha1.OrgUser) {
	want := mirroredLabels(&user.Status)
	if labelsMirrored(user.Labels, want) {
		return
	}
	apply := &unstructured.Unstructured{}
	apply.SetGroupVersionKind(identityv1alpha1.GroupVersion.WithKind("OrgUser"))
	apply.SetNamespace(user.Namespace)
	apply.SetName(user.Name)
	// The UID makes the apply fail instead of creating the object anew if it was deleted meanwhile.
	apply.SetUID(user.UID)
	apply.SetLabels(want)
	err := r.Apply(ctx, client.ApplyConfigurationFromUnstructured(apply), client.FieldOwner(LabelFieldOwner), client.ForceOwnership)
	if err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Apply role and state labels", "orgUser", klog.KObj(user))
		return
	}
	user.Labels = apply.GetLabels()
	ctrl.LoggerFrom(ctx).V(1).Info("Labels updated", "orgUser", klog.KObj(user), "labels", want)
}
