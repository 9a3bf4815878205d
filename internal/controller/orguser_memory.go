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

// update changes obj's record under one lock and returns the result.
func (m *userMemory) update(obj client.Object, change func(*userRecord)) userRecord {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec := m.lookup(obj)
	change(&rec)
	if m.users == nil {
		m.users = map[types.NamespacedName]userRecord{}
	}
	m.users[client.ObjectKeyFromObject(obj)] = rec
	return rec
}

// firstSight marks the user as seen and reports whether it was the first time.
func (m *userMemory) firstSight(obj client.Object) bool {
	first := false
	m.update(obj, func(rec *userRecord) { first, rec.seen = !rec.seen, true })
	return first
}

// recordSuccess notes a successful read, which also ends any failure streak.
func (m *userMemory) recordSuccess(obj client.Object, at time.Time) {
	m.update(obj, func(rec *userRecord) { rec.lastSuccess, rec.failures = at, 0 })
}

// recordFailure counts a transient failure and returns how many happened in a row.
func (m *userMemory) recordFailure(obj client.Object) int {
	return m.update(obj, func(rec *userRecord) { rec.failures++ }).failures
}

// resetFailures ends the failure streak after an answer that is not transient.
func (m *userMemory) resetFailures(obj client.Object) {
	m.update(obj, func(rec *userRecord) { rec.failures = 0 })
}

func (m *userMemory) forget(name types.NamespacedName) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.users, name)
}
