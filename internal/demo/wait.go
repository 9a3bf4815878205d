package demo

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
)

// waitSettled waits until every named OrgUser has a Ready condition for its current generation that
// is not a transient failure.
func waitSettled(ctx context.Context, c client.Client, names []string, timeout time.Duration) error {
	var pending []string
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		pending = pending[:0]
		for _, name := range names {
			u := &identityv1alpha1.OrgUser{}
			if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, u); err != nil {
				return false, err
			}
			ready := meta.FindStatusCondition(u.Status.Conditions, identityv1alpha1.ConditionReady)
			if ready == nil || ready.ObservedGeneration != u.Generation || ready.Reason == identityv1alpha1.ReasonProviderUnavailable {
				pending = append(pending, name)
			}
		}
		return len(pending) == 0, nil
	})
	if err != nil {
		return fmt.Errorf("OrgUsers not settled after %s: %v: %w", timeout, pending, err)
	}
	return nil
}

// forceRefresh sets the reconcile-requested-at annotation and waits until status acknowledges it.
func forceRefresh(ctx context.Context, c client.Client, name string, timeout time.Duration) error {
	u := &identityv1alpha1.OrgUser{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, u); err != nil {
		return err
	}
	value := time.Now().UTC().Format(time.RFC3339)
	patch := client.MergeFrom(u.DeepCopy())
	if u.Annotations == nil {
		u.Annotations = map[string]string{}
	}
	u.Annotations[identityv1alpha1.ReconcileRequestedAnnotation] = value
	if err := c.Patch(ctx, u, patch); err != nil {
		return fmt.Errorf("annotate %s: %w", name, err)
	}
	return wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, client.ObjectKeyFromObject(u), u); err != nil {
			return false, err
		}
		return u.Status.LastHandledReconcileAt == value, nil
	})
}
