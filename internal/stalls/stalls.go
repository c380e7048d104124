// Package stalls watches a machine for the moments when a thread that is
// due to run does not. A Probe's threads, each pinned to one CPU, sleep a
// millisecond at a time with a timer slack of 1 ns and record every wake
// later than a threshold: a Stall.
//
// The GPU check needs this to read its end-to-end tails. An inference
// that took 2 ms more than its row's median somewhere between two
// processes on one host was delayed either by something of ours (a
// collection, a goroutine not scheduled, a lock) or by the machine, which
// delays every thread alike and which no code of ours can hide. A stall
// seen by a thread that does nothing but sleep is the machine's.
//
// Linux also says how long a thread waited in the run queue
// (/proc/thread-self/schedstat), which splits stalls in two: Busy ones,
// where the probe's thread was runnable but the CPU ran another (the
// machine was loaded, possibly by our own processes), and the others,
// where the kernel saw no wait at all: the time went where no thread of
// the guest could run (on a virtual machine, its virtual CPU was not
// running; or interrupts held the CPU).
package stalls

import (
	"cmp"
	"errors"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clockwork-go/clockwork/internal/clock"
)

// Defaults of Config.
const (
	DefaultPeriod    = time.Millisecond
	DefaultThreshold = 200 * time.Microsecond
)

// A Stall is one late wake of a probe thread.
type Stall struct {
	At     int64 // when the thread was due to wake, on the process clock (ns)
	Late   int64 // how much later it ran (ns)
	Queued int64 // how long it waited in the run queue meanwhile (ns); -1 if unknown
	CPU    int   // the CPU its thread is pinned to; -1 if none
}

// End is when the late thread ran.
func (s Stall) End() int64 { return s.At + s.Late }

// Busy reports whether the thread spent at least half of the delay
// runnable in the run queue: another thread had its CPU.
func (s Stall) Busy() bool { return s.Queued >= 0 && 2*s.Queued >= s.Late }

// Config sets up a Probe.
type Config struct {
	// CPUs has one probe thread pinned to each CPU listed, -1 for a
	// thread left unpinned. Empty: the first and the last CPU the process
	// may run on (one thread if it may run on only one).
	CPUs      []int
	Period    time.Duration // each sleep (0: DefaultPeriod)
	Threshold time.Duration // a wake later than this is a stall (0: DefaultThreshold)
	// Now is the clock Stall.At is read on; nil: the process clock
	// (internal/clock.Now).
	Now func() int64
}

// A Probe watches for stalls until it is stopped.
type Probe struct {
	cfg    Config
	stop   atomic.Bool
	wg     sync.WaitGroup
	mu     sync.Mutex
	stalls []Stall
	wakes  int64
}

// Start starts a probe's threads. It fails, with none left running, if a
// thread could not be pinned to its CPU.
func Start(cfg Config) (*Probe, error) {
	if cfg.Period <= 0 {
		cfg.Period = DefaultPeriod
	}
	if cfg.Threshold <= 0 {
		cfg.Threshold = DefaultThreshold
	}
	if len(cfg.CPUs) == 0 {
		cfg.CPUs = defaultCPUs()
	}
	if cfg.Now == nil {
		cfg.Now = clock.Now
	}
	p := &Probe{cfg: cfg}
	errs := make(chan error, len(cfg.CPUs))
	for _, cpu := range cfg.CPUs {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			runtime.LockOSThread() // never unlocked: the thread exits with the goroutine, pinned and slack changed
			th, err := newOSThread(cpu, cfg.Now)
			errs <- err
			if err != nil {
				return
			}
			defer th.close()
			p.watch(th, cpu)
		}()
	}
	var err error
	for range cfg.CPUs {
		err = errors.Join(err, <-errs)
	}
	if err != nil {
		p.Stop()
		return nil, err
	}
	return p, nil
}

// CPUs are the CPUs the probe's threads are pinned to (-1: unpinned).
func (p *Probe) CPUs() []int { return slices.Clone(p.cfg.CPUs) }

// Period is the probe threads' sleep.
func (p *Probe) Period() time.Duration { return p.cfg.Period }

// Threshold is the lateness above which a wake is a stall.
func (p *Probe) Threshold() time.Duration { return p.cfg.Threshold }

// Stop stops the probe's threads and waits for them (at most a period).
func (p *Probe) Stop() {
	p.stop.Store(true)
	p.wg.Wait()
}

// Stalls returns the stalls so far, in the order of their At.
func (p *Probe) Stalls() []Stall {
	p.mu.Lock()
	s := slices.Clone(p.stalls)
	p.mu.Unlock()
	slices.SortFunc(s, func(a, b Stall) int { return cmp.Compare(a.At, b.At) })
	return s
}

// Wakes is how many times the probe's threads have woken so far.
func (p *Probe) Wakes() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.wakes
}

// A thread is what a probe thread needs of the OS thread it runs on.
type thread interface {
	now() int64
	sleep(d time.Duration)
	queued() int64 // time spent runnable in the run queue so far (ns); -1 if unknown
}

// watch sleeps a period at a time on th until the probe stops, recording
// late wakes.
func (p *Probe) watch(th thread, cpu int) {
	period, threshold := int64(p.cfg.Period), int64(p.cfg.Threshold)
	q0 := th.queued()
	for !p.stop.Load() {
		t0 := th.now()
		th.sleep(p.cfg.Period)
		t1 := th.now()
		q1 := th.queued()
		late := t1 - t0 - period
		p.mu.Lock()
		p.wakes++
		if late > threshold {
			queued := int64(-1)
			if q0 >= 0 && q1 >= 0 {
				queued = q1 - q0
			}
			p.stalls = append(p.stalls, Stall{At: t0 + period, Late: late, Queued: queued, CPU: cpu})
		}
		p.mu.Unlock()
		q0 = q1
	}
}

// A Set holds stalls for lookups by time.
type Set struct {
	s       []Stall // in the order of At
	maxLate int64
}

// NewSet returns a set of ss.
func NewSet(ss []Stall) *Set {
	set := &Set{s: slices.Clone(ss)}
	slices.SortFunc(set.s, func(a, b Stall) int { return cmp.Compare(a.At, b.At) })
	for _, s := range set.s {
		set.maxLate = max(set.maxLate, s.Late)
	}
	return set
}

// All returns the set's stalls in the order of their At.
func (set *Set) All() []Stall { return slices.Clone(set.s) }

// Within returns the stalls that overlap the interval [lo, hi], in the
// order of their At.
func (set *Set) Within(lo, hi int64) []Stall {
	end, _ := slices.BinarySearchFunc(set.s, hi+1, func(s Stall, t int64) int { return cmp.Compare(s.At, t) })
	start, _ := slices.BinarySearchFunc(set.s[:end], lo-set.maxLate, func(s Stall, t int64) int { return cmp.Compare(s.At, t) })
	var out []Stall
	for _, s := range set.s[start:end] {
		if lo <= s.End() {
			out = append(out, s)
		}
	}
	return out
}

// Together reports whether s overlaps a stall of another CPU's thread in
// the set: the machine stalled as a whole, not one CPU.
func (set *Set) Together(s Stall) bool {
	return slices.ContainsFunc(set.Within(s.At, s.End()), func(o Stall) bool { return o.CPU != s.CPU })
}
