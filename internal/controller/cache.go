package controller

import (
	"k8s.io/apimachinery/pkg/api/meta"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
)

// lastAppliedAnnotation is what client-side `kubectl apply` (and Argo CD) keeps on every object it
// applies: a full copy of the applied manifest that the controllers never read.
const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// CacheOptions keeps the manager's informer cache to what the controllers read: managedFields and the
// last-applied copy are dropped from every cached object, which for thousands of OrgUsers is most of
// the cache's memory.
func CacheOptions() cache.Options {
	return cache.Options{DefaultTransform: stripUnreadMetadata}
}

func stripUnreadMetadata(in any) (any, error) {
	if tombstone, ok := in.(toolscache.DeletedFinalStateUnknown); ok {
		return tombstone, nil
	}
	obj, err := meta.Accessor(in)
	if err != nil {
		return in, nil //nolint:nilerr // not an object: nothing to strip
	}
	if obj.GetManagedFields() != nil {
		obj.SetManagedFields(nil)
	}
	if annotations := obj.GetAnnotations(); annotations[lastAppliedAnnotation] != "" {
		kept := make(map[string]string, len(annotations)-1)
		for k, v := range annotations {
			if k != lastAppliedAnnotation {
				kept[k] = v
			}
		}
		obj.SetAnnotations(kept)
	}
	return in, nil
}
