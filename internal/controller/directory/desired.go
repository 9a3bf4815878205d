package directory

import (
	"maps"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
)

// FieldOwner is the field manager of the directory's writes to OrgUsers.
const FieldOwner = "orgsync-directory"

// reservedLabels are label keys a template cannot set: the directory's own, and the two the OrgUser
// controller mirrors from status (a template value would fight it on every listing). The CRD
// refuses them in a template; they are skipped here too, for objects stored before that rule.
var reservedLabels = map[string]bool{
	identityv1alpha1.LabelDirectory: true,
	identityv1alpha1.LabelRole:      true,
	identityv1alpha1.LabelState:     true,
}

// desiredOrgUser is the OrgUser the directory keeps for the listed user with key: named after the
// key, the directory's providerRef, the template's fields, labels and annotations, the directory
// label, and a controller ownerReference that lets the garbage collector delete it with the
// directory (blocking the directory's foreground deletion until it is gone).
func desiredOrgUser(d *identityv1alpha1.OrgDirectory, key string) *identityv1alpha1.OrgUser {
	template := d.Spec.UserTemplate
	labels := map[string]string{}
	for k, v := range template.Metadata.Labels {
		if !reservedLabels[k] {
			labels[k] = v
		}
	}
	labels[identityv1alpha1.LabelDirectory] = d.Name
	var annotations map[string]string
	if len(template.Metadata.Annotations) > 0 {
		annotations = maps.Clone(template.Metadata.Annotations)
	}
	owner := metav1.NewControllerRef(d, identityv1alpha1.GroupVersion.WithKind(identityv1alpha1.OrgDirectoryKind))
	return &identityv1alpha1.OrgUser{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:       d.Namespace,
			Name:            OrgUserName(key),
			Labels:          labels,
			Annotations:     annotations,
			OwnerReferences: []metav1.OwnerReference{*owner},
		},
		Spec: identityv1alpha1.OrgUserSpec{
			ProviderRef:     normalizedRef(d.Spec.ProviderRef),
			Key:             key,
			RefreshInterval: copyDuration(template.Spec.RefreshInterval),
			Suspend:         template.Spec.Suspend,
		},
	}
}

// normalizedRef spells out the default kind, as the API server stores it.
func normalizedRef(ref identityv1alpha1.ProviderReference) identityv1alpha1.ProviderReference {
	if ref.Kind == "" {
		ref.Kind = identityv1alpha1.OrgProviderKind
	}
	return ref
}

func copyDuration(d *metav1.Duration) *metav1.Duration {
	if d == nil {
		return nil
	}
	c := *d
	return &c
}

// controlledBy reports whether the directory with uid is user's controller.
func controlledBy(user *identityv1alpha1.OrgUser, d *identityv1alpha1.OrgDirectory) bool {
	owner := metav1.GetControllerOfNoCopy(user)
	return owner != nil && owner.UID == d.UID
}

// droppedKeys are the label and annotation keys the template had when the directory last applied it
// and has no longer: they are removed from its OrgUsers, which carry them only because of it.
type droppedKeys struct {
	labels, annotations []string
}

// droppedSince lists the keys of applied (the template of the last listing) that current lacks.
func droppedSince(applied, current *identityv1alpha1.OrgUserTemplateMetadata) droppedKeys {
	if applied == nil {
		return droppedKeys{}
	}
	var dropped droppedKeys
	for k := range applied.Labels {
		if _, kept := current.Labels[k]; !kept && !reservedLabels[k] {
			dropped.labels = append(dropped.labels, k)
		}
	}
	for k := range applied.Annotations {
		if _, kept := current.Annotations[k]; !kept {
			dropped.annotations = append(dropped.annotations, k)
		}
	}
	return dropped
}

// mend returns a copy of the owned OrgUser existing with desired's fields put back (spec,
// template labels and annotations, the directory label, the ownerReference) and the dropped
// template keys removed, and whether anything changed; nil and false, with nothing copied, when
// existing already has them (the usual case: one listing compares thousands). Labels and
// annotations others added (the OrgUser controller's role and state, a user's own) stay. The name
// and key of desired are not used.
func mend(existing, desired *identityv1alpha1.OrgUser, dropped droppedKeys) (*identityv1alpha1.OrgUser, bool) {
	if !differs(existing, desired, dropped) {
		return nil, false
	}
	out := existing.DeepCopy()
	out.Labels = mergedStrings(out.Labels, desired.Labels, dropped.labels)
	out.Annotations = mergedStrings(out.Annotations, desired.Annotations, dropped.annotations)
	out.Spec.ProviderRef = desired.Spec.ProviderRef
	out.Spec.RefreshInterval = copyDuration(desired.Spec.RefreshInterval)
	out.Spec.Suspend = desired.Spec.Suspend
	for i, ref := range out.OwnerReferences {
		if ref.UID == desired.OwnerReferences[0].UID {
			out.OwnerReferences[i] = desired.OwnerReferences[0]
		}
	}
	existingRef := existing.Spec.ProviderRef
	existingRef.Kind = normalizedRef(existingRef).Kind
	changed := !equality.Semantic.DeepEqual(existing.Labels, out.Labels) ||
		!equality.Semantic.DeepEqual(existing.Annotations, out.Annotations) ||
		existingRef != out.Spec.ProviderRef ||
		!sameDuration(existing.Spec.RefreshInterval, out.Spec.RefreshInterval) ||
		existing.Spec.Suspend != out.Spec.Suspend ||
		!equality.Semantic.DeepEqual(existing.OwnerReferences, out.OwnerReferences)
	if !changed {
		return nil, false
	}
	return out, true
}

// differs reports, without allocating, whether mend has anything to put back on existing.
func differs(existing, desired *identityv1alpha1.OrgUser, dropped droppedKeys) bool {
	existingRef := existing.Spec.ProviderRef
	existingRef.Kind = normalizedRef(existingRef).Kind
	if existingRef != desired.Spec.ProviderRef || existing.Spec.Suspend != desired.Spec.Suspend ||
		!sameDuration(existing.Spec.RefreshInterval, desired.Spec.RefreshInterval) ||
		!hasAll(existing.Labels, desired.Labels, dropped.labels) ||
		!hasAll(existing.Annotations, desired.Annotations, dropped.annotations) {
		return true
	}
	want := desired.OwnerReferences[0]
	for _, ref := range existing.OwnerReferences {
		if ref.UID == want.UID && !sameOwnerReference(ref, want) {
			return true
		}
	}
	return false
}

// hasAll reports whether have holds every entry of want and none of the dropped keys.
func hasAll(have, want map[string]string, dropped []string) bool {
	for k, v := range want {
		if got, ok := have[k]; !ok || got != v {
			return false
		}
	}
	for _, k := range dropped {
		if _, ok := have[k]; ok {
			return false
		}
	}
	return true
}

func sameOwnerReference(a, b metav1.OwnerReference) bool {
	return a.APIVersion == b.APIVersion && a.Kind == b.Kind && a.Name == b.Name && a.UID == b.UID &&
		sameBool(a.Controller, b.Controller) && sameBool(a.BlockOwnerDeletion, b.BlockOwnerDeletion)
}

func sameBool(a, b *bool) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// mergedStrings is have with want's entries set and the dropped keys removed; nil when empty, as
// the API server returns an empty map.
func mergedStrings(have, want map[string]string, dropped []string) map[string]string {
	out := maps.Clone(have)
	if out == nil {
		out = map[string]string{}
	}
	for _, k := range dropped {
		delete(out, k)
	}
	maps.Copy(out, want)
	if len(out) == 0 {
		return nil
	}
	return out
}

func sameDuration(a, b *metav1.Duration) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Duration == b.Duration
}
