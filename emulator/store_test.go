package emulator

import (
	"fmt"
	"testing"
	"time"
)

func TestExpiringMap(t *testing.T) {
	clock := newFakeClock()
	m := newExpiringMap[string](2, clock.Now)
	now := clock.Now()

	m.put("a", "first", now.Add(time.Minute))
	if got, ok := m.get("a"); !ok || got != "first" {
		t.Errorf("get(a) = %q, %t, want first, true", got, ok)
	}
	if got, ok := m.take("a"); !ok || got != "first" {
		t.Errorf("take(a) = %q, %t, want first, true", got, ok)
	}
	if _, ok := m.take("a"); ok {
		t.Errorf("second take(a) found a value, want none")
	}

	m.put("b", "expires", now.Add(time.Second))
	clock.Advance(time.Second)
	if _, ok := m.get("b"); ok {
		t.Errorf("get(b) after expiry found a value, want none")
	}
}

func TestExpiringMapCap(t *testing.T) {
	clock := newFakeClock()
	m := newExpiringMap[int](3, clock.Now)
	now := clock.Now()
	for i := range 3 {
		m.put(fmt.Sprint(i), i, now.Add(time.Duration(10-i)*time.Minute))
	}

	if m.putIfRoom("full", 9, now.Add(time.Hour)) {
		t.Errorf("putIfRoom on a full map stored the value, want it rejected")
	}
	m.put("3", 3, now.Add(time.Hour))
	if got := m.len(); got != 3 {
		t.Errorf("len() after put on a full map = %d, want 3", got)
	}
	if _, ok := m.get("2"); ok {
		t.Errorf("entry 2, the soonest to expire, is still stored after eviction")
	}
	for _, key := range []string{"0", "1", "3"} {
		if _, ok := m.get(key); !ok {
			t.Errorf("entry %s was evicted, want only entry 2 evicted", key)
		}
	}

	clock.Advance(10 * time.Minute)
	if !m.putIfRoom("late", 4, now.Add(time.Hour)) {
		t.Errorf("putIfRoom after entries expired was rejected, want it stored")
	}
	if got := m.len(); got != 2 {
		t.Errorf("len() after pruning = %d, want 2 (entries 3 and late)", got)
	}
}
