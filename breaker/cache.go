package breaker

import (
	"context"
	"sync"
)

// Cache is the cache fallback: the last good read per key. It is safe for
// concurrent use; one cache may serve several breakers (replicas of a service).
type Cache[K comparable, V any] struct {
	mu sync.RWMutex
	m  map[K]V
}

// NewCache returns an empty cache.
func NewCache[K comparable, V any]() *Cache[K, V] {
	return &Cache[K, V]{m: make(map[K]V)}
}

// Get returns the cached value for key.
func (c *Cache[K, V]) Get(key K) (V, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.m[key]
	return v, ok
}

// Len returns the number of cached keys.
func (c *Cache[K, V]) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}

func (c *Cache[K, V]) put(key K, v V) {
	c.mu.Lock()
	c.m[key] = v
	c.mu.Unlock()
}

// Read runs fn through Do. On success it stores the value under key. When the
// call fails (Failure, TimedOut) or is rejected and key has a cached value, it
// returns that value with fromCache true and a nil error, and counts a
// fallback. A 4xx or a cancellation is returned as is: the service answered,
// or the caller gave up, and a stale value would hide that.
func Read[K comparable, V any](ctx context.Context, b *Breaker, c *Cache[K, V], key K, fn func(ctx context.Context) (V, error)) (v V, fromCache bool, err error) {
	v, out, err := run(ctx, b, fn)
	if err == nil {
		c.put(key, v)
		return v, false, nil
	}
	if out.fallsBack() {
		if cv, ok := c.Get(key); ok {
			b.fellBack()
			return cv, true, nil
		}
	}
	return v, false, err
}
