package emulator

import (
	"sync"
	"time"
)

// expiringMap is a mutex-guarded map of entries that expire. It never holds
// more than max entries: expired entries are pruned on every insert, and when
// the map is still full, put evicts the entry that expires soonest.
type expiringMap[V any] struct {
	mu      sync.Mutex
	now     func() time.Time
	max     int
	entries map[string]expiringEntry[V]
}

type expiringEntry[V any] struct {
	value   V
	expires time.Time
}

func newExpiringMap[V any](max int, now func() time.Time) *expiringMap[V] {
	return &expiringMap[V]{
		now:     now,
		max:     max,
		entries: make(map[string]expiringEntry[V]),
	}
}

// put stores value under key until expires, evicting the entry closest to
// expiry when the map is full.
func (m *expiringMap[V]) put(key string, value V, expires time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()

	m.pruneLocked()
	if _, replacing := m.entries[key]; !replacing && len(m.entries) >= m.max {
		m.evictSoonestLocked()
	}
	m.entries[key] = expiringEntry[V]{value: value, expires: expires}
}

// putIfRoom stores value under key unless the map holds max live entries.
// It reports whether the value was stored.
func (m *expiringMap[V]) putIfRoom(key string, value V, expires time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()

	m.pruneLocked()
	if len(m.entries) >= m.max {
		return false
	}
	m.entries[key] = expiringEntry[V]{value: value, expires: expires}
	return true
}

// get returns the value stored under key if it has not expired.
func (m *expiringMap[V]) get(key string) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()

	return m.liveLocked(key)
}

// take removes the value stored under key and returns it if it had not
// expired, so a value can be used only once.
func (m *expiringMap[V]) take(key string) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()

	value, ok := m.liveLocked(key)
	delete(m.entries, key)
	return value, ok
}

// len returns the number of live entries.
func (m *expiringMap[V]) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()

	m.pruneLocked()
	return len(m.entries)
}

func (m *expiringMap[V]) liveLocked(key string) (V, bool) {
	entry, ok := m.entries[key]
	if !ok {
		var zero V
		return zero, false
	}
	if !m.now().Before(entry.expires) {
		delete(m.entries, key)
		var zero V
		return zero, false
	}
	return entry.value, true
}

func (m *expiringMap[V]) pruneLocked() {
	now := m.now()
	for key, entry := range m.entries {
		if !now.Before(entry.expires) {
			delete(m.entries, key)
		}
	}
}

func (m *expiringMap[V]) evictSoonestLocked() {
	var soonestKey string
	var soonest time.Time
	found := false
	for key, entry := range m.entries {
		if !found || entry.expires.Before(soonest) {
			soonestKey, soonest, found = key, entry.expires, true
		}
	}
	if found {
		delete(m.entries, soonestKey)
	}
}
