package controller

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
)

// secretState is what a provider's credential Secret looked like when it was last read.
type secretState struct {
	token string
	// reason is "" when the token resolved, otherwise SecretNotFound or SecretKeyMissing.
	reason  string
	message string
	// version identifies the Secret's content for change detection ("" when it does not exist).
	version string
}

// readSecret reads the provider's Secret with reader, which must not be a cache: the manager keeps no
// Secret informer, so credentials are read only when needed and only the referenced Secret.
func readSecret(ctx context.Context, reader client.Reader, prov *providerObject) (secretState, error) {
	ref := prov.config.Auth.SecretRef
	key := secretKeyOf(prov.config)
	name := types.NamespacedName{Namespace: prov.secretNamespace, Name: ref.Name}
	secret := &corev1.Secret{}
	if err := reader.Get(ctx, name, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return secretState{reason: identityv1alpha1.ReasonSecretNotFound,
				message: fmt.Sprintf("Secret %s named by %s not found", name, prov.displayName())}, nil
		}
		return secretState{}, fmt.Errorf("get Secret %s: %w", name, err)
	}
	state := secretState{version: string(secret.UID) + "/" + secret.ResourceVersion}
	token := string(secret.Data[key])
	if token == "" {
		state.reason = identityv1alpha1.ReasonSecretKeyMissing
		state.message = fmt.Sprintf("Secret %s has no non-empty key %q, named by %s", name, key, prov.displayName())
		return state, nil
	}
	state.token = token
	return state, nil
}

// readSecretToken is readSecret for callers that only need the token or the reason it is missing.
func readSecretToken(ctx context.Context, reader client.Reader, prov *providerObject) (token, reason, message string, err error) {
	state, err := readSecret(ctx, reader, prov)
	return state.token, state.reason, state.message, err
}

func labelSet(l map[string]string) labels.Set { return labels.Set(l) }
