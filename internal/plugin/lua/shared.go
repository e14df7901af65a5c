package lua

import (
	"errors"
	"sync"
	"time"
)

// Bounds of ngx.shared: the number of dictionaries and the entries of
// each. A full dictionary evicts an expired entry, else the one that
// expires first, else an arbitrary one (nginx evicts the least recently
// used); set reports the eviction as "forcible".
const (
	maxDicts       = 64
	maxDictEntries = 10000
)

// sharedDicts are the ngx.shared dictionaries: process-wide, shared by
// every plugin and request, surviving reloads of the plugins.
type sharedDicts struct {
	mu    sync.Mutex
	dicts map[string]*dict
	now   func() time.Time
}

func newSharedDicts(now func() time.Time) *sharedDicts {
	return &sharedDicts{dicts: map[string]*dict{}, now: now}
}

var errTooManyDicts = errors.New("too many ngx.shared dictionaries")

// get returns the dictionary called name, creating it on first use.
func (s *sharedDicts) get(name string) (*dict, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dicts[name]
	if d == nil {
		if len(s.dicts) >= maxDicts {
			return nil, errTooManyDicts
		}
		d = &dict{entries: map[string]dictEntry{}, now: s.now}
		s.dicts[name] = d
	}
	return d, nil
}

// dict is one dictionary. Values are strings, float64 numbers or bools.
type dict struct {
	mu      sync.Mutex
	entries map[string]dictEntry
	now     func() time.Time
}

type dictEntry struct {
	val any
	exp time.Time // zero: never
}

func (e dictEntry) expired(now time.Time) bool { return !e.exp.IsZero() && !now.Before(e.exp) }

// Get returns the value of key; nil when absent or expired.
func (d *dict) Get(key string) any {
	d.mu.Lock()
	defer d.mu.Unlock()
	e, ok := d.entries[key]
	if !ok {
		return nil
	}
	if e.expired(d.now()) {
		delete(d.entries, key)
		return nil
	}
	return e.val
}

// Set stores val under key for ttl (0: no expiry); nil deletes. It
// reports whether another entry was evicted to make room.
func (d *dict) Set(key string, val any, ttl time.Duration) (forcible bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if val == nil {
		delete(d.entries, key)
		return false
	}
	now := d.now()
	if _, ok := d.entries[key]; !ok && len(d.entries) >= maxDictEntries {
		forcible = d.evict(now)
	}
	e := dictEntry{val: val}
	if ttl > 0 {
		e.exp = now.Add(ttl)
	}
	d.entries[key] = e
	return forcible
}

// Incr adds n to the number under key. A missing key starts at init
// when hasInit (with ttl), else it is an error, as in OpenResty.
func (d *dict) Incr(key string, n float64, init float64, hasInit bool, ttl time.Duration) (float64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	e, ok := d.entries[key]
	if ok && e.expired(now) {
		ok = false
	}
	if !ok {
		if !hasInit {
			return 0, errors.New("not found")
		}
		if _, present := d.entries[key]; !present && len(d.entries) >= maxDictEntries {
			d.evict(now)
		}
		e = dictEntry{val: init}
		if ttl > 0 {
			e.exp = now.Add(ttl)
		}
	}
	v, isNum := e.val.(float64)
	if !isNum {
		return 0, errors.New("not a number")
	}
	e.val = v + n
	d.entries[key] = e
	return v + n, nil
}

// evict removes one entry; it reports false only when the dictionary
// held nothing.
func (d *dict) evict(now time.Time) bool {
	var victim string
	var first time.Time
	found := false
	for k, e := range d.entries {
		if e.expired(now) {
			delete(d.entries, k)
			return true
		}
		if !found || !e.exp.IsZero() && (first.IsZero() || e.exp.Before(first)) {
			victim, first, found = k, e.exp, true
		}
	}
	if found {
		delete(d.entries, victim)
	}
	return found
}
