package proxy

import (
	"hash/maphash"
	"maps"
)

// hostShards is the number of shards of a hostMap, one bit each in owned.
const hostShards = 64

// hostMap maps host names to compiled hosts. It is split into shards by a
// hash of the name, so that a generation that changes a few names copies
// the shards they fall in and shares the others with the generation
// before: at thousands of hosts, copying one map of every name would cost
// more than the change itself. Once its generation is published a
// hostMap does not change.
type hostMap struct {
	seed   maphash.Seed
	shards [hostShards]map[string]*vhost
	// owned marks the shards this map may write: its own, not shared.
	owned uint64
	n     int
}

// newHostMap returns an empty map.
func newHostMap() *hostMap {
	return &hostMap{seed: maphash.MakeSeed(), owned: ^uint64(0)}
}

// derive returns a map with m's names that shares m's shards until it
// writes to them.
func (m *hostMap) derive() *hostMap {
	d := *m
	d.owned = 0
	return &d
}

func (m *hostMap) shard(name string) int {
	return int(maphash.String(m.seed, name) % hostShards)
}

// get returns the host of name, or nil.
func (m *hostMap) get(name string) *vhost {
	return m.shards[m.shard(name)][name]
}

// set maps name to vh.
func (m *hostMap) set(name string, vh *vhost) {
	s := m.writable(m.shard(name))
	if _, ok := s[name]; !ok {
		m.n++
	}
	s[name] = vh
}

// del removes name.
func (m *hostMap) del(name string) {
	i := m.shard(name)
	if _, ok := m.shards[i][name]; !ok {
		return
	}
	delete(m.writable(i), name)
	m.n--
}

// writable returns shard i, copied first if it is shared.
func (m *hostMap) writable(i int) map[string]*vhost {
	if m.owned&(1<<i) == 0 {
		m.shards[i] = maps.Clone(m.shards[i])
		m.owned |= 1 << i
	}
	if m.shards[i] == nil {
		m.shards[i] = map[string]*vhost{}
	}
	return m.shards[i]
}

// each calls f for every name and its host.
func (m *hostMap) each(f func(string, *vhost)) {
	for _, s := range m.shards {
		for name, vh := range s {
			f(name, vh)
		}
	}
}
