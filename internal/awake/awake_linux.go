//go:build linux && cgo

package awake

/*
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

// The threads of one Start share this; the last to end frees it.
typedef struct {
	int stop;
	int live;
} cw_awake;

static void cw_awake_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

static void *cw_awake_run(void *p) {
	cw_awake *a = p;
	while (!__atomic_load_n(&a->stop, __ATOMIC_RELAXED)) {
		cw_awake_pause();
	}
	if (__atomic_sub_fetch(&a->live, 1, __ATOMIC_ACQ_REL) == 0) {
		free(a);
	}
	return NULL;
}

// cw_awake_stop tells the threads to end and returns at once: a thread
// of the lowest priority on a busy CPU may take a while to see it.
static void cw_awake_stop(cw_awake *a) {
	__atomic_store_n(&a->stop, 1, __ATOMIC_RELEASE);
	if (__atomic_sub_fetch(&a->live, 1, __ATOMIC_ACQ_REL) == 0) { // the starter's share
		free(a);
	}
}

// cw_awake_start starts a detached thread on each of cpus, pinned to it
// from its creation, with every signal blocked (a process's signals go
// to threads that run), and makes it SCHED_IDLE. On a failure it returns
// NULL with *err (an errno) and *errCPU; the threads started end.
static cw_awake *cw_awake_start(const int *cpus, int n, int *err, int *errCPU) {
	cw_awake *a = calloc(1, sizeof *a);
	if (!a) {
		*err = 12; // ENOMEM
		*errCPU = cpus[0];
		return NULL;
	}
	a->live = 1; // the starter's share, until Stop
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int e = 0;
	for (int i = 0; i < n && e == 0; i++) {
		pthread_attr_t attr;
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(cpus[i], &set);
		pthread_t t;
		struct sched_param sp;
		memset(&sp, 0, sizeof sp);
		e = pthread_attr_init(&attr);
		if (e != 0) {
			*err = e;
			*errCPU = cpus[i];
			break;
		}
		e = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (e == 0) {
			e = pthread_attr_setaffinity_np(&attr, sizeof set, &set);
		}
		// SCHED_OTHER from the start, not the creator's policy (under
		// chrt -f a spinner would start as SCHED_FIFO).
		if (e == 0) {
			e = pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
		}
		if (e == 0) {
			e = pthread_attr_setschedpolicy(&attr, SCHED_OTHER);
		}
		if (e == 0) {
			e = pthread_attr_setschedparam(&attr, &sp);
		}
		if (e == 0) {
			__atomic_add_fetch(&a->live, 1, __ATOMIC_ACQ_REL);
			e = pthread_create(&t, &attr, cw_awake_run, a);
			if (e != 0) {
				__atomic_sub_fetch(&a->live, 1, __ATOMIC_ACQ_REL);
			} else {
				// Not in attr: glibc takes only SCHED_OTHER, FIFO and RR
				// there. The thread cannot have ended: stop is not set.
				e = pthread_setschedparam(t, SCHED_IDLE, &sp);
			}
		}
		pthread_attr_destroy(&attr);
		if (e != 0) {
			*err = e;
			*errCPU = cpus[i];
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		cw_awake_stop(a);
		return NULL;
	}
	return a;
}
*/
import "C"

import (
	"fmt"
	"sync"
	"syscall"
)

// Spinners are the spinning threads of one Start.
type Spinners struct {
	mu sync.Mutex
	a  *C.cw_awake // nil once stopped
}

// Start starts a spinning thread on each of cpus, pinned to it and
// SCHED_IDLE.
func Start(cpus []int) (*Spinners, error) {
	if len(cpus) == 0 {
		return nil, fmt.Errorf("no CPU to keep awake")
	}
	cc := make([]C.int, len(cpus))
	for i, c := range cpus {
		if c < 0 || c >= C.CPU_SETSIZE {
			return nil, fmt.Errorf("CPU %d out of range", c)
		}
		cc[i] = C.int(c)
	}
	var e, cpu C.int
	a := C.cw_awake_start(&cc[0], C.int(len(cc)), &e, &cpu)
	if a == nil {
		return nil, fmt.Errorf("CPU %d: %w", int(cpu), syscall.Errno(e))
	}
	return &Spinners{a: a}, nil
}

// Stop tells the threads to end and returns at once (a thread of the
// lowest priority on a busy CPU may take a while to see it; they stop
// spinning as soon as they run). It may be called more than once. The
// process's exit waits for them likewise, with or without Stop: on a
// CPU busy with other work, seconds.
func (s *Spinners) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.a != nil {
		C.cw_awake_stop(s.a)
		s.a = nil
	}
}
