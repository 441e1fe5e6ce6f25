package bridge

import (
	"strconv"
	"testing"
)

// The cache holds at most its size, forgets the least recently used id
// first, and a put of a known id moves it.
func TestDNCacheIsBoundedLRU(t *testing.T) {
	c := newDNCache(3)
	for i := range 3 {
		c.put("id"+strconv.Itoa(i), "uid=u"+strconv.Itoa(i))
	}
	if _, ok := c.get("id0"); !ok { // id0 is now the most recent
		t.Fatal("id0 forgotten")
	}
	c.put("id3", "uid=u3") // evicts id1, the least recent
	if _, ok := c.get("id1"); ok {
		t.Error("id1 kept beyond the size")
	}
	c.put("id2", "uid=renamed")
	if v, _ := c.get("id2"); v.dn != "uid=renamed" {
		t.Errorf("id2 at %q after a rename", v.dn)
	}
	c.drop("id0")
	c.put("", "uid=x")
	c.put("id4", "")
	if n := c.len(); n != 2 {
		t.Errorf("%d ids, want 2 (id2, id3)", n)
	}
}
