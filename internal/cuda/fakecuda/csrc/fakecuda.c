/*
 * fakecuda: a stand-in for libcuda.so.1, libcudnn.so.9, libcublas.so.13,
 * libnvrtc.so.13 and libnvidia-ml.so.1 that runs on the CPU, for tests of
 * code that uses package cuda on machines without a GPU.
 *
 * Device memory is host memory. Work runs synchronously when it is queued;
 * each stream keeps a virtual GPU clock that every piece of work advances
 * by a modelled duration, so event timings are deterministic. Stream
 * capture records work into graphs that launch replays. The fake is strict
 * where the real libraries are: calls need cuInit and a current context,
 * unsafe calls during a capture fail, cuBLAS refuses to be captured without
 * a workspace (and cublasSetStream drops the workspace), and parameters are
 * checked. Virtual memory management is emulated with a memfd (the
 * physical allocations) mapped into reserved host address ranges, so a
 * graph that reads an unmapped range faults as it would on a GPU.
 *
 * FAKECUDA_DEVICES=N (1 to 8, default 1) makes N GPUs, each with its
 * primary context and its NVML device (PCI bus 0x3b + ordinal). A stream
 * belongs to the context current when it was made: any work queued on it
 * with another context current fails with CUDA_ERROR_INVALID_HANDLE.
 * Real GPUs refuse kernel launches so but take copies; the fake is
 * stricter, to catch code that drives a GPU from another's context.
 *
 * FAKECUDA_FAULT=D:PATH makes the first graph launch on GPU D once the
 * file PATH exists fault, as a kernel reading an illegal address does
 * (a test creates the file when it wants the fault): its work does not
 * run, and the launch and what is queued after it succeed, as on a GPU,
 * where the error shows at the next call that synchronises (an event's
 * query, synchronisation or elapsed time, a stream's or the context's
 * synchronisation). That call fails with CUDA_ERROR_ILLEGAL_ADDRESS,
 * CUDA's sticky error, and so does every later call with D's context
 * current or on an event made there. Other GPUs go on.
 * FAKECUDA_FAULT=D@CODE:PATH faults with CODE instead; 701 and 720 (a
 * launch out of resources, a cooperative launch too large) are refused
 * by that launch itself, once, as a GPU refuses them, and break nothing.
 *
 * Kernels run as CPU twins written in this file (found by name), unless
 * FAKECUDA_KERNELS=source: then the fake NVRTC compiles the source it is
 * given with the host's C++ compiler (FAKECUDA_CXX, default g++) and
 * kernelemu.h, which Build writes beside this library, and every launch
 * runs the source's own code on the CPU, a fiber per GPU thread (see
 * kernelemu.h). The compiled source is kept beside this library, named by
 * a hash of the source and the header, for later processes. A kernel that
 * fails there (a deadlock at a barrier, a shuffle with ended lanes) stops
 * the process with a message on stderr.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef unsigned long long dptr;

#define CU_OK 0
#define CU_INVALID_VALUE 1
#define CU_NOT_INITIALIZED 3
#define CU_NO_DEVICE 100
#define CU_INVALID_DEVICE 101
#define CU_INVALID_IMAGE 200
#define CU_INVALID_CONTEXT 201
#define CU_INVALID_HANDLE 400
#define CU_NOT_FOUND 500
#define CU_NOT_READY 600
#define CU_ILLEGAL_ADDRESS 700
#define CU_LAUNCH_OUT_OF_RESOURCES 701
#define CU_LAUNCH_TIMEOUT 702
#define CU_LAUNCH_FAILED 719
#define CU_COOPERATIVE_TOO_LARGE 720
#define CU_CAPTURE_UNSUPPORTED 900
#define CU_CAPTURE_INVALIDATED 901
#define CU_UPDATE_FAILURE 910

/* ---------------------------------------------------------------- work */

enum { OP_COPY, OP_SET8, OP_SET32, OP_RECORD, OP_WAIT, OP_CONV, OP_ACT, OP_POOL, OP_ADD, OP_SOFTMAX, OP_GAP, OP_SCALE, OP_GEMM, OP_KERNEL };

/* Arguments of a launch of one of the runtime's kernels (see "kernels"
 * below), packed as the kernel's parameter list lays them out. */
#define KERNEL_ARGS 1024

typedef struct {
	int nd;
	int dims[8], strides[8];
	int dtype;
} tensor;

typedef struct {
	int k, c, h, w;
	int dtype, format;
} filter;

typedef struct {
	int padh, padw, u, v, dilh, dilw, mode, compute, groups, math;
} convd;

typedef struct {
	int mode, nan;
	double coef;
} actd;

typedef struct {
	int mode, nan, wh, ww, padh, padw, sh, sw;
} poold;

typedef struct event event;

typedef struct {
	int kind;
	long long cost; /* ns of virtual GPU time */
	union {
		struct {
			void *dst;
			const void *src;
			size_t n;
		} copy;
		struct {
			void *dst;
			unsigned v;
			size_t n;
		} set;
		event *ev;
		struct {
			const volatile unsigned *addr;
			unsigned value, flags;
		} wait;
		struct {
			tensor x, z, b, y;
			filter w;
			convd cv;
			actd act;
			dptr xp, wp, zp, bp, yp;
			float alpha1, alpha2;
			int fused;
		} conv;
		struct {
			tensor x, y;
			actd act;
			poold pool;
			dptr xp, yp;
			float alpha, beta;
			int algo, mode;
		} unary;
		struct {
			dptr x, y;
			int planes, hw, threads, max;
			float scale;
		} gap;
		struct {
			dptr x;
			int n, threads;
			float k;
		} scale;
		struct {
			int ta, tb, m, n, k, lda, ldb, ldc;
			float alpha, beta;
			dptr a, b, c;
		} gemm;
		struct {
			int fn;
			unsigned char args[KERNEL_ARGS];
			/* the compiled source's launcher (FAKECUDA_KERNELS=source), or NULL */
			int (*launch)(const unsigned char *, const unsigned *, const unsigned *, char *, size_t);
			unsigned grid[3], block[3];
		} kernel;
	} u;
} op;

typedef struct {
	op *ops;
	int n, cap;
	int invalid;
} graph;

typedef struct {
	void *ctx; /* the context it was made in (NULL: the legacy stream) */
	long long clock;
	graph *capture;
	int mode;
	pthread_t thread;
	graph held; /* work queued behind a wait not yet met, in order; under hmu */
} stream;

struct event {
	void *ctx; /* the context it was made in */
	long long t;
	int recorded;
	int held; /* records of it held behind a wait; under hmu */
};

static stream legacy;
static stream *S(void *s) { return s != NULL ? s : &legacy; }

static int initialized;
static __thread void *current;
#define MAXDEV 8
static char primary_ctx[MAXDEV];
static unsigned primary_flags[MAXDEV];
static int ndev;
static pthread_once_t ndev_once = PTHREAD_ONCE_INIT;

/* The injected fault (FAKECUDA_FAULT): GPU fault_dev's first graph
 * launch once the file fault_path exists; faulted[d] is 1 once GPU d's
 * context met it (2 once a launch refused it), broken[d] once a call that
 * synchronises showed it. */
static int fault_dev = -1, fault_code = CU_ILLEGAL_ADDRESS;
static char fault_path[4096];
static int faulted[MAXDEV], broken[MAXDEV];

/* emulate_source: FAKECUDA_KERNELS=source, kernels run their CUDA source. */
static int emulate_source;

static void count_devices(void) {
	const char *v = getenv("FAKECUDA_DEVICES");
	int n = v != NULL ? atoi(v) : 1;
	ndev = n < 1 ? 1 : n > MAXDEV ? MAXDEV : n;
	const char *f = getenv("FAKECUDA_FAULT");
	int d, code = CU_ILLEGAL_ADDRESS, at = 0;
	if (f != NULL && (sscanf(f, "%d@%d:%n", &d, &code, &at) == 2 || sscanf(f, "%d:%n", &d, &at) == 1) && at > 0 &&
	    f[at] != 0 && d >= 0 && d < ndev && code > 0 && strlen(f + at) < sizeof fault_path) {
		fault_dev = d;
		fault_code = code;
		strcpy(fault_path, f + at);
	} else if (f != NULL && *f != 0) {
		fprintf(stderr, "fakecuda: ignoring FAKECUDA_FAULT=%s (want GPU[@CODE]:PATH, as 1:/tmp/fault)\n", f);
	}
	const char *k = getenv("FAKECUDA_KERNELS");
	emulate_source = k != NULL && strcmp(k, "source") == 0;
	if (k != NULL && *k != 0 && !emulate_source && strcmp(k, "twins") != 0) {
		fprintf(stderr, "fakecuda: ignoring FAKECUDA_KERNELS=%s (want source or twins)\n", k);
	}
}

/* devices is the number of fake GPUs (FAKECUDA_DEVICES). */
static int devices(void) {
	pthread_once(&ndev_once, count_devices);
	return ndev;
}

#define BAD_DEV(d) ((d) < 0 || (d) >= devices())
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int global_captures;             /* streams capturing in global mode */
static __thread int thread_captures;    /* streams this thread captures in thread-local mode */

static void run(op *o);

static void append(graph *g, const op *o) {
	if (g->n == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 16;
		g->ops = realloc(g->ops, g->cap * sizeof(op));
	}
	g->ops[g->n++] = *o;
}

/* Waits on memory (cuStreamWaitValue32). The fake cannot see the host
 * write the word, so a stream whose wait is not met when it is queued
 * holds that work and all work queued after it, and runs it once the wait
 * is met, checked whenever work is queued or an event or stream is
 * queried or synchronised (release_held). The streams holding work are
 * listed in holders; hmu guards every stream's held work and every event's
 * held count. */
static pthread_mutex_t hmu = PTHREAD_MUTEX_INITIALIZER;
static stream *holders[64];
static int nholders;

static int met(const op *o) {
	unsigned v = *o->u.wait.addr, want = o->u.wait.value;
	switch (o->u.wait.flags) {
	case 0: return (int)(v - want) >= 0; /* CU_STREAM_WAIT_VALUE_GEQ, cyclic */
	case 1: return v == want;            /* EQ */
	case 2: return (v & want) != 0;      /* AND */
	default: return ~(v | want) != 0;    /* NOR */
	}
}

static void execute(stream *st, op *o) {
	switch (o->kind) {
	case OP_RECORD:
		o->u.ev->t = st->clock;
		o->u.ev->recorded = 1;
		return;
	case OP_WAIT:
		return;
	}
	run(o);
	st->clock += o->cost;
}

/* release_held_locked runs the held work whose waits are now met; under hmu. */
static void release_held_locked(void) {
	for (int i = 0; i < nholders;) {
		stream *st = holders[i];
		int k = 0;
		while (k < st->held.n && (st->held.ops[k].kind != OP_WAIT || met(&st->held.ops[k]))) {
			op *o = &st->held.ops[k++];
			if (o->kind == OP_RECORD) o->u.ev->held--;
			execute(st, o);
		}
		memmove(st->held.ops, st->held.ops + k, (size_t)(st->held.n - k) * sizeof(op));
		st->held.n -= k;
		if (st->held.n == 0) {
			holders[i] = holders[--nholders];
		} else {
			i++;
		}
	}
}

/* hold keeps o on st behind an unmet wait; under hmu. */
static int hold(stream *st, op *o) {
	if (st->held.n == 0) {
		if (nholders == (int)(sizeof holders / sizeof holders[0])) return CU_INVALID_VALUE;
		holders[nholders++] = st;
	}
	if (o->kind == OP_RECORD) o->u.ev->held++;
	append(&st->held, o);
	return CU_OK;
}

/* foreign says whether s was made in a context other than the current one. */
static int foreign(void *s) { return s != NULL && ((stream *)s)->ctx != current; }

static int submit(void *s, op *o) {
	stream *st = S(s);
	if (foreign(s)) return CU_INVALID_HANDLE;
	if (st->capture != NULL) {
		append(st->capture, o);
		return CU_OK;
	}
	pthread_mutex_lock(&hmu);
	release_held_locked();
	if (st->held.n > 0 || (o->kind == OP_WAIT && !met(o))) {
		int rc = hold(st, o);
		pthread_mutex_unlock(&hmu);
		return rc;
	}
	pthread_mutex_unlock(&hmu);
	execute(st, o);
	return CU_OK;
}

static double now_s(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* await waits for what is held by test(arg) to run: a real GPU would wait
 * for ever for a word nobody writes, the fake gives up after 1 s with
 * CUDA_ERROR_LAUNCH_TIMEOUT, saying so. */
static int await(int (*test)(void *), void *arg, const char *what) {
	for (double deadline = now_s() + 1;;) {
		pthread_mutex_lock(&hmu);
		release_held_locked();
		int busy = test(arg);
		pthread_mutex_unlock(&hmu);
		if (!busy) return CU_OK;
		if (now_s() > deadline) break;
		usleep(50);
	}
	fprintf(stderr, "fakecuda: %s waits on a cuStreamWaitValue32 not met after 1 s (a GPU would wait for ever)\n", what);
	return CU_LAUNCH_TIMEOUT;
}

static int stream_holds(void *st) { return ((stream *)st)->held.n > 0; }
static int event_held(void *e) { return ((event *)e)->held > 0; }
static int any_holds(void *unused) {
	(void)unused;
	return nholders > 0;
}

/* unsafe is whether a call that may synchronise or allocate must fail now
 * because of a capture. */
static int unsafe(void) {
	pthread_mutex_lock(&mu);
	int g = global_captures;
	pthread_mutex_unlock(&mu);
	return g > 0 || thread_captures > 0;
}

/* is_broken says whether ctx met the injected fault and a call that
 * synchronises showed it. */
static int is_broken(void *ctx) {
	return ctx != NULL && __atomic_load_n(&broken[(char *)ctx - primary_ctx], __ATOMIC_ACQUIRE);
}

/* synced is called by the calls that synchronise with ctx's work: the
 * fault it met shows now. It says whether ctx is broken. */
static int synced(void *ctx) {
	if (ctx == NULL) return 0;
	int d = (int)((char *)ctx - primary_ctx);
	if (__atomic_load_n(&faulted[d], __ATOMIC_ACQUIRE) == 1) __atomic_store_n(&broken[d], 1, __ATOMIC_RELEASE);
	return is_broken(ctx);
}

#define NEED_INIT() \
	if (!initialized) return CU_NOT_INITIALIZED
#define NEED_CTX() \
	NEED_INIT(); \
	if (current == NULL) return CU_INVALID_CONTEXT; \
	if (is_broken(current)) return fault_code

/* ------------------------------------------------------------ driver */

int cuInit(unsigned flags) {
	if (flags != 0) return CU_INVALID_VALUE;
	initialized = 1;
	return CU_OK;
}

int cuDriverGetVersion(int *v) {
	*v = 13000;
	return CU_OK;
}

static const char *names[][2] = {
	{"CUDA_SUCCESS", "no error"},
	{"CUDA_ERROR_INVALID_VALUE", "invalid argument"},
	{"CUDA_ERROR_NOT_INITIALIZED", "initialization error"},
	{"CUDA_ERROR_INVALID_CONTEXT", "invalid device context"},
	{"CUDA_ERROR_INVALID_HANDLE", "invalid resource handle"},
	{"CUDA_ERROR_NOT_FOUND", "named symbol not found"},
	{"CUDA_ERROR_NOT_READY", "device not ready"},
	{"CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED", "operation not permitted when stream is capturing"},
	{"CUDA_ERROR_STREAM_CAPTURE_INVALIDATED", "operation failed due to a previous error during capture"},
	{"CUDA_ERROR_GRAPH_EXEC_UPDATE_FAILURE", "the graph update was not performed"},
	{"CUDA_ERROR_INVALID_IMAGE", "device kernel image is invalid"},
	{"CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure"},
	{"CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"},
	{"CUDA_ERROR_LAUNCH_TIMEOUT", "the launch timed out and was terminated"},
	{"CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered"},
	{"CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES", "too many resources requested for launch"},
	{"CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE", "too many blocks in cooperative launch"},
};
static const int codes[] = {0, 1, 3, 201, 400, 500, 600, 900, 901, 910, 200, 719, 101, 702, 700, 701, 720};

static int error_index(int e) {
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		if (codes[i] == e) return (int)i;
	}
	return -1;
}

int cuGetErrorName(int e, const char **s) {
	int i = error_index(e);
	*s = i < 0 ? NULL : names[i][0];
	return i < 0 ? CU_INVALID_VALUE : CU_OK;
}

int cuGetErrorString(int e, const char **s) {
	int i = error_index(e);
	*s = i < 0 ? NULL : names[i][1];
	return i < 0 ? CU_INVALID_VALUE : CU_OK;
}

int cuDeviceGetCount(int *n) {
	NEED_INIT();
	*n = devices();
	return CU_OK;
}

int cuDeviceGet(int *d, int ordinal) {
	NEED_INIT();
	if (BAD_DEV(ordinal)) return CU_INVALID_DEVICE;
	*d = ordinal;
	return CU_OK;
}

int cuDeviceGetName(char *name, int len, int d) {
	NEED_INIT();
	if (BAD_DEV(d)) return CU_INVALID_DEVICE;
	snprintf(name, len, "Fake GPU (fakecuda)");
	return CU_OK;
}

int cuDeviceGetAttribute(int *v, int attr, int d) {
	NEED_INIT();
	if (BAD_DEV(d)) return CU_INVALID_DEVICE;
	switch (attr) {
	case 1: *v = 1024; break;       /* max threads per block */
	case 16: *v = 132; break;       /* SMs */
	case 19: *v = 1; break;         /* can map host memory */
	case 33: *v = 0x3b + d; break;  /* PCI bus */
	case 34: *v = 0; break;         /* PCI device */
	case 40: *v = 3; break;         /* async engines */
	case 41: *v = 1; break;         /* unified addressing */
	case 50: *v = 0; break;         /* PCI domain */
	case 75: *v = 9; break;         /* compute capability */
	case 76: *v = 0; break;
	case 78: *v = 1; break;         /* stream priorities */
	case 102: *v = 1; break;        /* virtual memory management */
	default: return CU_INVALID_VALUE;
	}
	return CU_OK;
}

int cuDeviceTotalMem_v2(size_t *n, int d) {
	NEED_INIT();
	if (BAD_DEV(d)) return CU_INVALID_DEVICE;
	*n = 80ull << 30;
	return CU_OK;
}

int cuDevicePrimaryCtxSetFlags_v2(int d, unsigned flags) {
	NEED_INIT();
	if (BAD_DEV(d)) return CU_INVALID_DEVICE;
	if ((flags & 7) > 4 || (flags & 7) == 3) return CU_INVALID_VALUE;
	primary_flags[d] = flags;
	return CU_OK;
}

int cuDevicePrimaryCtxRetain(void **ctx, int d) {
	NEED_INIT();
	if (BAD_DEV(d)) return CU_INVALID_DEVICE;
	*ctx = &primary_ctx[d];
	return CU_OK;
}

int cuDevicePrimaryCtxRelease_v2(int d) {
	NEED_INIT();
	return BAD_DEV(d) ? CU_INVALID_DEVICE : CU_OK;
}

int cuCtxSetCurrent(void *ctx) {
	NEED_INIT();
	if (ctx != NULL && ((char *)ctx < primary_ctx || (char *)ctx >= primary_ctx + devices())) return CU_INVALID_CONTEXT;
	current = ctx;
	return CU_OK;
}

int cuCtxGetCurrent(void **ctx) {
	NEED_INIT();
	*ctx = current;
	return CU_OK;
}

int cuCtxSetFlags(unsigned flags) {
	NEED_CTX();
	primary_flags[(char *)current - primary_ctx] = flags;
	return CU_OK;
}

int cuCtxSynchronize(void) {
	NEED_CTX();
	if (synced(current)) return fault_code;
	if (unsafe()) return CU_CAPTURE_UNSUPPORTED;
	return await(any_holds, NULL, "cuCtxSynchronize");
}

int cuCtxGetStreamPriorityRange(int *least, int *greatest) {
	NEED_CTX();
	*least = 0;
	*greatest = -5;
	return CU_OK;
}

int cuMemGetInfo_v2(size_t *free, size_t *total) {
	NEED_CTX();
	*free = 79ull << 30;
	*total = 80ull << 30;
	return CU_OK;
}

int cuMemAlloc_v2(dptr *p, size_t n) {
	NEED_CTX();
	if (unsafe()) return CU_CAPTURE_UNSUPPORTED;
	if (n == 0) return CU_INVALID_VALUE;
	void *m = aligned_alloc(256, (n + 255) & ~(size_t)255);
	if (m == NULL) return 2;
	*p = (dptr)(uintptr_t)m;
	return CU_OK;
}

int cuMemFree_v2(dptr p) {
	NEED_CTX();
	if (unsafe()) return CU_CAPTURE_UNSUPPORTED;
	free((void *)(uintptr_t)p);
	return CU_OK;
}

/* ------------------------------------------------- virtual memory (VMM) */

/* The granularity of sizes and addresses: Hopper's 2 MiB, so that what
 * passes here maps on the GPU. */
#define GRAN (2u << 20)

typedef struct { int type, id; } mem_location;
typedef struct {
	int type, handle_types;
	mem_location location;
	void *win32;
	unsigned char comp, rdma;
	unsigned short usage;
	unsigned char reserved[4];
} mem_prop;
typedef struct {
	mem_location location;
	int flags;
} mem_access;

typedef struct { size_t off, n; int released; } physical;   /* handle = index + 1 */
typedef struct { char *base; size_t n; } reservation;
typedef struct { char *p; size_t n; unsigned long long h; } mapping;

static pthread_mutex_t vmu = PTHREAD_MUTEX_INITIALIZER;
static int memfd = -1;
static size_t memfd_size;
static physical *phys;
static int nphys;
static reservation *resv;
static int nresv;
static mapping *maps;
static int nmaps;

static int prop_ok(const mem_prop *p) {
	return p != NULL && p->type == 1 && p->handle_types == 0 && p->location.type == 1 && !BAD_DEV(p->location.id);
}

int cuMemGetAllocationGranularity(size_t *g, const mem_prop *prop, int option) {
	NEED_INIT();
	if (!prop_ok(prop) || (option != 0 && option != 1)) return CU_INVALID_VALUE;
	*g = GRAN; /* minimum and recommended alike, as on Hopper */
	return CU_OK;
}

int cuMemCreate(unsigned long long *h, size_t n, const mem_prop *prop, unsigned long long flags) {
	NEED_CTX();
	if (unsafe()) return CU_CAPTURE_UNSUPPORTED;
	if (!prop_ok(prop) || flags != 0 || n == 0 || n % GRAN != 0) return CU_INVALID_VALUE;
	pthread_mutex_lock(&vmu);
	int rc = CU_OK;
	if (memfd < 0 && (memfd = memfd_create("fakecuda-vmm", 0)) < 0) rc = 2;
	if (rc == CU_OK && ftruncate(memfd, (off_t)(memfd_size + n)) != 0) rc = 2; /* out of memory */
	if (rc == CU_OK) {
		phys = realloc(phys, (nphys + 1) * sizeof *phys);
		phys[nphys++] = (physical){memfd_size, n, 0};
		memfd_size += n;
		*h = (unsigned long long)nphys;
	}
	pthread_mutex_unlock(&vmu);
	return rc;
}

/* physical_of returns the live allocation of handle h, or NULL; under vmu. */
static physical *physical_of(unsigned long long h) {
	if (h == 0 || h > (unsigned long long)nphys || phys[h - 1].released) return NULL;
	return &phys[h - 1];
}

int cuMemRelease(unsigned long long h) {
	NEED_INIT();
	pthread_mutex_lock(&vmu);
	physical *p = physical_of(h);
	if (p != NULL) p->released = 1; /* the memory lives on while mapped */
	pthread_mutex_unlock(&vmu);
	return p != NULL ? CU_OK : CU_INVALID_VALUE;
}

int cuMemAddressReserve(dptr *out, size_t n, size_t align, dptr addr, unsigned long long flags) {
	NEED_INIT();
	if (n == 0 || n % GRAN != 0 || (align != 0 && align % GRAN != 0) || addr != 0 || flags != 0) return CU_INVALID_VALUE;
	size_t a = align > GRAN ? align : GRAN;
	char *m = mmap(NULL, n + a, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED) return 2;
	char *base = (char *)(((uintptr_t)m + a - 1) & ~(uintptr_t)(a - 1));
	if (base > m) munmap(m, base - m);
	munmap(base + n, (m + n + a) - (base + n));
	pthread_mutex_lock(&vmu);
	resv = realloc(resv, (nresv + 1) * sizeof *resv);
	resv[nresv++] = (reservation){base, n};
	pthread_mutex_unlock(&vmu);
	*out = (dptr)(uintptr_t)base;
	return CU_OK;
}

/* mapped_in is whether a mapping overlaps [p, p+n); under vmu. */
static int mapped_in(const char *p, size_t n) {
	for (int i = 0; i < nmaps; i++) {
		if (maps[i].p < p + n && p < maps[i].p + maps[i].n) return 1;
	}
	return 0;
}

/* addressable is whether a copy may read or write [p, p+n): outside every
 * reservation (other memory is not tracked), or wholly mapped. The driver
 * rejects a copy of reserved addresses that are not mapped with
 * CUDA_ERROR_INVALID_VALUE, at capture too. */
static int addressable(const void *ptr, size_t n) {
	const char *p = ptr;
	pthread_mutex_lock(&vmu);
	int reserved = 0;
	for (int i = 0; i < nresv && !reserved; i++) {
		reserved = resv[i].base < p + n && p < resv[i].base + resv[i].n;
	}
	size_t covered = 0;
	for (int i = 0; reserved && i < nmaps; i++) {
		const char *lo = maps[i].p > p ? maps[i].p : p;
		const char *hi = maps[i].p + maps[i].n < p + n ? maps[i].p + maps[i].n : p + n;
		if (lo < hi) covered += (size_t)(hi - lo);
	}
	pthread_mutex_unlock(&vmu);
	return !reserved || covered == n;
}

/* whole_mappings is whether [p, p+n) is exactly covered by mappings; under vmu. */
static int whole_mappings(const char *p, size_t n) {
	size_t covered = 0;
	for (int i = 0; i < nmaps; i++) {
		if (maps[i].p < p + n && p < maps[i].p + maps[i].n) {
			if (maps[i].p < p || maps[i].p + maps[i].n > p + n) return 0;
			covered += maps[i].n;
		}
	}
	return n > 0 && covered == n;
}

int cuMemAddressFree(dptr ptr, size_t n) {
	NEED_INIT();
	char *p = (char *)(uintptr_t)ptr;
	pthread_mutex_lock(&vmu);
	int rc = CU_INVALID_VALUE;
	for (int i = 0; i < nresv; i++) {
		if (resv[i].base == p && resv[i].n == n && !mapped_in(p, n)) {
			munmap(p, n);
			resv[i] = resv[--nresv];
			rc = CU_OK;
			break;
		}
	}
	pthread_mutex_unlock(&vmu);
	return rc;
}

int cuMemMap(dptr ptr, size_t n, size_t off, unsigned long long h, unsigned long long flags) {
	NEED_INIT();
	char *p = (char *)(uintptr_t)ptr;
	if (off != 0 || flags != 0 || n == 0 || n % GRAN != 0 || (uintptr_t)p % GRAN != 0) return CU_INVALID_VALUE;
	pthread_mutex_lock(&vmu);
	int rc = CU_INVALID_VALUE;
	physical *ph = physical_of(h);
	int inside = 0;
	for (int i = 0; i < nresv; i++) {
		inside |= resv[i].base <= p && p + n <= resv[i].base + resv[i].n;
	}
	if (ph != NULL && n <= ph->n && inside && !mapped_in(p, n) &&
	    mmap(p, n, PROT_NONE, MAP_SHARED | MAP_FIXED, memfd, (off_t)ph->off) != MAP_FAILED) {
		maps = realloc(maps, (nmaps + 1) * sizeof *maps);
		maps[nmaps++] = (mapping){p, n, h};
		rc = CU_OK;
	}
	pthread_mutex_unlock(&vmu);
	return rc;
}

int cuMemUnmap(dptr ptr, size_t n) {
	NEED_INIT();
	char *p = (char *)(uintptr_t)ptr;
	pthread_mutex_lock(&vmu);
	int rc = CU_INVALID_VALUE;
	if (whole_mappings(p, n) &&
	    mmap(p, n, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0) != MAP_FAILED) {
		for (int i = 0; i < nmaps;) {
			if (maps[i].p >= p && maps[i].p < p + n) {
				maps[i] = maps[--nmaps];
			} else {
				i++;
			}
		}
		rc = CU_OK;
	}
	pthread_mutex_unlock(&vmu);
	return rc;
}

int cuMemSetAccess(dptr ptr, size_t n, const mem_access *desc, size_t count) {
	NEED_INIT();
	char *p = (char *)(uintptr_t)ptr;
	if (count != 1 || desc == NULL || desc->location.type != 1) return CU_INVALID_VALUE;
	if (BAD_DEV(desc->location.id)) return CU_INVALID_DEVICE;
	int prot = desc->flags == 3 ? PROT_READ | PROT_WRITE : desc->flags == 1 ? PROT_READ : desc->flags == 0 ? PROT_NONE : -1;
	if (prot < 0) return CU_INVALID_VALUE;
	pthread_mutex_lock(&vmu);
	int rc = whole_mappings(p, n) && mprotect(p, n, prot) == 0 ? CU_OK : CU_INVALID_VALUE;
	pthread_mutex_unlock(&vmu);
	return rc;
}

/* Pinned host allocations, for cuMemHostGetDevicePointer; under hostmu. */
static struct {
	char *p;
	size_t n;
} *hosts;
static int nhosts, caphosts;
static pthread_mutex_t hostmu = PTHREAD_MUTEX_INITIALIZER;

int cuMemHostAlloc(void **p, size_t n, unsigned flags) {
	NEED_CTX();
	if (unsafe()) return CU_CAPTURE_UNSUPPORTED;
	if (flags > 7) return CU_INVALID_VALUE;
	*p = aligned_alloc(4096, (n + 4095) & ~(size_t)4095);
	if (*p == NULL) return 2;
	pthread_mutex_lock(&hostmu);
	if (nhosts == caphosts) {
		caphosts = caphosts ? 2 * caphosts : 16;
		hosts = realloc(hosts, (size_t)caphosts * sizeof *hosts);
	}
	hosts[nhosts].p = *p;
	hosts[nhosts++].n = n;
	pthread_mutex_unlock(&hostmu);
	return CU_OK;
}

int cuMemFreeHost(void *p) {
	NEED_CTX();
	pthread_mutex_lock(&hostmu);
	for (int i = 0; i < nhosts; i++) {
		if (hosts[i].p == p) hosts[i] = hosts[--nhosts];
	}
	pthread_mutex_unlock(&hostmu);
	free(p);
	return CU_OK;
}

/* With unified addressing, as on every 64-bit platform, the device
 * address of pinned host memory is its host address. */
int cuMemHostGetDevicePointer_v2(dptr *d, void *p, unsigned flags) {
	NEED_CTX();
	if (flags != 0) return CU_INVALID_VALUE;
	int found = 0;
	pthread_mutex_lock(&hostmu);
	for (int i = 0; i < nhosts && !found; i++) {
		found = hosts[i].p <= (char *)p && (char *)p < hosts[i].p + hosts[i].n;
	}
	pthread_mutex_unlock(&hostmu);
	if (!found) return CU_INVALID_VALUE;
	*d = (dptr)(uintptr_t)p;
	return CU_OK;
}

static int copy(void *dst, const void *src, size_t n, void *s, long long rate) {
	NEED_CTX();
	if (!addressable(dst, n) || !addressable(src, n)) return CU_INVALID_VALUE;
	op o = {.kind = OP_COPY, .cost = 1000 + (long long)n / rate};
	o.u.copy.dst = dst;
	o.u.copy.src = src;
	o.u.copy.n = n;
	return submit(s, &o);
}

/* Host copies run at 50 GB/s, device copies at 1 TB/s. */
int cuMemcpyHtoDAsync_v2(dptr dst, const void *src, size_t n, void *s) {
	return copy((void *)(uintptr_t)dst, src, n, s, 50);
}

int cuMemcpyDtoHAsync_v2(void *dst, dptr src, size_t n, void *s) {
	return copy(dst, (void *)(uintptr_t)src, n, s, 50);
}

int cuMemcpyDtoDAsync_v2(dptr dst, dptr src, size_t n, void *s) {
	return copy((void *)(uintptr_t)dst, (void *)(uintptr_t)src, n, s, 1000);
}

int cuMemsetD8Async(dptr dst, unsigned char v, size_t n, void *s) {
	NEED_CTX();
	if (!addressable((void *)(uintptr_t)dst, n)) return CU_INVALID_VALUE;
	op o = {.kind = OP_SET8, .cost = 1000 + (long long)n / 1000};
	o.u.set.dst = (void *)(uintptr_t)dst;
	o.u.set.v = v;
	o.u.set.n = n;
	return submit(s, &o);
}

int cuMemsetD32Async(dptr dst, unsigned v, size_t n, void *s) {
	NEED_CTX();
	if (!addressable((void *)(uintptr_t)dst, 4 * n)) return CU_INVALID_VALUE;
	op o = {.kind = OP_SET32, .cost = 1000 + (long long)n / 250};
	o.u.set.dst = (void *)(uintptr_t)dst;
	o.u.set.v = v;
	o.u.set.n = n;
	return submit(s, &o);
}

int cuStreamCreateWithPriority(void **s, unsigned flags, int prio) {
	NEED_CTX();
	if (flags > 1 || prio > 0 || prio < -5) return CU_INVALID_VALUE;
	stream *st = calloc(1, sizeof(stream));
	st->ctx = current;
	*s = st;
	return CU_OK;
}

/* A stream destroyed while it holds work drops the work (a GPU would run
 * it once the wait is met). */
int cuStreamDestroy_v2(void *s) {
	NEED_INIT();
	if (s == NULL) return CU_INVALID_HANDLE;
	stream *st = s;
	pthread_mutex_lock(&hmu);
	for (int i = 0; i < nholders; i++) {
		if (holders[i] == st) holders[i--] = holders[--nholders];
	}
	for (int i = 0; i < st->held.n; i++) {
		if (st->held.ops[i].kind == OP_RECORD) st->held.ops[i].u.ev->held--;
	}
	pthread_mutex_unlock(&hmu);
	free(st->held.ops);
	free(s);
	return CU_OK;
}

int cuStreamSynchronize(void *s) {
	NEED_CTX();
	if (synced(current)) return fault_code;
	if (S(s)->capture != NULL || unsafe()) return CU_CAPTURE_UNSUPPORTED;
	return await(stream_holds, S(s), "cuStreamSynchronize");
}

/* cuStreamWaitValue32_v2: GEQ, EQ, AND and NOR; the flush flag needs
 * platform support the fake does not claim, and waits are not captured. */
int cuStreamWaitValue32_v2(void *s, dptr addr, unsigned value, unsigned flags) {
	NEED_CTX();
	if (S(s)->capture != NULL) return CU_CAPTURE_UNSUPPORTED;
	if (addr == 0 || addr % 4 != 0 || flags > 3 || !addressable((void *)(uintptr_t)addr, 4)) return CU_INVALID_VALUE;
	op o = {.kind = OP_WAIT};
	o.u.wait.addr = (const volatile unsigned *)(uintptr_t)addr;
	o.u.wait.value = value;
	o.u.wait.flags = flags;
	return submit(s, &o);
}

int cuStreamBeginCapture_v2(void *s, int mode) {
	NEED_CTX();
	stream *st = S(s);
	if (s == NULL || st->capture != NULL || mode < 0 || mode > 2) return CU_INVALID_VALUE;
	if (foreign(s)) return CU_INVALID_HANDLE;
	st->capture = calloc(1, sizeof(graph));
	st->mode = mode;
	st->thread = pthread_self();
	pthread_mutex_lock(&mu);
	global_captures += mode == 0;
	pthread_mutex_unlock(&mu);
	thread_captures += mode == 1;
	return CU_OK;
}

int cuStreamEndCapture(void *s, void **g) {
	NEED_CTX();
	stream *st = S(s);
	if (st->capture == NULL) return CU_INVALID_VALUE;
	if (st->mode == 1 && !pthread_equal(st->thread, pthread_self())) return CU_INVALID_VALUE;
	pthread_mutex_lock(&mu);
	global_captures -= st->mode == 0;
	pthread_mutex_unlock(&mu);
	thread_captures -= st->mode == 1;
	graph *cap = st->capture;
	st->capture = NULL;
	if (cap->invalid) {
		free(cap->ops);
		free(cap);
		*g = NULL;
		return CU_CAPTURE_INVALIDATED;
	}
	*g = cap;
	return CU_OK;
}

int cuEventCreate(void **e, unsigned flags) {
	NEED_CTX();
	if (flags > 7) return CU_INVALID_VALUE;
	event *ev = calloc(1, sizeof(event));
	ev->ctx = current;
	*e = ev;
	return CU_OK;
}

int cuEventRecord(void *e, void *s) {
	NEED_CTX();
	if (e == NULL) return CU_INVALID_HANDLE;
	op o = {.kind = OP_RECORD};
	o.u.ev = e;
	return submit(s, &o);
}

/* Work runs when it is queued: a recorded event is complete unless its
 * record is held behind a wait. */
int cuEventQuery(void *e) {
	NEED_INIT();
	if (e == NULL) return CU_INVALID_HANDLE;
	if (synced(((event *)e)->ctx)) return fault_code;
	pthread_mutex_lock(&hmu);
	release_held_locked();
	int held = event_held(e);
	pthread_mutex_unlock(&hmu);
	return held ? CU_NOT_READY : CU_OK;
}

int cuEventSynchronize(void *e) {
	NEED_INIT();
	if (e == NULL) return CU_INVALID_HANDLE;
	if (synced(((event *)e)->ctx)) return fault_code;
	return await(event_held, e, "cuEventSynchronize");
}

int cuEventElapsedTime(float *ms, void *start, void *end) {
	NEED_INIT();
	event *a = start, *b = end;
	if (a == NULL || b == NULL) return CU_INVALID_HANDLE;
	if (synced(a->ctx) || synced(b->ctx)) return fault_code;
	pthread_mutex_lock(&hmu);
	release_held_locked();
	int held = a->held > 0 || b->held > 0;
	pthread_mutex_unlock(&hmu);
	if (held) return CU_NOT_READY;
	if (!a->recorded || !b->recorded) return CU_INVALID_HANDLE;
	*ms = (float)(b->t - a->t) / 1e6f;
	return CU_OK;
}

int cuEventDestroy_v2(void *e) {
	NEED_INIT();
	free(e);
	return CU_OK;
}

static graph *graph_clone(const graph *g) {
	graph *c = calloc(1, sizeof(graph));
	for (int i = 0; i < g->n; i++) append(c, &g->ops[i]);
	return c;
}

int cuGraphInstantiateWithFlags(void **e, void *g, unsigned long long flags) {
	NEED_CTX();
	if (g == NULL || flags > 15) return CU_INVALID_VALUE;
	*e = graph_clone(g);
	return CU_OK;
}

typedef struct {
	int result;
	void *errorNode, *errorFromNode;
} update_info;

int cuGraphExecUpdate_v2(void *e, void *g, update_info *info) {
	NEED_CTX();
	graph *x = e, *y = g;
	info->result = 0;
	info->errorNode = info->errorFromNode = NULL;
	if (x == NULL || y == NULL) return CU_INVALID_VALUE;
	if (x->n != y->n) {
		info->result = 2; /* topology changed */
		return CU_UPDATE_FAILURE;
	}
	for (int i = 0; i < x->n; i++) {
		if (x->ops[i].kind != y->ops[i].kind) {
			info->result = 3; /* node type changed */
			return CU_UPDATE_FAILURE;
		}
	}
	for (int i = 0; i < x->n; i++) x->ops[i] = y->ops[i];
	return CU_OK;
}

int cuGraphUpload(void *e, void *s) {
	NEED_CTX();
	(void)s;
	return e != NULL ? CU_OK : CU_INVALID_HANDLE;
}

int cuGraphLaunch(void *e, void *s) {
	NEED_CTX();
	graph *g = e;
	if (g == NULL || foreign(s)) return CU_INVALID_HANDLE;
	stream *st = S(s);
	if (st->capture != NULL) return CU_CAPTURE_UNSUPPORTED;
	int d = (int)((char *)current - primary_ctx);
	devices(); /* reads FAKECUDA_FAULT */
	if (d == fault_dev && !__atomic_load_n(&faulted[d], __ATOMIC_ACQUIRE) && access(fault_path, F_OK) == 0) {
		if (fault_code == CU_LAUNCH_OUT_OF_RESOURCES || fault_code == CU_COOPERATIVE_TOO_LARGE) {
			__atomic_store_n(&faulted[d], 2, __ATOMIC_RELEASE); /* refused once; nothing broken */
			return fault_code;
		}
		__atomic_store_n(&faulted[d], 1, __ATOMIC_RELEASE);
		return CU_OK; /* the fault shows at the next call that synchronises */
	}
	for (int i = 0; i < g->n; i++) submit(s, &g->ops[i]);
	return CU_OK;
}

static void free_graph(graph *g) {
	if (g != NULL) free(g->ops);
	free(g);
}

int cuGraphExecDestroy(void *e) {
	NEED_INIT();
	free_graph(e);
	return CU_OK;
}

int cuGraphDestroy(void *g) {
	NEED_INIT();
	free_graph(g);
	return CU_OK;
}

/* Modules are the fake NVRTC's cubins: "FAKECUBIN" and the source. */
#define CUBIN_MAGIC "FAKECUBIN\n"
enum { FN_GAP = 1, FN_SCALE = 2, FN_CHANNEL_ACT, FN_GEMM_EPILOGUE, FN_BINARY, FN_CONCAT, FN_DEPTHWISE, FN_GEMM_ROWS, FN_POOL2D, FN_PAD2D, FN_LAYER_NORM, FN_RESIZE2D, FN_LRN, FN_CONV_TRANSPOSE, FN_COUNT, FN_SOURCE };

/* The kernels the fake can run, by name, with their parameter lists: p a
 * pointer, i an int, f a float, C the concat kernel's parts (a struct). */
static const struct {
	int id;
	const char *name, *sig;
} kernels[] = {
	{FN_GAP, "global_avg_pool", "ppiifi"},
	{FN_SCALE, "scale", "pif"},
	{FN_CHANNEL_ACT, "channel_act", "ppiiipppiff"},
	{FN_GEMM_EPILOGUE, "gemm_epilogue", "piiipiififf"},
	{FN_BINARY, "binary", "ppp" "ii" "iiiii" "iiiiii" "iiiiii" "ii" "ff"},
	{FN_CONCAT, "concat", "piiC"},
	{FN_DEPTHWISE, "depthwise_conv", "ppppp" "iiiiiiiiiiiiiiii" "ff"},
	{FN_GEMM_ROWS, "gemm_rows", "ppp" "iiiiii" "f" "p" "ii" "f" "i" "i" "ff"},
	{FN_POOL2D, "pool2d", "pp" "iiiiiiiiiiiiiiii"},
	{FN_PAD2D, "pad2d", "pp" "iiiiiii"},
	{FN_LAYER_NORM, "layer_norm", "pp" "ii" "pp" "f"},
	{FN_RESIZE2D, "resize2d", "pp" "iiiii" "p"},
	{FN_LRN, "lrn", "pp" "iiii" "fff"},
	{FN_CONV_TRANSPOSE, "conv_transpose", "pppp" "iiiiiiiiiiiiiiii" "i" "ff"},
};
#define NKERNELS (int)(sizeof kernels / sizeof kernels[0])

/* The concat kernel's parts: up to 32 inputs copied into Y in one launch. */
#define CONCAT_PARTS 32
typedef struct {
	dptr x[CONCAT_PARTS];
	int block[CONCAT_PARTS], cum[CONCAT_PARTS], start[CONCAT_PARTS];
	int count, pad;
} concat_parts;

/* ------------------------------------------- kernels from their source */

typedef int (*emu_launch)(const unsigned char *, const unsigned *, const unsigned *, char *, size_t);
typedef int (*emu_params)(int *, int *, int);

static pthread_mutex_t emu_mu = PTHREAD_MUTEX_INITIALIZER;

/* lib_dir writes the directory of this library (where Build put
 * kernelemu.h) into dir. */
static int lib_dir(char *dir, size_t n) {
	Dl_info info;
	if (dladdr((void *)lib_dir, &info) == 0 || info.dli_fname == NULL || strlen(info.dli_fname) >= n) return -1;
	strcpy(dir, info.dli_fname);
	char *slash = strrchr(dir, '/');
	if (slash == NULL) {
		strcpy(dir, ".");
	} else {
		*slash = 0;
	}
	return 0;
}

/* read_file returns the contents of path (malloc'd, NUL-terminated), or NULL. */
static char *read_file(const char *path) {
	FILE *f = fopen(path, "rb");
	if (f == NULL) return NULL;
	size_t cap = 4096, n = 0;
	char *b = malloc(cap);
	for (size_t k; (k = fread(b + n, 1, cap - n - 1, f)) > 0;) {
		n += k;
		if (cap - n - 1 == 0) b = realloc(b, cap *= 2);
	}
	fclose(f);
	b[n] = 0;
	return b;
}

static unsigned long long fnv(unsigned long long h, const char *s) {
	for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* global_name reads, from p at "__global__" on a line that declares an
 * extern "C" kernel, the kernel's name into name; 0 where it is none. */
static int global_name(const char *src, const char *p, char *name, size_t n) {
	const char *line = p;
	while (line > src && line[-1] != '\n') line--;
	const char *ext = strstr(line, "extern \"C\"");
	if (ext == NULL || ext > p) return 0;
	p += strlen("__global__");
	while (*p == ' ' || *p == '\t') p++;
	if (strncmp(p, "void", 4) != 0) return 0;
	p += 4;
	while (*p == ' ' || *p == '\t') p++;
	if (strncmp(p, "__launch_bounds__", 17) == 0) {
		p = strchr(p, ')');
		if (p == NULL) return 0;
		for (p++; *p == ' ' || *p == '\t'; p++) {
		}
	}
	size_t k = 0;
	while ((p[k] == '_' || (p[k] >= 'a' && p[k] <= 'z') || (p[k] >= 'A' && p[k] <= 'Z') || (k > 0 && p[k] >= '0' && p[k] <= '9')) && k + 1 < n) {
		name[k] = p[k];
		k++;
	}
	name[k] = 0;
	return k > 0 && p[k] == '(';
}

/* emu_build compiles src with kernelemu.h and a launcher for each of its
 * extern "C" kernels into a library beside this one (once: the file is
 * named by a hash of both) and writes its path into so. It returns 0, or
 * -1 with the compiler's output (malloc'd) in *log. */
static int emu_build(const char *src, char *so, size_t n, char **log) {
	char dir[3500], hdr[3600], base[3600], cc[3700], tmp[3700], out[3700];
	*log = NULL;
	if (lib_dir(dir, sizeof dir) != 0) {
		*log = strdup("fakecuda: cannot find the directory of libfakecuda.so");
		return -1;
	}
	snprintf(hdr, sizeof hdr, "%s/kernelemu.h", dir);
	char *h = read_file(hdr);
	if (h == NULL) {
		*log = malloc(strlen(hdr) + 64);
		sprintf(*log, "fakecuda: cannot read %s (fakecuda.Build writes it)", hdr);
		return -1;
	}
	snprintf(base, sizeof base, "%s/kernels-%016llx", dir, fnv(fnv(14695981039346656037ULL, h), src));
	free(h);
	snprintf(so, n, "%s.so", base);
	pthread_mutex_lock(&emu_mu);
	if (access(so, R_OK) == 0) {
		pthread_mutex_unlock(&emu_mu);
		return 0;
	}
	snprintf(cc, sizeof cc, "%s.%d.cc", base, (int)getpid());
	snprintf(tmp, sizeof tmp, "%s.%d.so", base, (int)getpid());
	snprintf(out, sizeof out, "%s.%d.log", base, (int)getpid());
	FILE *f = fopen(cc, "w");
	if (f == NULL) {
		pthread_mutex_unlock(&emu_mu);
		*log = strdup("fakecuda: cannot write the kernels' C++ source");
		return -1;
	}
	fputs(src, f);
	fputs("\n", f);
	char *seen = calloc(1, strlen(src) + 3); /* ",name,name," of the kernels given launchers */
	strcpy(seen, ",");
	for (const char *p = src; (p = strstr(p, "__global__")) != NULL; p++) {
		char name[128], key[131];
		if (!global_name(src, p, name, sizeof name)) continue;
		snprintf(key, sizeof key, ",%s,", name);
		if (strstr(seen, key) != NULL) continue; /* declared before its definition */
		strcat(strcat(seen, name), ",");
		fprintf(f, "FAKECUDA_KERNEL(%s)\n", name);
	}
	free(seen);
	fclose(f);
	const char *cxx = getenv("FAKECUDA_CXX");
	if (cxx == NULL || *cxx == 0) cxx = "g++";
	char *argv[] = {(char *)cxx, "-std=c++17", "-O2", "-fPIC", "-shared", "-fvisibility=hidden", "-Wall",
		"-Wno-unknown-pragmas", "-Wno-unused-function", "-Wno-unused-variable", "-include", hdr, "-x", "c++", cc,
		"-o", tmp, NULL};
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	extern char **environ;
	pid_t pid;
	int status = -1, rc = posix_spawnp(&pid, cxx, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc == 0) {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
		}
	}
	int ok = rc == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 && rename(tmp, so) == 0;
	if (!ok) {
		char *text = read_file(out);
		size_t len = strlen(cxx) + (text != NULL ? strlen(text) : 0) + 128;
		*log = malloc(len);
		snprintf(*log, len, "fakecuda: %s%s could not compile the kernels:\n%s", cxx, rc != 0 ? " (not found)" : "",
			text != NULL ? text : "");
		free(text);
		unlink(tmp);
	}
	unlink(cc);
	unlink(out);
	pthread_mutex_unlock(&emu_mu);
	return ok ? 0 : -1;
}

/* A function of a module: its twin's id (FN_SOURCE where only the source
 * has it), the source's launcher where kernels run as source, and its
 * parameters' sizes and alignments. */
#define MAX_PARAMS 64
typedef struct function {
	int id; /* first: cuLaunchKernel reads it */
	emu_launch launch;
	int nparams, size[MAX_PARAMS], align[MAX_PARAMS];
	struct function *next;
} function;

typedef struct {
	char *src;
	void *emu; /* the compiled source (FAKECUDA_KERNELS=source), or NULL */
	function *fns;
} module;

int cuModuleLoadData(void **m, const void *image) {
	NEED_CTX();
	if (strncmp(image, CUBIN_MAGIC, strlen(CUBIN_MAGIC)) != 0) return CU_INVALID_IMAGE;
	module *mod = calloc(1, sizeof(module));
	mod->src = strdup((const char *)image + strlen(CUBIN_MAGIC));
	devices(); /* reads FAKECUDA_KERNELS */
	if (emulate_source) {
		char so[4096], *log;
		if (emu_build(mod->src, so, sizeof so, &log) != 0 || (mod->emu = dlopen(so, RTLD_NOW | RTLD_LOCAL)) == NULL) {
			fprintf(stderr, "fakecuda: loading the kernels' source: %s\n", log != NULL ? log : dlerror());
			free(log);
			free(mod->src);
			free(mod);
			return CU_INVALID_IMAGE;
		}
	}
	*m = mod;
	return CU_OK;
}

/* declared says whether src declares name as an extern "C" __global__
 * function, the only kind a cubin's functions are found by plain name
 * (global_name reads them, as emu_build's launchers do). */
static int declared(const char *src, const char *name) {
	for (const char *p = src; (p = strstr(p, "__global__")) != NULL; p++) {
		char found[128];
		if (global_name(src, p, found, sizeof found) && strcmp(found, name) == 0) return 1;
	}
	return 0;
}

/* layout sets fn's parameters from a twin's signature. */
static void layout(function *fn, const char *sig) {
	fn->nparams = (int)strlen(sig);
	for (int i = 0; i < fn->nparams; i++) {
		fn->size[i] = sig[i] == 'p' ? 8 : sig[i] == 'C' ? (int)sizeof(concat_parts) : 4;
		fn->align[i] = fn->size[i] >= 8 ? 8 : 4;
	}
}

int cuModuleGetFunction(void **f, void *m, const char *name) {
	NEED_CTX();
	module *mod = m;
	if (mod == NULL || name == NULL || strlen(name) > 100 || !declared(mod->src, name)) return CU_NOT_FOUND;
	function *fn = calloc(1, sizeof(function));
	fn->id = FN_SOURCE;
	for (int i = 0; i < NKERNELS; i++) {
		if (strcmp(name, kernels[i].name) == 0) {
			fn->id = kernels[i].id;
			layout(fn, kernels[i].sig);
		}
	}
	if (mod->emu != NULL) {
		char sym[160];
		snprintf(sym, sizeof sym, "fakecuda_launch_%s", name);
		fn->launch = (emu_launch)dlsym(mod->emu, sym);
		snprintf(sym, sizeof sym, "fakecuda_params_%s", name);
		emu_params params = (emu_params)dlsym(mod->emu, sym);
		function src = {0};
		if (fn->launch == NULL || params == NULL ||
		    (src.nparams = params(src.size, src.align, MAX_PARAMS)) < 0) {
			free(fn);
			return CU_NOT_FOUND;
		}
		/* The twin's parameters, where there is one, must be the source's:
		 * the runtime packs what the twin and the GPU both read. */
		int same = fn->id == FN_SOURCE || src.nparams == fn->nparams;
		for (int i = 0; same && fn->id != FN_SOURCE && i < src.nparams; i++) {
			same = src.size[i] == fn->size[i] && src.align[i] == fn->align[i];
		}
		if (!same) {
			fprintf(stderr, "fakecuda: kernel %s: the source's %d parameters are not its twin's (%d)\n", name,
				src.nparams, fn->nparams);
			free(fn);
			return CU_NOT_FOUND;
		}
		fn->nparams = src.nparams;
		memcpy(fn->size, src.size, sizeof src.size);
		memcpy(fn->align, src.align, sizeof src.align);
	} else if (fn->id == FN_SOURCE) {
		free(fn);
		return CU_NOT_FOUND; /* no twin */
	}
	pthread_mutex_lock(&emu_mu);
	fn->next = mod->fns;
	mod->fns = fn;
	pthread_mutex_unlock(&emu_mu);
	*f = fn;
	return CU_OK;
}

int cuModuleUnload(void *m) {
	NEED_CTX();
	module *mod = m;
	if (mod == NULL) return CU_INVALID_HANDLE;
	/* The compiled source stays loaded: graphs may still hold its launchers. */
	for (function *fn = mod->fns, *next; fn != NULL; fn = next) {
		next = fn->next;
		free(fn);
	}
	free(mod->src);
	free(mod);
	return CU_OK;
}

/* pack copies the parameters of fn into buf, each at its alignment; it
 * returns the bytes used, or -1. */
static int pack(const function *fn, void **params, unsigned char *buf) {
	size_t off = 0;
	for (int i = 0; i < fn->nparams; i++) {
		size_t size = (size_t)fn->size[i], align = (size_t)fn->align[i];
		off = (off + align - 1) / align * align;
		if (off + size > KERNEL_ARGS) return -1;
		memcpy(buf + off, params[i], size);
		off += size;
	}
	return (int)off;
}

/* Kernels: global_avg_pool(const float *x, float *y, int planes, int hw,
 * float scale, int take_max), one warp per plane, the sum times scale or
 * (take_max) the maximum; scale(float *x, int n, float k), one
 * thread per element; and the runtime's kernels (see run_kernel). Where
 * kernels run as source, every launch runs the source's launcher. */
int cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
	unsigned shared, void *s, void **params, void **extra) {
	NEED_CTX();
	if (f == NULL || params == NULL || extra != NULL || bx * by * bz > 1024 || shared > 48 * 1024) return CU_INVALID_VALUE;
	const function *fn = f;
	int threads = (int)(gx * gy * gz * bx * by * bz);
	op o;
	memset(&o, 0, sizeof o);
	if (fn->launch != NULL) {
		if (shared != 0) {
			fprintf(stderr, "fakecuda: dynamic shared memory is not emulated\n");
			return CU_INVALID_VALUE;
		}
		o.kind = OP_KERNEL;
		o.u.kernel.fn = fn->id;
		o.u.kernel.launch = fn->launch;
		unsigned g[3] = {gx, gy, gz}, b[3] = {bx, by, bz};
		memcpy(o.u.kernel.grid, g, sizeof g);
		memcpy(o.u.kernel.block, b, sizeof b);
		if (pack(fn, params, o.u.kernel.args) < 0) return CU_INVALID_VALUE;
		o.cost = 2000 + (long long)threads / 1000;
		return submit(s, &o);
	}
	switch (fn->id) {
	case FN_GAP:
		o.kind = OP_GAP;
		memcpy(&o.u.gap.x, params[0], 8);
		memcpy(&o.u.gap.y, params[1], 8);
		memcpy(&o.u.gap.planes, params[2], 4);
		memcpy(&o.u.gap.hw, params[3], 4);
		memcpy(&o.u.gap.scale, params[4], 4);
		memcpy(&o.u.gap.max, params[5], 4);
		o.u.gap.threads = threads;
		o.cost = 2000 + (long long)o.u.gap.planes * o.u.gap.hw / 1000;
		break;
	case FN_SCALE:
		o.kind = OP_SCALE;
		memcpy(&o.u.scale.x, params[0], 8);
		memcpy(&o.u.scale.n, params[1], 4);
		memcpy(&o.u.scale.k, params[2], 4);
		o.u.scale.threads = threads;
		o.cost = 2000;
		break;
	default:
		if (fn->id <= FN_SCALE || fn->id >= FN_COUNT) return CU_INVALID_HANDLE;
		o.kind = OP_KERNEL;
		o.u.kernel.fn = fn->id;
		if (pack(fn, params, o.u.kernel.args) < 0) return CU_INVALID_VALUE;
		o.cost = 2000 + (long long)threads / 1000;
		break;
	}
	return submit(s, &o);
}

/* ------------------------------------------------------------- cuDNN */

#define DNN_OK 0
#define DNN_NOT_INITIALIZED 1001
#define DNN_BAD_PARAM 2000
#define DNN_NOT_SUPPORTED 3000
#define DNN_EXECUTION_FAILED 5000

static __thread char dnn_last[256];

static int dnn_fail(int status, const char *msg) {
	snprintf(dnn_last, sizeof dnn_last, "%s", msg);
	return status;
}

size_t cudnnGetVersion(void) { return 91400; }

const char *cudnnGetErrorString(int status) {
	switch (status) {
	case DNN_OK: return "CUDNN_STATUS_SUCCESS";
	case DNN_NOT_INITIALIZED: return "CUDNN_STATUS_NOT_INITIALIZED";
	case DNN_BAD_PARAM: return "CUDNN_STATUS_BAD_PARAM";
	case DNN_NOT_SUPPORTED: return "CUDNN_STATUS_NOT_SUPPORTED";
	case DNN_EXECUTION_FAILED: return "CUDNN_STATUS_EXECUTION_FAILED";
	}
	return "CUDNN_STATUS_UNKNOWN";
}

void cudnnGetLastErrorString(char *msg, size_t n) {
	snprintf(msg, n, "%s", dnn_last);
	dnn_last[0] = 0;
}

typedef struct {
	void *stream;
} dnn;

int cudnnCreate(void **h) {
	if (!initialized || current == NULL) return dnn_fail(DNN_NOT_INITIALIZED, "no current CUDA context");
	*h = calloc(1, sizeof(dnn));
	return DNN_OK;
}

int cudnnDestroy(void *h) {
	free(h);
	return DNN_OK;
}

int cudnnSetStream(void *h, void *s) {
	if (h == NULL) return dnn_fail(DNN_BAD_PARAM, "null handle");
	((dnn *)h)->stream = s;
	return DNN_OK;
}

#define CREATE(name, type) \
	int name(void **d) { *d = calloc(1, sizeof(type)); return DNN_OK; }
#define DESTROY(name) \
	int name(void *d) { free(d); return DNN_OK; }
CREATE(cudnnCreateTensorDescriptor, tensor)
DESTROY(cudnnDestroyTensorDescriptor)
CREATE(cudnnCreateFilterDescriptor, filter)
DESTROY(cudnnDestroyFilterDescriptor)
CREATE(cudnnCreateActivationDescriptor, actd)
DESTROY(cudnnDestroyActivationDescriptor)
CREATE(cudnnCreatePoolingDescriptor, poold)
DESTROY(cudnnDestroyPoolingDescriptor)
DESTROY(cudnnDestroyConvolutionDescriptor)

int cudnnCreateConvolutionDescriptor(void **d) {
	convd *c = calloc(1, sizeof(convd));
	c->groups = 1;
	*d = c;
	return DNN_OK;
}

int cudnnSetTensor4dDescriptor(void *d, int format, int dtype, int n, int c, int h, int w) {
	tensor *t = d;
	if (format != 0) return dnn_fail(DNN_NOT_SUPPORTED, "fake cuDNN: only NCHW");
	if (dtype != 0) return dnn_fail(DNN_NOT_SUPPORTED, "fake cuDNN: only float");
	if (n <= 0 || c <= 0 || h <= 0 || w <= 0) return dnn_fail(DNN_BAD_PARAM, "dimensions must be positive");
	t->nd = 4;
	t->dtype = dtype;
	int dims[4] = {n, c, h, w};
	for (int i = 3, s = 1; i >= 0; s *= dims[i], i--) {
		t->dims[i] = dims[i];
		t->strides[i] = s;
	}
	return DNN_OK;
}

int cudnnSetTensorNdDescriptor(void *d, int dtype, int nd, const int *dims, const int *strides) {
	tensor *t = d;
	if (dtype != 0) return dnn_fail(DNN_NOT_SUPPORTED, "fake cuDNN: only float");
	if (nd < 3 || nd > 8) return dnn_fail(DNN_BAD_PARAM, "nbDims must be 3 to 8");
	memset(t, 0, sizeof *t);
	t->nd = nd;
	for (int i = 0; i < nd; i++) {
		if (dims[i] <= 0 || strides[i] <= 0) return dnn_fail(DNN_BAD_PARAM, "dimensions and strides must be positive");
		t->dims[i] = dims[i];
		t->strides[i] = strides[i];
	}
	return DNN_OK;
}

int cudnnSetFilter4dDescriptor(void *d, int dtype, int format, int k, int c, int h, int w) {
	filter *f = d;
	if (dtype != 0 || format != 0) return dnn_fail(DNN_NOT_SUPPORTED, "fake cuDNN: only float NCHW filters");
	if (k <= 0 || c <= 0 || h <= 0 || w <= 0) return dnn_fail(DNN_BAD_PARAM, "dimensions must be positive");
	*f = (filter){k, c, h, w, dtype, format};
	return DNN_OK;
}

int cudnnSetConvolution2dDescriptor(void *d, int padh, int padw, int u, int v, int dilh, int dilw, int mode, int compute) {
	convd *c = d;
	if (padh < 0 || padw < 0 || u <= 0 || v <= 0 || dilh <= 0 || dilw <= 0 || mode < 0 || mode > 1 || compute != 0)
		return dnn_fail(DNN_BAD_PARAM, "bad convolution descriptor");
	c->padh = padh, c->padw = padw, c->u = u, c->v = v, c->dilh = dilh, c->dilw = dilw, c->mode = mode, c->compute = compute;
	return DNN_OK;
}

int cudnnSetConvolutionGroupCount(void *d, int groups) {
	if (groups <= 0) return dnn_fail(DNN_BAD_PARAM, "groups must be positive");
	((convd *)d)->groups = groups;
	return DNN_OK;
}

int cudnnSetConvolutionMathType(void *d, int math) {
	if (math < 0 || math > 3) return dnn_fail(DNN_BAD_PARAM, "bad math type");
	((convd *)d)->math = math;
	return DNN_OK;
}

static int out_dim(int in, int pad, int k, int dil, int stride) { return (in + 2 * pad - ((k - 1) * dil + 1)) / stride + 1; }

int cudnnGetConvolution2dForwardOutputDim(void *conv, void *x, void *w, int *n, int *c, int *h, int *wd) {
	convd *cv = conv;
	tensor *t = x;
	filter *f = w;
	if (t->nd != 4 || t->dims[1] != f->c * cv->groups || f->k % cv->groups != 0)
		return dnn_fail(DNN_BAD_PARAM, "input channels do not match the filter and groups");
	*n = t->dims[0];
	*c = f->k;
	*h = out_dim(t->dims[2], cv->padh, f->h, cv->dilh, cv->u);
	*wd = out_dim(t->dims[3], cv->padw, f->w, cv->dilw, cv->v);
	return DNN_OK;
}

/* Algorithms: IMPLICIT_PRECOMP_GEMM (1, FMA, 1 MiB workspace) and
 * WINOGRAD_NONFUSED (7, tensor-op math, faster), and FFT (4), which fails. */
typedef struct {
	int algo, status;
	float time;
	size_t memory;
	int determinism, mathType, reserved[3];
} perf;

static size_t ws_need(int algo) { return algo == 1 ? 1 << 20 : algo == 7 ? 4 << 20 : 0; }

static int check_conv(tensor *x, filter *w, convd *cv, tensor *y) {
	int n, c, h, wd;
	int rc = cudnnGetConvolution2dForwardOutputDim(cv, x, w, &n, &c, &h, &wd);
	if (rc != DNN_OK) return rc;
	if (y->nd != 4 || y->dims[0] != n || y->dims[1] != c || y->dims[2] != h || y->dims[3] != wd)
		return dnn_fail(DNN_BAD_PARAM, "output descriptor does not match the convolution");
	return DNN_OK;
}

int cudnnFindConvolutionForwardAlgorithmEx(void *h, void *xd, dptr x, void *wdesc, dptr w, void *conv, void *yd, dptr y,
	int requested, int *returned, perf *perfs, dptr ws, size_t wssize) {
	(void)x, (void)w, (void)y, (void)ws;
	if (h == NULL) return dnn_fail(DNN_BAD_PARAM, "null handle");
	if (unsafe()) return dnn_fail(DNN_EXECUTION_FAILED, "Find during stream capture");
	int rc = check_conv(xd, wdesc, conv, yd);
	if (rc != DNN_OK) return rc;
	perf all[3] = {
		{7, 0, 0.04f, ws_need(7), 1, 1, {0}},
		{1, 0, 0.05f, ws_need(1), 1, 3, {0}},
		{4, 4000, -1, 0, 0, 0, {0}},
	};
	*returned = 0;
	for (int i = 0; i < 3 && i < requested; i++) {
		if (all[i].status == 0 && all[i].memory > wssize) all[i].status = 4000;
		perfs[(*returned)++] = all[i];
	}
	return DNN_OK;
}

int cudnnGetConvolutionForwardWorkspaceSize(void *h, void *xd, void *wdesc, void *conv, void *yd, int algo, size_t *size) {
	if (h == NULL) return dnn_fail(DNN_BAD_PARAM, "null handle");
	int rc = check_conv(xd, wdesc, conv, yd);
	if (rc != DNN_OK) return rc;
	if (algo != 0 && algo != 1 && algo != 7) return dnn_fail(DNN_NOT_SUPPORTED, "fake cuDNN: algorithm not available");
	*size = ws_need(algo);
	return DNN_OK;
}

static long long conv_cost(const tensor *y, const filter *w) {
	long long macs = (long long)y->dims[0] * y->dims[1] * y->dims[2] * y->dims[3] * w->c * w->h * w->w;
	return 3000 + macs / 20000;
}

static int conv_common(void *h, int algo, dptr ws, size_t wssize, tensor *x, filter *w, convd *cv, tensor *y, op *o) {
	if (h == NULL) return dnn_fail(DNN_BAD_PARAM, "null handle");
	int rc = check_conv(x, w, cv, y);
	if (rc != DNN_OK) return rc;
	if (algo != 0 && algo != 1 && algo != 7) return dnn_fail(DNN_NOT_SUPPORTED, "fake cuDNN: algorithm not available");
	if (wssize < ws_need(algo) || (ws_need(algo) > 0 && ws == 0)) return dnn_fail(DNN_BAD_PARAM, "workspace too small");
	memset(o, 0, sizeof *o);
	o->kind = OP_CONV;
	o->cost = conv_cost(y, w);
	o->u.conv.x = *x;
	o->u.conv.w = *w;
	o->u.conv.cv = *cv;
	o->u.conv.y = *y;
	return DNN_OK;
}

int cudnnConvolutionForward(void *h, const float *alpha, void *xd, dptr x, void *wdesc, dptr w, void *conv, int algo,
	dptr ws, size_t wssize, const float *beta, void *yd, dptr y) {
	op o;
	int rc = conv_common(h, algo, ws, wssize, xd, wdesc, conv, yd, &o);
	if (rc != DNN_OK) return rc;
	o.u.conv.xp = x, o.u.conv.wp = w, o.u.conv.yp = y, o.u.conv.zp = y;
	o.u.conv.z = *(tensor *)yd;
	o.u.conv.alpha1 = *alpha, o.u.conv.alpha2 = *beta;
	o.u.conv.act.mode = 5;
	return submit(((dnn *)h)->stream, &o);
}

int cudnnConvolutionBiasActivationForward(void *h, const float *alpha1, void *xd, dptr x, void *wdesc, dptr w,
	void *conv, int algo, dptr ws, size_t wssize, const float *alpha2, void *zd, dptr z, void *bd, dptr b,
	void *act, void *yd, dptr y) {
	op o;
	int rc = conv_common(h, algo, ws, wssize, xd, wdesc, conv, yd, &o);
	if (rc != DNN_OK) return rc;
	actd *a = act;
	if (a->mode != 1 && a->mode != 5) return dnn_fail(DNN_NOT_SUPPORTED, "activation must be RELU or IDENTITY");
	if (a->mode == 5 && algo != 1) return dnn_fail(DNN_NOT_SUPPORTED, "IDENTITY needs IMPLICIT_PRECOMP_GEMM");
	tensor *bt = bd, *zt = zd, *yt = yd;
	if (bt->nd != 4 || bt->dims[0] != 1 || bt->dims[1] != yt->dims[1] || bt->dims[2] != 1 || bt->dims[3] != 1)
		return dnn_fail(DNN_BAD_PARAM, "bias must be 1xKx1x1");
	if (memcmp(zt->dims, yt->dims, sizeof zt->dims) != 0) return dnn_fail(DNN_BAD_PARAM, "z must have y's shape");
	if (x == y) return dnn_fail(DNN_BAD_PARAM, "x and y must not alias");
	o.u.conv.xp = x, o.u.conv.wp = w, o.u.conv.yp = y, o.u.conv.zp = z, o.u.conv.bp = b;
	o.u.conv.z = *zt;
	o.u.conv.b = *bt;
	o.u.conv.act = *a;
	o.u.conv.alpha1 = *alpha1, o.u.conv.alpha2 = *alpha2;
	o.u.conv.fused = 1;
	return submit(((dnn *)h)->stream, &o);
}

int cudnnSetActivationDescriptor(void *d, int mode, int nan, double coef) {
	if (mode < 0 || mode > 6 || nan < 0 || nan > 1) return dnn_fail(DNN_BAD_PARAM, "bad activation descriptor");
	*(actd *)d = (actd){mode, nan, coef};
	return DNN_OK;
}

static size_t elems(const tensor *t) {
	size_t n = 1;
	for (int i = 0; i < t->nd; i++) n *= t->dims[i];
	return n;
}

static int same_shape(const tensor *a, const tensor *b) {
	return a->nd == b->nd && memcmp(a->dims, b->dims, sizeof a->dims) == 0;
}

int cudnnActivationForward(void *h, void *act, const float *alpha, void *xd, dptr x, const float *beta, void *yd, dptr y) {
	if (h == NULL) return dnn_fail(DNN_BAD_PARAM, "null handle");
	if (!same_shape(xd, yd)) return dnn_fail(DNN_BAD_PARAM, "x and y differ in shape");
	op o = {.kind = OP_ACT, .cost = 2000 + (long long)elems(xd) / 1000};
	o.u.unary.x = *(tensor *)xd, o.u.unary.y = *(tensor *)yd, o.u.unary.act = *(actd *)act;
	o.u.unary.xp = x, o.u.unary.yp = y, o.u.unary.alpha = *alpha, o.u.unary.beta = *beta;
	return submit(((dnn *)h)->stream, &o);
}

int cudnnSetPooling2dDescriptor(void *d, int mode, int nan, int wh, int ww, int padh, int padw, int sh, int sw) {
	if (mode < 0 || mode > 3 || wh <= 0 || ww <= 0 || padh < 0 || padw < 0 || sh <= 0 || sw <= 0)
		return dnn_fail(DNN_BAD_PARAM, "bad pooling descriptor");
	*(poold *)d = (poold){mode, nan, wh, ww, padh, padw, sh, sw};
	return DNN_OK;
}

int cudnnPoolingForward(void *h, void *pool, const float *alpha, void *xd, dptr x, const float *beta, void *yd, dptr y) {
	if (h == NULL) return dnn_fail(DNN_BAD_PARAM, "null handle");
	tensor *xt = xd, *yt = yd;
	poold *p = pool;
	if (xt->nd != 4 || yt->nd != 4 || xt->dims[0] != yt->dims[0] || xt->dims[1] != yt->dims[1] ||
		yt->dims[2] != (xt->dims[2] + 2 * p->padh - p->wh) / p->sh + 1 ||
		yt->dims[3] != (xt->dims[3] + 2 * p->padw - p->ww) / p->sw + 1)
		return dnn_fail(DNN_BAD_PARAM, "output descriptor does not match the pooling");
	op o = {.kind = OP_POOL, .cost = 2000 + (long long)elems(xt) / 1000};
	o.u.unary.x = *xt, o.u.unary.y = *yt, o.u.unary.pool = *p;
	o.u.unary.xp = x, o.u.unary.yp = y, o.u.unary.alpha = *alpha, o.u.unary.beta = *beta;
	return submit(((dnn *)h)->stream, &o);
}

int cudnnAddTensor(void *h, const float *alpha, void *ad, dptr a, const float *beta, void *cd, dptr c) {
	if (h == NULL) return dnn_fail(DNN_BAD_PARAM, "null handle");
	tensor *at = ad, *ct = cd;
	if (at->nd != ct->nd) return dnn_fail(DNN_BAD_PARAM, "A and C differ in rank");
	for (int i = 0; i < at->nd; i++) {
		if (at->dims[i] != 1 && at->dims[i] != ct->dims[i]) return dnn_fail(DNN_BAD_PARAM, "A does not broadcast to C");
	}
	op o = {.kind = OP_ADD, .cost = 2000 + (long long)elems(ct) / 1000};
	o.u.unary.x = *at, o.u.unary.y = *ct, o.u.unary.xp = a, o.u.unary.yp = c;
	o.u.unary.alpha = *alpha, o.u.unary.beta = *beta;
	return submit(((dnn *)h)->stream, &o);
}

int cudnnSoftmaxForward(void *h, int algo, int mode, const float *alpha, void *xd, dptr x, const float *beta, void *yd, dptr y) {
	if (h == NULL) return dnn_fail(DNN_BAD_PARAM, "null handle");
	if (!same_shape(xd, yd) || algo < 0 || algo > 2 || mode < 0 || mode > 1) return dnn_fail(DNN_BAD_PARAM, "bad softmax");
	op o = {.kind = OP_SOFTMAX, .cost = 2000 + (long long)elems(xd) / 1000};
	o.u.unary.x = *(tensor *)xd, o.u.unary.y = *(tensor *)yd, o.u.unary.xp = x, o.u.unary.yp = y;
	o.u.unary.alpha = *alpha, o.u.unary.beta = *beta, o.u.unary.algo = algo, o.u.unary.mode = mode;
	return submit(((dnn *)h)->stream, &o);
}

/* ------------------------------------------------------------ cuBLAS */

#define BLAS_OK 0
#define BLAS_NOT_INITIALIZED 1
#define BLAS_INVALID_VALUE 7
#define BLAS_EXECUTION_FAILED 13
#define BLAS_NOT_SUPPORTED 15

typedef struct {
	void *stream;
	dptr ws;
	size_t wssize;
	int math;
} blas;

int cublasCreate_v2(void **h) {
	if (!initialized || current == NULL) return BLAS_NOT_INITIALIZED;
	*h = calloc(1, sizeof(blas));
	return BLAS_OK;
}

int cublasDestroy_v2(void *h) {
	free(h);
	return BLAS_OK;
}

int cublasGetVersion_v2(void *h, int *v) {
	(void)h;
	*v = 130100;
	return BLAS_OK;
}

/* As the real one, setting the stream drops the user workspace. */
int cublasSetStream_v2(void *h, void *s) {
	blas *b = h;
	b->stream = s;
	b->ws = 0;
	b->wssize = 0;
	return BLAS_OK;
}

int cublasSetWorkspace_v2(void *h, dptr ws, size_t n) {
	blas *b = h;
	if (ws % 256 != 0) return BLAS_INVALID_VALUE;
	b->ws = ws;
	b->wssize = n;
	return BLAS_OK;
}

int cublasSetMathMode(void *h, int mode) {
	if ((mode & ~16) > 4) return BLAS_INVALID_VALUE;
	((blas *)h)->math = mode;
	return BLAS_OK;
}

const char *cublasGetStatusName(int s) {
	switch (s) {
	case BLAS_OK: return "CUBLAS_STATUS_SUCCESS";
	case BLAS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
	case BLAS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
	case BLAS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
	}
	return "CUBLAS_STATUS_UNKNOWN";
}

const char *cublasGetStatusString(int s) {
	switch (s) {
	case BLAS_OK: return "the operation completed successfully";
	case BLAS_NOT_INITIALIZED: return "the library was not initialized";
	case BLAS_INVALID_VALUE: return "an invalid numeric value was used as an argument";
	case BLAS_NOT_SUPPORTED: return "the functionality requested is not supported";
	}
	return "unknown error";
}

static int gemm(void *h, int ta, int tb, int m, int n, int k, const float *alpha, dptr a, int lda, long long sa, dptr b,
	int ldb, long long sb, const float *beta, dptr c, int ldc, long long sc, int count) {
	blas *hb = h;
	if (h == NULL) return BLAS_NOT_INITIALIZED;
	if (ta < 0 || ta > 1 || tb < 0 || tb > 1 || m < 0 || n < 0 || k < 0 || count < 0 || lda < (ta ? k : m) ||
		ldb < (tb ? n : k) || ldc < m || lda < 1 || ldb < 1 || ldc < 1)
		return BLAS_INVALID_VALUE;
	if (S(hb->stream)->capture != NULL && hb->wssize == 0) return BLAS_NOT_SUPPORTED; /* would allocate */
	if (foreign(hb->stream)) return BLAS_EXECUTION_FAILED;
	for (int i = 0; i < count; i++) {
		op o = {.kind = OP_GEMM, .cost = 2000 + (long long)m * n * k / 20000};
		o.u.gemm.ta = ta, o.u.gemm.tb = tb, o.u.gemm.m = m, o.u.gemm.n = n, o.u.gemm.k = k;
		o.u.gemm.lda = lda, o.u.gemm.ldb = ldb, o.u.gemm.ldc = ldc;
		o.u.gemm.alpha = *alpha, o.u.gemm.beta = *beta;
		o.u.gemm.a = a + 4 * (dptr)(sa * i), o.u.gemm.b = b + 4 * (dptr)(sb * i), o.u.gemm.c = c + 4 * (dptr)(sc * i);
		submit(hb->stream, &o);
	}
	return BLAS_OK;
}

int cublasSgemm_v2(void *h, int ta, int tb, int m, int n, int k, const float *alpha, dptr a, int lda, dptr b, int ldb,
	const float *beta, dptr c, int ldc) {
	return gemm(h, ta, tb, m, n, k, alpha, a, lda, 0, b, ldb, 0, beta, c, ldc, 0, 1);
}

int cublasSgemmStridedBatched(void *h, int ta, int tb, int m, int n, int k, const float *alpha, dptr a, int lda,
	long long sa, dptr b, int ldb, long long sb, const float *beta, dptr c, int ldc, long long sc, int count) {
	return gemm(h, ta, tb, m, n, k, alpha, a, lda, sa, b, ldb, sb, beta, c, ldc, sc, count);
}

/* ------------------------------------------------------------- NVRTC */

typedef struct {
	char *src, *log;
	int compiled;
} program;

int nvrtcVersion(int *major, int *minor) {
	*major = 13;
	*minor = 0;
	return 0;
}

const char *nvrtcGetErrorString(int rc) {
	switch (rc) {
	case 0: return "NVRTC_SUCCESS";
	case 3: return "NVRTC_ERROR_INVALID_INPUT";
	case 5: return "NVRTC_ERROR_INVALID_OPTION";
	case 6: return "NVRTC_ERROR_COMPILATION";
	}
	return "NVRTC_ERROR_UNKNOWN";
}

int nvrtcCreateProgram(void **p, const char *src, const char *name, int nh, const char *const *headers,
	const char *const *includes) {
	(void)name, (void)headers, (void)includes;
	if (src == NULL || nh != 0) return 3;
	program *pr = calloc(1, sizeof(program));
	pr->src = strdup(src);
	pr->log = strdup("");
	*p = pr;
	return 0;
}

int nvrtcCompileProgram(void *p, int n, const char *const *opts) {
	program *pr = p;
	int arch = 0;
	for (int i = 0; i < n; i++) {
		if (strncmp(opts[i], "--gpu-architecture=sm_", 22) == 0 || strncmp(opts[i], "-arch=sm_", 9) == 0) arch = 1;
	}
	if (!arch) return 5;
	if (strstr(pr->src, "__global__") == NULL) {
		free(pr->log);
		pr->log = strdup("fake.cu: error: no __global__ function");
		return 6;
	}
	devices(); /* reads FAKECUDA_KERNELS */
	char so[4096], *log;
	if (emulate_source && emu_build(pr->src, so, sizeof so, &log) != 0) {
		free(pr->log);
		pr->log = log;
		return 6;
	}
	pr->compiled = 1;
	return 0;
}

int nvrtcGetProgramLogSize(void *p, size_t *n) {
	*n = strlen(((program *)p)->log) + 1;
	return 0;
}

int nvrtcGetProgramLog(void *p, char *log) {
	strcpy(log, ((program *)p)->log);
	return 0;
}

int nvrtcGetCUBINSize(void *p, size_t *n) {
	program *pr = p;
	if (!pr->compiled) return 3;
	*n = strlen(CUBIN_MAGIC) + strlen(pr->src) + 1;
	return 0;
}

int nvrtcGetCUBIN(void *p, char *cubin) {
	program *pr = p;
	if (!pr->compiled) return 3;
	strcpy(cubin, CUBIN_MAGIC);
	strcat(cubin, pr->src);
	return 0;
}

int nvrtcGetPTXSize(void *p, size_t *n) { return nvrtcGetCUBINSize(p, n); }
int nvrtcGetPTX(void *p, char *ptx) { return nvrtcGetCUBIN(p, ptx); }

int nvrtcDestroyProgram(void **p) {
	program *pr = *p;
	free(pr->src);
	free(pr->log);
	free(pr);
	*p = NULL;
	return 0;
}

/* -------------------------------------------------------------- NVML */

static int nvml_up;
static char nvml_dev[MAXDEV];

#define NVML_UNINITIALIZED 1
#define NVML_INVALID_ARGUMENT 2
#define NVML_NOT_SUPPORTED 3
#define NEED_NVML() \
	if (!nvml_up) return NVML_UNINITIALIZED
#define NEED_DEV(d) \
	NEED_NVML(); \
	if ((char *)(d) < nvml_dev || (char *)(d) >= nvml_dev + devices()) return NVML_INVALID_ARGUMENT

int nvmlInit_v2(void) {
	nvml_up = 1;
	return 0;
}

int nvmlShutdown(void) {
	NEED_NVML();
	nvml_up = 0;
	return 0;
}

const char *nvmlErrorString(int rc) {
	switch (rc) {
	case 0: return "Success";
	case NVML_UNINITIALIZED: return "Uninitialized";
	case NVML_INVALID_ARGUMENT: return "Invalid Argument";
	case NVML_NOT_SUPPORTED: return "Not Supported";
	}
	return "Unknown Error";
}

int nvmlSystemGetDriverVersion(char *v, unsigned n) {
	NEED_NVML();
	snprintf(v, n, "580.00-fake");
	return 0;
}

int nvmlDeviceGetCount_v2(unsigned *n) {
	NEED_NVML();
	*n = devices();
	return 0;
}

int nvmlDeviceGetHandleByIndex_v2(unsigned i, void **d) {
	NEED_NVML();
	if (BAD_DEV((int)i)) return NVML_INVALID_ARGUMENT;
	*d = &nvml_dev[i];
	return 0;
}

int nvmlDeviceGetHandleByPciBusId_v2(const char *id, void **d) {
	NEED_NVML();
	unsigned dom, bus, dev;
	if (sscanf(id, "%x:%x:%x", &dom, &bus, &dev) != 3 || dom != 0 || bus < 0x3b || BAD_DEV((int)(bus - 0x3b)) || dev != 0) return 6; /* not found */
	*d = &nvml_dev[bus - 0x3b];
	return 0;
}

int nvmlDeviceGetName(void *d, char *name, unsigned n) {
	NEED_DEV(d);
	snprintf(name, n, "Fake GPU (fakecuda)");
	return 0;
}

int nvmlDeviceGetClockInfo(void *d, int type, unsigned *mhz) {
	NEED_DEV(d);
	if (type < 0 || type > 3) return NVML_INVALID_ARGUMENT;
	*mhz = type == 2 ? 2619 : 1980;
	return 0;
}

int nvmlDeviceGetMaxClockInfo(void *d, int type, unsigned *mhz) { return nvmlDeviceGetClockInfo(d, type, mhz); }

int nvmlDeviceGetApplicationsClock(void *d, int type, unsigned *mhz) {
	NEED_DEV(d);
	(void)type, (void)mhz;
	return NVML_NOT_SUPPORTED;
}

int nvmlDeviceGetPersistenceMode(void *d, int *mode) {
	NEED_DEV(d);
	*mode = 1;
	return 0;
}

int nvmlDeviceGetComputeMode(void *d, int *mode) {
	NEED_DEV(d);
	*mode = 0;
	return 0;
}

int nvmlDeviceGetCurrPcieLinkWidth(void *d, unsigned *w) {
	NEED_DEV(d);
	*w = 16;
	return 0;
}

int nvmlDeviceGetCudaComputeCapability(void *d, int *major, int *minor) {
	NEED_DEV(d);
	*major = 9;
	*minor = 0;
	return 0;
}

typedef struct {
	unsigned long long total, free, used;
} nvml_memory;

int nvmlDeviceGetMemoryInfo(void *d, nvml_memory *m) {
	NEED_DEV(d);
	m->total = 80ull << 30;
	m->used = 1ull << 30;
	m->free = m->total - m->used;
	return 0;
}

int nvmlDeviceGetCpuAffinity(void *d, unsigned n, unsigned long *set) {
	NEED_DEV(d);
	if (n == 0) return NVML_INVALID_ARGUMENT;
	memset(set, 0, n * sizeof *set);
	set[0] = 0x3;
	return 0;
}

/* ------------------------------------------------------- computation */

static float *F(dptr p) { return (float *)(uintptr_t)p; }

static float activate(const actd *a, double v) {
	switch (a->mode) {
	case 0: return (float)(1 / (1 + exp(-v)));
	case 1: return (float)(v > 0 ? v : 0);
	case 2: return (float)tanh(v);
	case 3: return (float)(v < 0 ? 0 : v > a->coef ? a->coef : v);
	case 4: return (float)(v > 0 ? v : a->coef * (exp(v) - 1));
	case 6: return (float)(v / (1 + exp(-v)));
	}
	return (float)v;
}

/* offset of element (n, c, h, w) of a 4-d tensor */
static size_t at4(const tensor *t, int n, int c, int h, int w) {
	return (size_t)n * t->strides[0] + (size_t)c * t->strides[1] + (size_t)h * t->strides[2] + (size_t)w * t->strides[3];
}

static void run_conv(op *o) {
	tensor *x = &o->u.conv.x, *y = &o->u.conv.y, *z = &o->u.conv.z;
	filter *f = &o->u.conv.w;
	convd *cv = &o->u.conv.cv;
	float *xp = F(o->u.conv.xp), *wp = F(o->u.conv.wp), *yp = F(o->u.conv.yp), *zp = F(o->u.conv.zp), *bp = F(o->u.conv.bp);
	int N = y->dims[0], K = y->dims[1], OH = y->dims[2], OW = y->dims[3], H = x->dims[2], W = x->dims[3];
	int kpg = K / cv->groups;
	size_t total = (size_t)N * K * OH * OW;
	float *out = malloc(total * sizeof(float));
	for (int n = 0; n < N; n++)
		for (int k = 0; k < K; k++) {
			int g = k / kpg;
			for (int oh = 0; oh < OH; oh++)
				for (int ow = 0; ow < OW; ow++) {
					double s = 0;
					for (int c = 0; c < f->c; c++)
						for (int r = 0; r < f->h; r++)
							for (int q = 0; q < f->w; q++) {
								int ih = oh * cv->u - cv->padh + r * cv->dilh, iw = ow * cv->v - cv->padw + q * cv->dilw;
								if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
								int rr = cv->mode == 0 ? f->h - 1 - r : r, qq = cv->mode == 0 ? f->w - 1 - q : q;
								s += (double)wp[((size_t)(k * f->c + c) * f->h + rr) * f->w + qq] * xp[at4(x, n, g * f->c + c, ih, iw)];
							}
					out[((size_t)(n * K + k) * OH + oh) * OW + ow] = (float)s;
				}
		}
	for (int n = 0; n < N; n++)
		for (int k = 0; k < K; k++)
			for (int oh = 0; oh < OH; oh++)
				for (int ow = 0; ow < OW; ow++) {
					double v = o->u.conv.alpha1 * (double)out[((size_t)(n * K + k) * OH + oh) * OW + ow];
					if (o->u.conv.alpha2 != 0) v += o->u.conv.alpha2 * (double)zp[at4(z, n, k, oh, ow)];
					if (o->u.conv.fused) v += bp[k];
					yp[at4(y, n, k, oh, ow)] = activate(&o->u.conv.act, v);
				}
	free(out);
}

static void run_pool(op *o) {
	tensor *x = &o->u.unary.x, *y = &o->u.unary.y;
	poold *p = &o->u.unary.pool;
	float *xp = F(o->u.unary.xp), *yp = F(o->u.unary.yp);
	for (int n = 0; n < y->dims[0]; n++)
		for (int c = 0; c < y->dims[1]; c++)
			for (int oh = 0; oh < y->dims[2]; oh++)
				for (int ow = 0; ow < y->dims[3]; ow++) {
					double best = -INFINITY, sum = 0;
					int count = 0;
					for (int r = 0; r < p->wh; r++)
						for (int q = 0; q < p->ww; q++) {
							int ih = oh * p->sh - p->padh + r, iw = ow * p->sw - p->padw + q;
							if (ih < 0 || ih >= x->dims[2] || iw < 0 || iw >= x->dims[3]) continue;
							double v = xp[at4(x, n, c, ih, iw)];
							best = v > best ? v : best;
							sum += v;
							count++;
						}
					double v = p->mode == 0 || p->mode == 3 ? best
						: p->mode == 1 ? sum / (p->wh * p->ww) : sum / count;
					size_t i = at4(y, n, c, oh, ow);
					yp[i] = (float)(o->u.unary.alpha * v + (o->u.unary.beta != 0 ? o->u.unary.beta * yp[i] : 0));
				}
}

/* index of element i (in row-major order of dims) through strides */
static size_t strided(const tensor *t, size_t i) {
	size_t off = 0;
	for (int d = t->nd - 1; d >= 0; d--) {
		off += (i % t->dims[d]) * t->strides[d];
		i /= t->dims[d];
	}
	return off;
}

static void run_add(op *o) {
	tensor *a = &o->u.unary.x, *c = &o->u.unary.y;
	float *ap = F(o->u.unary.xp), *cp = F(o->u.unary.yp);
	size_t total = elems(c);
	for (size_t i = 0; i < total; i++) {
		size_t rest = i, aoff = 0;
		for (int d = c->nd - 1; d >= 0; d--) {
			size_t idx = rest % c->dims[d];
			rest /= c->dims[d];
			if (a->dims[d] != 1) aoff += idx * a->strides[d];
		}
		size_t ci = strided(c, i);
		cp[ci] = (float)(o->u.unary.alpha * ap[aoff] + o->u.unary.beta * cp[ci]);
	}
}

static void run_softmax(op *o) {
	tensor *x = &o->u.unary.x, *y = &o->u.unary.y;
	float *xp = F(o->u.unary.xp), *yp = F(o->u.unary.yp);
	int N = x->dims[0], C = x->dims[1];
	int inner = 1;
	for (int d = 2; d < x->nd; d++) inner *= x->dims[d];
	/* INSTANCE: over C×inner of each n; CHANNEL: over C at each (n, inner) */
	int instance = o->u.unary.mode == 0;
	int groups = instance ? N : N * inner, len = instance ? C * inner : C;
#define LIN(g, j) (instance ? (size_t)(g) * C * inner + (j) : ((size_t)((g) / inner) * C + (j)) * inner + (g) % inner)
	for (int g = 0; g < groups; g++) {
		double m = -INFINITY, s = 0;
		for (int j = 0; j < len; j++) {
			double v = xp[strided(x, LIN(g, j))];
			m = v > m ? v : m;
		}
		for (int j = 0; j < len; j++) s += exp(xp[strided(x, LIN(g, j))] - m);
		for (int j = 0; j < len; j++) {
			double v = xp[strided(x, LIN(g, j))] - m;
			double r = o->u.unary.algo == 2 ? v - log(s) : exp(v) / s;
			size_t yi = strided(y, LIN(g, j));
			yp[yi] = (float)(o->u.unary.alpha * r + (o->u.unary.beta != 0 ? o->u.unary.beta * yp[yi] : 0));
		}
	}
#undef LIN
}

/* ---------------------------------------------- the runtime's kernels */

static float act_apply(int kind, float v, float p0, float p1) {
	switch (kind) {
	case 1: return v > 0 ? v : 0;                      /* relu */
	case 2: return fminf(fmaxf(v, p0), p1);            /* clip(p0, p1) */
	case 3: return fmaxf(0, fminf(1, p0 * v + p1));     /* hardsigmoid(p0, p1) */
	case 4: return v * fmaxf(0, fminf(1, p0 * v + p1)); /* hardswish(p0, p1) */
	case 5: return 1 / (1 + expf(-v));                 /* sigmoid */
	case 6: return tanhf(v);                           /* tanh */
	case 7: return v < 0 ? p0 * v : v;                 /* leakyrelu(p0) */
	case 8: return erff(v);                            /* erf */
	case 9: return 0.5f * v * (1 + erff(v * 0.70710678118654752f)); /* gelu */
	case 10: return sqrtf(v);                          /* sqrt */
	case 11: return p0 == 2 ? v * v : powf(v, p0);     /* pow(p0) */
	case 12: return expf(v);                           /* exp */
	case 13: return logf(v);                           /* log */
	case 14: return fabsf(v);                          /* abs */
	case 15: return -v;                                /* neg */
	case 16: return 1 / v;                             /* reciprocal */
	case 17: return v > 0 ? p1 * v : p1 * p0 * expm1f(v); /* elu(p0), selu's gamma p1 */
	case 18: return v > 20 ? v : log1pf(expf(v));      /* softplus */
	case 19: return v / (1 + fabsf(v));                /* softsign */
	case 20: return v * tanhf(v > 20 ? v : log1pf(expf(v))); /* mish */
	case 21: return 0.5f * v * (1 + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v))); /* gelu tanh */
	case 22: return v > p0 ? v : 0;                    /* thresholdedrelu(p0) */
	case 23: return fmaxf(v, 0) + fminf(0, p0 * expm1f(v / p0)); /* celu(p0) */
	case 24: return floorf(v);                         /* floor */
	case 25: return ceilf(v);                          /* ceil */
	case 26: return rintf(v);                          /* round, halves to even */
	case 27: return v > 0 ? 1 : v < 0 ? -1 : v;        /* sign */
	case 28: return sinf(v);                           /* sin */
	case 29: return cosf(v);                           /* cos */
	case 30: return v / (1 + expf(-v));                /* silu */
	}
	return v;
}

/* arg reads the next parameter of type T from a packed argument buffer. */
#define ARG(T, buf, off) (off = (off + sizeof(T) - 1) / sizeof(T) * sizeof(T), off += sizeof(T), *(T *)((buf) + off - sizeof(T)))

/* run_kernel is the CPU twin of the runtime's NVRTC kernels, with the
 * parameter lists of their CUDA sources:
 *   channel_act(x, y, n, inner, channels, scale, shift, z, act, p0, p1):
 *     y[i] = act(x[i]·scale[c] + shift[c] + z[i]), c = i / inner % channels,
 *     each of scale, shift and z optional (null);
 *   gemm_epilogue(y, rows, cols, ldy, c, cRow, cCol, beta, act, p0, p1):
 *     y[r·ldy + j] = act(y[r·ldy + j] + beta·c[r·cRow + j·cCol]), c optional;
 *   binary(a, b, y, n, rank, d1..d5, sa0..sa5, sb0..sb5, op, act, p0, p1):
 *     y[i] = act(a[Σ i_k·sa_k] op b[Σ i_k·sb_k]) over the rank dims [n/(d1·…·d[rank-1]), d1, …],
 *     op 0 add, 1 mul, 2 sub, 3 div, 4 max, 5 min (NaN where either is NaN);
 *   concat(y, outer, yRow, parts): for each part k and outer index o, the
 *     block[k] elements x[k][o·block[k]:] go to y[o·yRow + start[k]:];
 *   depthwise_conv(x, w, bias, z, y, n, c, h, w, m, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, act, p0, p1):
 *     a convolution with c groups of one input channel and m/c filters each,
 *     plus bias and residual z (either null), then the activation;
 *   gemm_rows(a, b, y, m, n, k, lda, ldb, ldy, alpha, c, cRow, cCol, beta, cols, act, p0, p1):
 *     y[r·ldy + j] = act(alpha·Σ_q a[r·lda + q]·b[j·ldb + q] + beta·c[r·cRow + j·cCol]), c optional
 *     (cols, the columns per block, changes nothing here);
 *   pool2d(x, y, planes, h, w, oh, ow, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, mode):
 *     pooling with any padding and dilation: mode 0 the maximum over the window's positions
 *     inside the input, 1 their average, 2 their sum over the positions inside the padded input;
 *   pad2d(x, y, planes, h, w, oh, ow, top, left): each h×w plane of x at (top, left) in an
 *     oh×ow plane of y, zeros around it;
 *   layer_norm(x, y, rows, len, scale, bias, eps): each row of len elements normalised to
 *     mean 0 and variance 1 (biased, eps added), times scale[j] plus bias[j], each optional;
 *   resize2d(x, y, planes, h, w, oh, ow, table): each h×w plane resized to oh×ow by a table of
 *     (i0, i1, w) per output row then column: the four elements' weighted sum, w = 0 taking i0's;
 *   lrn(x, y, n, c, inner, size, alpha, beta, bias): x / (bias + alpha/size · Σ x²)^beta, the sum
 *     over channels ch − (size−1)/2 to ch + size/2 of the image;
 *   conv_transpose(x, w, bias, y, n, c, h, w, groups, mg, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl,
 *     act, p0, p1): a 2-D transposed convolution, each output gathering the inputs that reach it. */
static void run_kernel(op *o) {
	unsigned char *b = o->u.kernel.args;
	size_t off = 0;
	if (o->u.kernel.launch != NULL) {
		char err[512];
		if (o->u.kernel.launch(b, o->u.kernel.grid, o->u.kernel.block, err, sizeof err) != 0) {
			fprintf(stderr, "fakecuda: kernel %s\n", err);
			abort();
		}
		return;
	}
	switch (o->u.kernel.fn) {
	case FN_CHANNEL_ACT: {
		float *x = F(ARG(dptr, b, off)), *y = F(ARG(dptr, b, off));
		int n = ARG(int, b, off), inner = ARG(int, b, off), channels = ARG(int, b, off);
		float *scale = F(ARG(dptr, b, off)), *shift = F(ARG(dptr, b, off)), *z = F(ARG(dptr, b, off));
		int kind = ARG(int, b, off);
		float p0 = ARG(float, b, off), p1 = ARG(float, b, off);
		for (int i = 0; i < n; i++) {
			int c = i / inner % channels;
			float v = x[i];
			if (scale != NULL) v *= scale[c];
			if (shift != NULL) v += shift[c];
			if (z != NULL) v += z[i];
			y[i] = act_apply(kind, v, p0, p1);
		}
		break;
	}
	case FN_GEMM_EPILOGUE: {
		float *y = F(ARG(dptr, b, off));
		int rows = ARG(int, b, off), cols = ARG(int, b, off), ldy = ARG(int, b, off);
		float *c = F(ARG(dptr, b, off));
		int crow = ARG(int, b, off), ccol = ARG(int, b, off);
		float beta = ARG(float, b, off);
		int kind = ARG(int, b, off);
		float p0 = ARG(float, b, off), p1 = ARG(float, b, off);
		for (int r = 0; r < rows; r++)
			for (int j = 0; j < cols; j++) {
				float v = y[(size_t)r * ldy + j];
				if (c != NULL) v += beta * c[(size_t)r * crow + (size_t)j * ccol];
				y[(size_t)r * ldy + j] = act_apply(kind, v, p0, p1);
			}
		break;
	}
	case FN_BINARY: {
		float *a = F(ARG(dptr, b, off)), *bb = F(ARG(dptr, b, off)), *y = F(ARG(dptr, b, off));
		int n = ARG(int, b, off), rank = ARG(int, b, off), d[6], sa[6], sb[6];
		for (int k = 1; k < 6; k++) d[k] = ARG(int, b, off);
		for (int k = 0; k < 6; k++) sa[k] = ARG(int, b, off);
		for (int k = 0; k < 6; k++) sb[k] = ARG(int, b, off);
		int op = ARG(int, b, off), kind = ARG(int, b, off);
		float p0 = ARG(float, b, off), p1 = ARG(float, b, off);
		if (rank < 1 || rank > 6) {
			fprintf(stderr, "fakecuda: binary of rank %d\n", rank);
			abort();
		}
		for (int i = 0; i < n; i++) {
			int r = i, idx[6];
			for (int k = rank - 1; k > 0; k--) idx[k] = r % d[k], r /= d[k];
			idx[0] = r;
			size_t ai = 0, bi = 0;
			for (int k = 0; k < rank; k++) ai += (size_t)idx[k] * sa[k], bi += (size_t)idx[k] * sb[k];
			float u = a[ai], v = bb[bi];
			float w = op == 0 ? u + v : op == 1 ? u * v : op == 2 ? u - v : op == 3 ? u / v
				: op == 4 ? (u > v || u != u ? u : v) : (u < v || u != u ? u : v);
			y[i] = act_apply(kind, w, p0, p1);
		}
		break;
	}
	case FN_CONCAT: {
		float *y = F(ARG(dptr, b, off));
		int outer = ARG(int, b, off), yrow = ARG(int, b, off);
		off = (off + 7) / 8 * 8;
		concat_parts *p = (concat_parts *)(b + off);
		for (int k = 0; k < p->count; k++)
			for (int q = 0; q < outer; q++)
				memcpy(y + (size_t)q * yrow + p->start[k], F(p->x[k]) + (size_t)q * p->block[k], (size_t)p->block[k] * 4);
		break;
	}
	case FN_GEMM_ROWS: {
		float *a = F(ARG(dptr, b, off)), *w = F(ARG(dptr, b, off)), *y = F(ARG(dptr, b, off));
		int m = ARG(int, b, off), n = ARG(int, b, off), k = ARG(int, b, off);
		int lda = ARG(int, b, off), ldb = ARG(int, b, off), ldy = ARG(int, b, off);
		float alpha = ARG(float, b, off);
		float *c = F(ARG(dptr, b, off));
		int crow = ARG(int, b, off), ccol = ARG(int, b, off);
		float beta = ARG(float, b, off);
		(void)ARG(int, b, off); /* cols */
		int kind = ARG(int, b, off);
		float p0 = ARG(float, b, off), p1 = ARG(float, b, off);
		for (int r = 0; r < m; r++)
			for (int j = 0; j < n; j++) {
				float s = 0;
				for (int q = 0; q < k; q++) s += a[(size_t)r * lda + q] * w[(size_t)j * ldb + q];
				float v = alpha * s;
				if (c != NULL) v += beta * c[(size_t)r * crow + (size_t)j * ccol];
				y[(size_t)r * ldy + j] = act_apply(kind, v, p0, p1);
			}
		break;
	}
	case FN_POOL2D: {
		float *x = F(ARG(dptr, b, off)), *y = F(ARG(dptr, b, off));
		int g[16];
		for (int k = 0; k < 16; k++) g[k] = ARG(int, b, off);
		int planes = g[0], h = g[1], w = g[2], oh = g[3], ow = g[4], kh = g[5], kw = g[6], sh = g[7], sw = g[8];
		int pt = g[9], pl = g[10], pb = g[11], pr = g[12], dh = g[13], dw = g[14], mode = g[15];
		for (int i = 0; i < planes * oh * ow; i++) {
			int ox = i % ow, t = i / ow, oy = t % oh, p = t / oh;
			const float *xp = x + (size_t)p * h * w;
			int y0 = oy * sh - pt, x0 = ox * sw - pl, n = 0;
			float acc = mode == 0 ? -INFINITY : 0;
			for (int ky = 0; ky < kh; ky++) {
				int iy = y0 + ky * dh;
				if (iy < 0 || iy >= h) continue;
				for (int kx = 0; kx < kw; kx++) {
					int ix = x0 + kx * dw;
					if (ix < 0 || ix >= w) continue;
					acc = mode == 0 ? fmaxf(acc, xp[iy * w + ix]) : acc + xp[iy * w + ix];
					n++;
				}
			}
			if (mode != 0) {
				int div = n;
				if (mode == 2) {
					/* positions inside the padded input, rows times columns */
					int rows = 0, cols = 0;
					for (int k = 0; k < kh; k++) rows += y0 + pt + k * dh >= 0 && y0 + pt + k * dh < h + pt + pb;
					for (int k = 0; k < kw; k++) cols += x0 + pl + k * dw >= 0 && x0 + pl + k * dw < w + pl + pr;
					div = rows * cols;
				}
				if (div > 0) acc /= (float)div;
			}
			y[i] = acc;
		}
		break;
	}
	case FN_PAD2D: {
		float *x = F(ARG(dptr, b, off)), *y = F(ARG(dptr, b, off));
		int g[7];
		for (int k = 0; k < 7; k++) g[k] = ARG(int, b, off);
		int planes = g[0], h = g[1], w = g[2], oh = g[3], ow = g[4], top = g[5], left = g[6];
		for (int i = 0; i < planes * oh * ow; i++) {
			int ox = i % ow, t = i / ow, oy = t % oh, p = t / oh, iy = oy - top, ix = ox - left;
			y[i] = iy >= 0 && iy < h && ix >= 0 && ix < w ? x[((size_t)p * h + iy) * w + ix] : 0;
		}
		break;
	}
	case FN_CONV_TRANSPOSE: {
		float *x = F(ARG(dptr, b, off)), *wt = F(ARG(dptr, b, off)), *bias = F(ARG(dptr, b, off)), *y = F(ARG(dptr, b, off));
		int g[16];
		for (int k = 0; k < 16; k++) g[k] = ARG(int, b, off);
		int kind = ARG(int, b, off);
		float p0 = ARG(float, b, off), p1 = ARG(float, b, off);
		int n = g[0], c = g[1], h = g[2], w = g[3], groups = g[4], mg = g[5], oh = g[6], ow = g[7];
		int kh = g[8], kw = g[9], sh = g[10], sw = g[11], dh = g[12], dw = g[13], pt = g[14], pl = g[15];
		int m = mg * groups, cg = c / groups;
		for (int i = 0; i < n * m * oh * ow; i++) {
			int ox = i % ow, t = i / ow, oy = t % oh;
			t /= oh;
			int oc = t % m, img = t / m, gi = oc / mg, mi = oc % mg;
			float s = bias != NULL ? bias[oc] : 0;
			for (int ky = 0; ky < kh; ky++) {
				int ty = oy + pt - ky * dh;
				if (ty < 0 || ty % sh != 0 || ty / sh >= h) continue;
				for (int kx = 0; kx < kw; kx++) {
					int tx = ox + pl - kx * dw;
					if (tx < 0 || tx % sw != 0 || tx / sw >= w) continue;
					for (int ci = gi * cg; ci < (gi + 1) * cg; ci++)
						s += x[(((size_t)img * c + ci) * h + ty / sh) * w + tx / sw] * wt[(((size_t)ci * mg + mi) * kh + ky) * kw + kx];
				}
			}
			y[i] = act_apply(kind, s, p0, p1);
		}
		break;
	}
	case FN_LRN: {
		float *x = F(ARG(dptr, b, off)), *y = F(ARG(dptr, b, off));
		int n = ARG(int, b, off), c = ARG(int, b, off), inner = ARG(int, b, off), size = ARG(int, b, off);
		float alpha = ARG(float, b, off), beta = ARG(float, b, off), bias = ARG(float, b, off);
		for (int i = 0; i < n * c * inner; i++) {
			int s = i % inner, ch = i / inner % c, img = i / (inner * c);
			int from = ch - (size - 1) / 2, to = ch + size / 2;
			float sq = 0;
			for (int q = from < 0 ? 0 : from; q <= (to > c - 1 ? c - 1 : to); q++) {
				float v = x[((size_t)img * c + q) * inner + s];
				sq += v * v;
			}
			y[i] = x[i] / powf(bias + alpha / (float)size * sq, beta);
		}
		break;
	}
	case FN_RESIZE2D: {
		float *x = F(ARG(dptr, b, off)), *y = F(ARG(dptr, b, off));
		int g[5];
		for (int k = 0; k < 5; k++) g[k] = ARG(int, b, off);
		float *table = F(ARG(dptr, b, off));
		int planes = g[0], h = g[1], w = g[2], oh = g[3], ow = g[4];
		const float *cols = table + 3 * oh;
#define CLAMPI(v, n) ((int)(v) < 0 ? 0 : (int)(v) > (n) - 1 ? (n) - 1 : (int)(v))
#define LERP(a, b, t) ((t) == 0 ? (a) : (a) * (1 - (t)) + (b) * (t))
		for (int i = 0; i < planes * oh * ow; i++) {
			int ox = i % ow, t = i / ow, oy = t % oh, p = t / oh;
			const float *xp = x + (size_t)p * h * w;
			int r0 = CLAMPI(table[3 * oy], h) * w, r1 = CLAMPI(table[3 * oy + 1], h) * w;
			int c0 = CLAMPI(cols[3 * ox], w), c1 = CLAMPI(cols[3 * ox + 1], w);
			float wy = table[3 * oy + 2], wx = cols[3 * ox + 2];
			float top = LERP(xp[r0 + c0], xp[r0 + c1], wx), bottom = LERP(xp[r1 + c0], xp[r1 + c1], wx);
			y[i] = LERP(top, bottom, wy);
		}
#undef CLAMPI
#undef LERP
		break;
	}
	case FN_LAYER_NORM: {
		float *x = F(ARG(dptr, b, off)), *y = F(ARG(dptr, b, off));
		int rows = ARG(int, b, off), len = ARG(int, b, off);
		float *scale = F(ARG(dptr, b, off)), *bias = F(ARG(dptr, b, off));
		float eps = ARG(float, b, off);
		for (int r = 0; r < rows; r++) {
			const float *p = x + (size_t)r * len;
			float *q = y + (size_t)r * len;
			float s = 0, v = 0;
			for (int i = 0; i < len; i++) s += p[i];
			float mean = s / (float)len;
			for (int i = 0; i < len; i++) v += (p[i] - mean) * (p[i] - mean);
			float inv = 1 / sqrtf(v / (float)len + eps);
			for (int i = 0; i < len; i++) q[i] = (p[i] - mean) * inv * (scale != NULL ? scale[i] : 1) + (bias != NULL ? bias[i] : 0);
		}
		break;
	}
	case FN_DEPTHWISE: {
		float *x = F(ARG(dptr, b, off)), *w = F(ARG(dptr, b, off)), *bias = F(ARG(dptr, b, off));
		float *z = F(ARG(dptr, b, off)), *y = F(ARG(dptr, b, off));
		int g[15];
		for (int k = 0; k < 15; k++) g[k] = ARG(int, b, off);
		int n = g[0], c = g[1], h = g[2], wd = g[3], m = g[4], oh = g[5], ow = g[6], kh = g[7], kw = g[8];
		int sh = g[9], sw = g[10], ph = g[11], pw = g[12], dh = g[13], dw = g[14];
		int kind = ARG(int, b, off);
		float p0 = ARG(float, b, off), p1 = ARG(float, b, off);
		int mult = m / c;
		for (int i = 0; i < n * m * oh * ow; i++) {
			int ox = i % ow, t = i / ow, oy = t % oh;
			t /= oh;
			int oc = t % m, bb = t / m;
			const float *xp = x + ((size_t)bb * c + oc / mult) * h * wd, *wp = w + (size_t)oc * kh * kw;
			float s = 0;
			for (int ky = 0; ky < kh; ky++) {
				int iy = oy * sh - ph + ky * dh;
				if (iy < 0 || iy >= h) continue;
				for (int kx = 0; kx < kw; kx++) {
					int ix = ox * sw - pw + kx * dw;
					if (ix >= 0 && ix < wd) s += xp[iy * wd + ix] * wp[ky * kw + kx];
				}
			}
			if (bias != NULL) s += bias[oc];
			if (z != NULL) s += z[i];
			y[i] = act_apply(kind, s, p0, p1);
		}
		break;
	}
	}
}

/* zero writes n zeros at p. The whole pages between are dropped instead
 * where they are private memory (cuMemAlloc's), which then reads as zeros
 * and takes no memory until written: the worker zeroes each GPU's 1 GiB
 * profiling weights area and its pools at start-up, and writing them took
 * a two-GPU worker 10 s to start on a 2-core machine (1.2 s since). Below
 * 16 MiB, and in VMM mappings, which share their memory file (dropping
 * their pages would not zero it), the zeros are written: a graph that
 * zeroes a buffer on every replay would fault its pages in every time. */
static void zero(char *p, size_t n) {
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	char *lo = (char *)(((uintptr_t)p + pg - 1) & ~(pg - 1));
	char *hi = (char *)((uintptr_t)(p + n) & ~(pg - 1));
	pthread_mutex_lock(&vmu);
	int shared = mapped_in(p, n);
	pthread_mutex_unlock(&vmu);
	if (n < (16 << 20) || shared || madvise(lo, (size_t)(hi - lo), MADV_DONTNEED) != 0) {
		memset(p, 0, n);
		return;
	}
	memset(p, 0, (size_t)(lo - p));
	memset(hi, 0, (size_t)(p + n - hi));
}

static void run(op *o) {
	switch (o->kind) {
	case OP_KERNEL:
		run_kernel(o);
		break;
	case OP_COPY:
		memmove(o->u.copy.dst, o->u.copy.src, o->u.copy.n);
		break;
	case OP_SET8:
		if (o->u.set.v == 0) {
			zero(o->u.set.dst, o->u.set.n);
		} else {
			memset(o->u.set.dst, (int)o->u.set.v, o->u.set.n);
		}
		break;
	case OP_SET32:
		for (size_t i = 0; i < o->u.set.n; i++) ((unsigned *)o->u.set.dst)[i] = o->u.set.v;
		break;
	case OP_CONV:
		run_conv(o);
		break;
	case OP_ACT: {
		size_t n = elems(&o->u.unary.x);
		float *xp = F(o->u.unary.xp), *yp = F(o->u.unary.yp);
		for (size_t i = 0; i < n; i++) {
			size_t xi = strided(&o->u.unary.x, i), yi = strided(&o->u.unary.y, i);
			yp[yi] = (float)(o->u.unary.alpha * activate(&o->u.unary.act, xp[xi]) +
				(o->u.unary.beta != 0 ? o->u.unary.beta * yp[yi] : 0));
		}
		break;
	}
	case OP_POOL:
		run_pool(o);
		break;
	case OP_ADD:
		run_add(o);
		break;
	case OP_SOFTMAX:
		run_softmax(o);
		break;
	case OP_GAP: {
		/* one warp per plane: planes beyond the launched warps are left alone */
		int warps = o->u.gap.threads / 32;
		for (int p = 0; p < o->u.gap.planes && p < warps; p++) {
			const float *x = F(o->u.gap.x) + (size_t)p * o->u.gap.hw;
			if (o->u.gap.max) {
				float m = -INFINITY;
				for (int i = 0; i < o->u.gap.hw; i++) m = fmaxf(m, x[i]);
				F(o->u.gap.y)[p] = m;
				continue;
			}
			double s = 0;
			for (int i = 0; i < o->u.gap.hw; i++) s += x[i];
			F(o->u.gap.y)[p] = (float)(s * o->u.gap.scale);
		}
		break;
	}
	case OP_SCALE:
		for (int i = 0; i < o->u.scale.n && i < o->u.scale.threads; i++) F(o->u.scale.x)[i] *= o->u.scale.k;
		break;
	case OP_GEMM: {
		int m = o->u.gemm.m, n = o->u.gemm.n, k = o->u.gemm.k;
		float *a = F(o->u.gemm.a), *b = F(o->u.gemm.b), *c = F(o->u.gemm.c);
		for (int j = 0; j < n; j++)
			for (int i = 0; i < m; i++) {
				double s = 0;
				for (int l = 0; l < k; l++) {
					float av = o->u.gemm.ta ? a[l + (size_t)i * o->u.gemm.lda] : a[i + (size_t)l * o->u.gemm.lda];
					float bv = o->u.gemm.tb ? b[j + (size_t)l * o->u.gemm.ldb] : b[l + (size_t)j * o->u.gemm.ldb];
					s += (double)av * bv;
				}
				float *cv = &c[i + (size_t)j * o->u.gemm.ldc];
				*cv = (float)(o->u.gemm.alpha * s + (o->u.gemm.beta != 0 ? o->u.gemm.beta * *cv : 0));
			}
		break;
	}
	}
}
