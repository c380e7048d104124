package cpu

import (
	"fmt"
	"sync"
)

// PageStore is the CPU device's weights cache: a fixed number of pages of
// one size, as the worker configures its GPU caches. A page is allocated
// on first use, so a cache configured as large as a GPU's (21.5 GiB by
// default) costs only what models actually occupy.
type PageStore struct {
	size int64
	mu   sync.Mutex
	// pages[i] is nil until page i is first used.
	pages [][]byte
}

// NewPageStore returns a cache of n pages of size bytes.
func NewPageStore(size int64, n int) *PageStore {
	return &PageStore{size: size, pages: make([][]byte, n)}
}

// Len is the number of pages.
func (s *PageStore) Len() int { return len(s.pages) }

// Allocated is the number of pages allocated so far.
func (s *PageStore) Allocated() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, p := range s.pages {
		if p != nil {
			n++
		}
	}
	return n
}

// Page returns page i, allocating it on first use.
func (s *PageStore) Page(i int) ([]byte, error) {
	if i < 0 || i >= len(s.pages) {
		return nil, fmt.Errorf("page %d outside the cache (%d pages)", i, len(s.pages))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pages[i] == nil {
		s.pages[i] = make([]byte, s.size)
	}
	return s.pages[i], nil
}
