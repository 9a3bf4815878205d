package directory

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/connection"
	"github.com/orgsync/orgsync/internal/provider"
)

// memory keeps, per directory, what status does not: the listing in progress between reconciles
// (its pages so far), the failures in a row, and what the last complete listing left behind. It is
// keyed by name and carries the UID, so a directory deleted and created again starts afresh. After a
// restart it is empty: a listing then starts anew, and nothing is pruned before the next complete
// listing.
type memory struct {
	mu          sync.Mutex
	directories map[types.NamespacedName]*directoryMemory
}

type directoryMemory struct {
	uid types.UID
	// inProgress is the listing being read, nil between listings.
	inProgress *listingInProgress
	// failures counts the listings in a row that failed, the last at failedAt.
	failures int
	failedAt time.Time
	// missing are the owned OrgUsers (by name) the last complete listing lacked: the only ones that
	// may be pruned.
	missing map[string]missingUser
	// appliedTemplate is the template's metadata as the last complete listing applied it, so keys
	// dropped from the template since are removed from the OrgUsers.
	appliedTemplate *identityv1alpha1.OrgUserTemplateMetadata
}

// listingInProgress is a listing between reconciles: its pages are read as the turn queue grants
// turns, over as many reconciles as that takes.
type listingInProgress struct {
	// generation is the directory's generation the listing was started for; a spec change starts
	// a new one.
	generation int64
	session    *connection.ListingSession
	// listing is nil until the server's capabilities are read.
	listing   *provider.Listing
	startedAt time.Time
}

// of returns the directory's record; reconciles of one directory never run at once, so the caller
// may change it without a lock.
func (m *memory) of(d *identityv1alpha1.OrgDirectory) *directoryMemory {
	m.mu.Lock()
	defer m.mu.Unlock()
	name := client.ObjectKeyFromObject(d)
	rec, ok := m.directories[name]
	if !ok || rec.uid != d.UID {
		rec = &directoryMemory{uid: d.UID}
		if m.directories == nil {
			m.directories = map[types.NamespacedName]*directoryMemory{}
		}
		m.directories[name] = rec
	}
	return rec
}

func (m *memory) forget(name types.NamespacedName) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.directories, name)
}

// abandon drops the listing in progress: nothing it read is used.
func (rec *directoryMemory) abandon() { rec.inProgress = nil }
