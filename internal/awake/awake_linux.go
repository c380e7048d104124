//go:build linux && cgo

package awake

/*
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	int n;
	volatile int stop;
	volatile int ready; // threads that reached their loop, or failed
	int err;            // the first failure's errno
	int errCPU;
	pthread_t *threads;
	int *cpus;
} cw_awake;

static void cw_awake_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

typedef struct {
	cw_awake *a;
	int cpu;
} cw_awake_arg;

static void *cw_awake_run(void *p) {
	cw_awake_arg arg = *(cw_awake_arg *)p;
	free(p);
	cw_awake *a = arg.a;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(arg.cpu, &set);
	int e = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
	if (e == 0) {
		struct sched_param sp;
		memset(&sp, 0, sizeof sp);
		e = pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
	}
	if (e != 0 && __sync_bool_compare_and_swap(&a->err, 0, e)) {
		a->errCPU = arg.cpu;
	}
	__sync_fetch_and_add(&a->ready, 1);
	if (e != 0) {
		return NULL;
	}
	while (!a->stop) {
		cw_awake_pause();
	}
	return NULL;
}

// cw_awake_start starts a spinning thread on each of cpus and waits until
// each spins or failed; NULL if it could not start them all (*err and
// *errCPU say why; every thread started is stopped).
static cw_awake *cw_awake_start(const int *cpus, int n, int *err, int *errCPU) {
	cw_awake *a = calloc(1, sizeof *a);
	if (!a) {
		*err = 12; // ENOMEM
		return NULL;
	}
	a->threads = calloc(n, sizeof(pthread_t));
	a->cpus = calloc(n, sizeof(int));
	if (!a->threads || !a->cpus) {
		free(a->threads), free(a->cpus), free(a);
		*err = 12;
		return NULL;
	}
	memcpy(a->cpus, cpus, n * sizeof(int));
	for (int i = 0; i < n; i++) {
		cw_awake_arg *arg = malloc(sizeof *arg);
		int e = arg ? 0 : 12;
		if (arg) {
			arg->a = a;
			arg->cpu = cpus[i];
			e = pthread_create(&a->threads[i], NULL, cw_awake_run, arg);
			if (e != 0) {
				free(arg);
			}
		}
		if (e != 0) {
			a->err = e;
			a->errCPU = cpus[i];
			break;
		}
		a->n++;
	}
	while (a->ready < a->n) {
		cw_awake_pause();
	}
	*err = a->err;
	*errCPU = a->errCPU;
	if (a->err != 0) {
		a->stop = 1;
		for (int i = 0; i < a->n; i++) {
			pthread_join(a->threads[i], NULL);
		}
		free(a->threads), free(a->cpus), free(a);
		return NULL;
	}
	return a;
}

static void cw_awake_stop(cw_awake *a) {
	a->stop = 1;
	for (int i = 0; i < a->n; i++) {
		pthread_join(a->threads[i], NULL);
	}
	free(a->threads), free(a->cpus), free(a);
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
// SCHED_IDLE, and returns once all of them spin.
func Start(cpus []int) (*Spinners, error) {
	if len(cpus) == 0 {
		return nil, fmt.Errorf("awake: no CPU to keep awake")
	}
	cc := make([]C.int, len(cpus))
	for i, c := range cpus {
		cc[i] = C.int(c)
	}
	var e, cpu C.int
	a := C.cw_awake_start(&cc[0], C.int(len(cc)), &e, &cpu)
	if a == nil {
		return nil, fmt.Errorf("awake: CPU %d: %w", int(cpu), syscall.Errno(e))
	}
	return &Spinners{a: a}, nil
}

// Stop ends the threads and waits for them. It may be called more than
// once.
func (s *Spinners) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.a != nil {
		C.cw_awake_stop(s.a)
		s.a = nil
	}
}
