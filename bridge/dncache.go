package bridge

import (
	"container/list"
	"sync"
)

// dnCacheSize bounds the ids one bridge remembers the DN of: about 2 MB
// when full.
const dnCacheSize = 10000

// dnCache remembers where the entries with a SCIM id were last seen, so that
// a PATCH or DELETE can write to the entry without searching for it first
// (issue 13). It is only ever a guess: every write by a cached DN carries an
// assertion that the entry there still has that id and is still managed
// (Users.byCachedDN), so an entry renamed, moved, deleted or replaced by
// another at the same DN makes the write fail with nothing written, the id is
// dropped, and the request searches as it would have without a cache. The
// bridge keeps no state that an answer depends on: a cold cache, or another
// bridge process, answers the same.
//
// Least recently used ids go first. Safe for concurrent use.
type dnCache struct {
	mu    sync.Mutex
	max   int
	order *list.List // of *dnCached, most recent first
	byID  map[string]*list.Element
}

// dnCached is what the cache knows of one id.
type dnCached struct {
	id, dn string
}

func newDNCache(size int) *dnCache {
	return &dnCache{max: size, order: list.New(), byID: map[string]*list.Element{}}
}

// get returns what is known of id.
func (c *dnCache) get(id string) (dnCached, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byID[id]
	if !ok {
		return dnCached{}, false
	}
	c.order.MoveToFront(el)
	return *el.Value.(*dnCached), true
}

// put records that the entry with id is at dn.
func (c *dnCache) put(id, dn string) {
	v := dnCached{id: id, dn: dn}
	if v.id == "" || v.dn == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byID[v.id]; ok {
		*el.Value.(*dnCached) = v
		c.order.MoveToFront(el)
		return
	}
	c.byID[v.id] = c.order.PushFront(&v)
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.byID, last.Value.(*dnCached).id)
	}
}

// drop forgets id.
func (c *dnCache) drop(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byID[id]; ok {
		c.order.Remove(el)
		delete(c.byID, id)
	}
}

// len is the number of ids remembered.
func (c *dnCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
