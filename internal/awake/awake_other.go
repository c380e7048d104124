//go:build !linux || !cgo

package awake

// Spinners are the spinning threads of one Start: none in this build.
type Spinners struct{}

// Start fails: this build cannot keep CPUs awake.
func Start(cpus []int) (*Spinners, error) { return nil, ErrUnsupported }

// Stop does nothing.
func (s *Spinners) Stop() {}
