package proxy

import (
	"fmt"
	"testing"
)

// A derived map sees its parent's names, and what it changes leaves the
// parent (a published generation) as it was.
func TestHostMapDeriveLeavesParent(t *testing.T) {
	parent := newHostMap()
	hosts := map[string]*vhost{}
	for i := range 500 {
		name := fmt.Sprintf("h%d.test", i)
		hosts[name] = &vhost{}
		parent.set(name, hosts[name])
	}
	parent.set("h0.test", hosts["h0.test"]) // again: counted once
	if parent.n != 500 {
		t.Fatalf("parent has %d names, want 500", parent.n)
	}
	child := parent.derive()
	replaced := &vhost{}
	child.set("h1.test", replaced)
	child.set("new.test", replaced)
	child.del("h2.test")
	child.del("absent.test")
	if child.n != 500 || parent.n != 500 {
		t.Errorf("names: child %d, parent %d; want 500 and 500", child.n, parent.n)
	}
	for name, want := range map[string]*vhost{"h1.test": replaced, "new.test": replaced, "h2.test": nil, "h3.test": hosts["h3.test"]} {
		if got := child.get(name); got != want {
			t.Errorf("child %s = %p, want %p", name, got, want)
		}
	}
	for name, want := range map[string]*vhost{"h1.test": hosts["h1.test"], "new.test": nil, "h2.test": hosts["h2.test"]} {
		if got := parent.get(name); got != want {
			t.Errorf("parent %s = %p, want %p", name, got, want)
		}
	}
	seen := 0
	child.each(func(string, *vhost) { seen++ })
	if seen != 500 {
		t.Errorf("each visits %d names, want 500", seen)
	}
}
