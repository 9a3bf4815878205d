package controller

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// userMemory keeps what status deliberately does not: when each user was last read successfully and
// how many transient failures followed. Status has no heartbeat field, so this lives in memory; after a
// restart the Synced condition's transition time stands in. Records are keyed by name and carry the
// UID, so an OrgUser deleted and created again under the same name starts afresh.
type userMemory struct {
	mu    sync.Mutex
	users map[types.NamespacedName]userRecord
}

type userRecord struct {
	uid         types.UID
	lastSuccess time.Time
	failures    int
	// seen is set once this process has scheduled the user; a user not yet seen is new to this
	// process (after a start or a leader change).
	seen bool
	// readAt is when the next upstream read is due; zero when only a change of the object is.
	readAt time.Time
	// refreshInterval is the interval the last attempt resolved, for reconciles that read nothing.
	refreshInterval time.Duration
	// requested counts the reads asked for by a change elsewhere (provider, credential, namespace
	// labels); handled is the count the last read answered.
	requested, handled uint64
}

func (m *userMemory) get(obj client.Object) userRecord {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lookup(obj)
}

// lookup is get for callers that hold the lock; a record of an earlier object of the same name is
// not this object's.
func (m *userMemory) lookup(obj client.Object) userRecord {
	rec := m.users[client.ObjectKeyFromObject(obj)]
	if rec.uid != obj.GetUID() {
		return userRecord{uid: obj.GetUID()}
	}
	return rec
}

// update changes obj's record under one lock.
func (m *userMemory) update(obj client.Object, change func(*userRecord)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec := m.lookup(obj)
	change(&rec)
	if m.users == nil {
		m.users = map[types.NamespacedName]userRecord{}
	}
	m.users[client.ObjectKeyFromObject(obj)] = rec
}

// firstSight marks the user as seen and reports whether it was the first time.
func (m *userMemory) firstSight(obj client.Object) bool {
	first := false
	m.update(obj, func(rec *userRecord) { first, rec.seen = !rec.seen, true })
	return first
}

// set stores rec as obj's record, keeping reads requested since the reconcile began.
func (m *userMemory) set(obj client.Object, rec userRecord) {
	m.update(obj, func(cur *userRecord) {
		uid, requested := cur.uid, cur.requested
		*cur = rec
		cur.uid, cur.requested = uid, max(requested, rec.requested)
	})
}

// requestRead asks for a read of the user at its next reconcile, whatever its schedule.
func (m *userMemory) requestRead(name types.NamespacedName) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if rec, ok := m.users[name]; ok {
		rec.requested++
		m.users[name] = rec
	}
}

func (m *userMemory) forget(name types.NamespacedName) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.users, name)
}
