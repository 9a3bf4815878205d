package controller

import (
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// rateLimitWrites remembers the rateLimitedUntil value last written for each provider object, so it
// is written once per change, not once per user reconciled before the cache shows our own write.
type rateLimitWrites struct {
	mu      sync.Mutex
	written map[types.UID]string
}

// claim reports whether want still needs writing for the provider, and records it as written.
func (w *rateLimitWrites) claim(uid types.UID, want *metav1.Time) bool {
	value := ""
	if want != nil {
		value = want.UTC().String()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.written == nil {
		w.written = map[types.UID]string{}
	}
	if prev, ok := w.written[uid]; ok && prev == value {
		return false
	}
	w.written[uid] = value
	return true
}

// release forgets what was claimed for the provider, after a write that failed.
func (w *rateLimitWrites) release(uid types.UID) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.written, uid)
}
