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
}

func (m *userMemory) get(obj client.Object) userRecord {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec := m.users[client.ObjectKeyFromObject(obj)]
	if rec.uid != obj.GetUID() {
		return userRecord{uid: obj.GetUID()}
	}
	return rec
}

func (m *userMemory) put(obj client.Object, rec userRecord) {
	if m.users == nil {
		m.users = map[types.NamespacedName]userRecord{}
	}
	m.users[client.ObjectKeyFromObject(obj)] = rec
}

// recordSuccess notes a successful read, which also ends any failure streak.
func (m *userMemory) recordSuccess(obj client.Object, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.put(obj, userRecord{uid: obj.GetUID(), lastSuccess: at})
}

// recordFailure counts a transient failure and returns how many happened in a row.
func (m *userMemory) recordFailure(obj client.Object) int {
	rec := m.get(obj)
	rec.failures++
	m.mu.Lock()
	defer m.mu.Unlock()
	m.put(obj, rec)
	return rec.failures
}

// resetFailures ends the failure streak after an answer that is not transient.
func (m *userMemory) resetFailures(obj client.Object) {
	rec := m.get(obj)
	rec.failures = 0
	m.mu.Lock()
	defer m.mu.Unlock()
	m.put(obj, rec)
}

func (m *userMemory) forget(name types.NamespacedName) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.users, name)
}
