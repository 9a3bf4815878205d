package demo

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/upstreamsim"
)

const (
	// directoryNamespace keeps the directory's OrgUsers apart from the hand-written ones.
	directoryNamespace = "orgsync-directory"
	// scimProvider names the SCIM OrgProvider in both demo namespaces.
	scimProvider  = "scim"
	directoryName = scimProvider
)

// createDirectory applies an OrgDirectory over the simulated SCIM organization, in a namespace of its
// own with its own token Secret and OrgProvider.
func createDirectory(ctx context.Context, c client.Client, sim *upstreamsim.Server, token string) error {
	refresh := metav1.Duration{Duration: time.Hour}
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: directoryNamespace}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: directoryNamespace, Name: secretName},
			StringData: map[string]string{"token": token}},
		&identityv1alpha1.OrgProvider{ObjectMeta: metav1.ObjectMeta{Namespace: directoryNamespace, Name: scimProvider},
			Spec: identityv1alpha1.OrgProviderSpec{ProviderConfig: providerConfig(sim, upstreamsim.ProviderSCIM)}},
		&identityv1alpha1.OrgDirectory{
			ObjectMeta: metav1.ObjectMeta{Namespace: directoryNamespace, Name: directoryName},
			Spec: identityv1alpha1.OrgDirectorySpec{
				ProviderRef: identityv1alpha1.ProviderReference{Kind: identityv1alpha1.OrgProviderKind, Name: scimProvider},
				UserTemplate: identityv1alpha1.OrgUserTemplate{
					Metadata: identityv1alpha1.OrgUserTemplateMetadata{Labels: map[string]string{"team": "platform"}},
					Spec:     identityv1alpha1.OrgUserTemplateSpec{RefreshInterval: &refresh},
				},
			},
		},
	}
	return createAll(ctx, c, objs...)
}

// waitDirectoryListed waits until the directory is Ready and every OrgUser it owns has settled.
func waitDirectoryListed(ctx context.Context, c client.Client, timeout time.Duration) error {
	var last string
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		d := &identityv1alpha1.OrgDirectory{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: directoryNamespace, Name: directoryName}, d); err != nil {
			return false, err
		}
		ready := meta.FindStatusCondition(d.Status.Conditions, identityv1alpha1.ConditionReady)
		if ready == nil || ready.Status != metav1.ConditionTrue || d.Status.Users == 0 {
			last = "directory not listed yet"
			return false, nil
		}
		users := &identityv1alpha1.OrgUserList{}
		if err := c.List(ctx, users, client.InNamespace(directoryNamespace),
			client.MatchingLabels{identityv1alpha1.LabelDirectory: directoryName}); err != nil {
			return false, err
		}
		for _, u := range users.Items {
			r := meta.FindStatusCondition(u.Status.Conditions, identityv1alpha1.ConditionReady)
			if r == nil || r.ObservedGeneration != u.Generation {
				last = "OrgUser " + u.Name + " not synced yet"
				return false, nil
			}
		}
		return len(users.Items) == int(d.Status.Users), nil
	})
	if err != nil {
		return fmt.Errorf("OrgDirectory %s/%s not listed after %s (%s): %w", directoryNamespace, directoryName, timeout, last, err)
	}
	return nil
}
