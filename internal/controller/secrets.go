package controller

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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
	// version identifies the token for change detection ("" when the Secret does not exist).
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
	// Surrounding whitespace is never part of a bearer token, but a trailing newline is what
	// `kubectl create secret --from-file` stores when the file ends with one.
	token := strings.TrimSpace(string(secret.Data[key]))
	// The version is a digest of the token alone, so editing the Secret's labels or other keys is not
	// a credential change that re-reads every user.
	state := secretState{version: tokenDigest(token)}
	if token == "" {
		state.reason = identityv1alpha1.ReasonSecretKeyMissing
		state.message = fmt.Sprintf("Secret %s has no non-empty key %q, named by %s", name, key, prov.displayName())
		return state, nil
	}
	state.token = token
	return state, nil
}

func tokenDigest(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
