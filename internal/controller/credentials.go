package controller

import (
	"context"
	"sync"

	"golang.org/x/sync/singleflight"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// credentialStore holds each provider object's credential as its Secret was last read. The provider
// reconcilers fill it on their Secret poll; an OrgUser reconcile reads it from here and reads the
// Secret itself only when its provider has not been polled yet, once per provider however many users
// ask at the same time. So Secret reads are per provider object, never per OrgUser.
type credentialStore struct {
	mu      sync.Mutex
	entries map[string]credentialEntry
	loads   singleflight.Group
}

type credentialEntry struct {
	uid types.UID
	// ref is the Secret namespace, name and key the state was read for: an edit of the provider's
	// secretRef makes the entry stale.
	ref   string
	state secretState
}

func credentialRef(prov *providerObject) string {
	return prov.secretNamespace + "/" + prov.config.Auth.SecretRef.Name + "/" + secretKeyOf(prov.config)
}

func providerKey(prov *providerObject) string {
	return providerIndexKey(prov.kind, prov.obj.GetNamespace(), prov.obj.GetName())
}

// get returns the provider's credential, reading its Secret through reader only when no poll has.
func (s *credentialStore) get(ctx context.Context, reader client.Reader, prov *providerObject) (secretState, error) {
	key, uid, ref := providerKey(prov), prov.obj.GetUID(), credentialRef(prov)
	if state, ok := s.lookup(key, uid, ref); ok {
		return state, nil
	}
	v, err, _ := s.loads.Do(key+"\x00"+string(uid)+"\x00"+ref, func() (any, error) {
		if state, ok := s.lookup(key, uid, ref); ok {
			return state, nil
		}
		state, err := readSecret(ctx, reader, prov)
		if err != nil {
			return secretState{}, err
		}
		s.put(key, uid, ref, state)
		return state, nil
	})
	if err != nil {
		return secretState{}, err
	}
	return v.(secretState), nil
}

func (s *credentialStore) lookup(key string, uid types.UID, ref string) (secretState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[key]
	if !ok || e.uid != uid || e.ref != ref {
		return secretState{}, false
	}
	return e.state, true
}

// put records a fresh read and reports whether the token changed since the last read of the same
// provider object and Secret. A first read is not a change.
func (s *credentialStore) put(key string, uid types.UID, ref string, state secretState) (changed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.entries == nil {
		s.entries = map[string]credentialEntry{}
	}
	prev, ok := s.entries[key]
	s.entries[key] = credentialEntry{uid: uid, ref: ref, state: state}
	return ok && prev.uid == uid && prev.state.version != state.version
}

// forget drops a deleted provider object's credential and returns the UID it had.
func (s *credentialStore) forget(key string) (types.UID, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev, ok := s.entries[key]
	delete(s.entries, key)
	return prev.uid, ok
}
