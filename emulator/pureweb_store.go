package emulator

import (
	"sync"
	"time"
)

// environmentPruneInterval is the longest an expired environment stays in
// memory while the store has room.
const environmentPruneInterval = 10 * time.Second

// environmentStore holds the live agent environments, at most max of them.
// It never returns an expired environment. It removes expired ones in one
// pass when it is full or when environmentPruneInterval has passed since the
// last pass, so that an insert costs O(1) amortized even with hundreds of
// thousands of environments, as a load test creates.
type environmentStore struct {
	mu        sync.Mutex
	now       func() time.Time
	max       int
	entries   map[string]environment
	nextPrune time.Time
}

func newEnvironmentStore(max int, now func() time.Time) *environmentStore {
	return &environmentStore{
		now:     now,
		max:     max,
		entries: make(map[string]environment),
	}
}

// putIfRoom stores env under its ID unless the store holds max live
// environments. It reports whether env was stored.
func (s *environmentStore) putIfRoom(env environment) bool {
	s.mu.Lock()
	defer s.mu.Unlock()

	now := s.now()
	if len(s.entries) >= s.max || !now.Before(s.nextPrune) {
		s.pruneLocked(now)
	}
	if len(s.entries) >= s.max {
		return false
	}
	s.entries[env.ID] = env
	return true
}

// get returns the environment with the given ID if it has not expired.
func (s *environmentStore) get(id string) (environment, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()

	return s.liveLocked(id)
}

// take removes the environment with the given ID and returns it if it had
// not expired.
func (s *environmentStore) take(id string) (environment, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()

	env, ok := s.liveLocked(id)
	delete(s.entries, id)
	return env, ok
}

func (s *environmentStore) liveLocked(id string) (environment, bool) {
	env, ok := s.entries[id]
	if !ok {
		return environment{}, false
	}
	if !s.now().Before(env.ExpiresAt) {
		delete(s.entries, id)
		return environment{}, false
	}
	return env, true
}

func (s *environmentStore) pruneLocked(now time.Time) {
	for id, env := range s.entries {
		if !now.Before(env.ExpiresAt) {
			delete(s.entries, id)
		}
	}
	s.nextPrune = now.Add(environmentPruneInterval)
}
