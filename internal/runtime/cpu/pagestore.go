package cpu

import (
	"fmt"
	"sync"
)

// PageStore is the CPU device's weights cache: a fixed number of pages of
// one size, as the worker configures its GPU caches. A page is allocated
// on first use, so a cache configured as large as a GPU's (21.5 GiB by
// default) costs only what models actually occupy.
//
// Each page has a lock: an inference reads its pages under their read
// locks, and a LoadWeights writes a page under its write lock, so that a
// reload into pages an inference reads (the worker reloads resident weights
// in place, and refills freed pages) waits for that inference and no other.
type PageStore struct {
	size int64
	mu   sync.Mutex // guards the allocation of pages
	// pages[i] is nil until page i is first used.
	pages [][]byte
	locks []sync.RWMutex
}

// NewPageStore returns a cache of n pages of size bytes.
func NewPageStore(size int64, n int) *PageStore {
	return &PageStore{size: size, pages: make([][]byte, n), locks: make([]sync.RWMutex, n)}
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

// page returns page i, allocating it on first use.
func (s *PageStore) page(i int) ([]byte, error) {
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

// Write copies src into page i, once no inference reads it.
func (s *PageStore) Write(i int, src []byte) error {
	dst, err := s.page(i)
	if err != nil {
		return err
	}
	s.locks[i].Lock()
	copy(dst, src)
	s.locks[i].Unlock()
	return nil
}

// Read read-locks pages and puts them in bufs (as long); Done unlocks them.
func (s *PageStore) Read(pages []int, bufs [][]byte) error {
	for i, p := range pages {
		buf, err := s.page(p)
		if err != nil {
			s.Done(pages[:i])
			return err
		}
		s.locks[p].RLock()
		bufs[i] = buf
	}
	return nil
}

// Done read-unlocks pages, which Read locked.
func (s *PageStore) Done(pages []int) {
	for _, p := range pages {
		s.locks[p].RUnlock()
	}
}
