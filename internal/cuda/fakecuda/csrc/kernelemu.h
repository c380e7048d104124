/*
 * kernelemu.h: CUDA kernel source compiled as C++ and run on the CPU, for
 * fakecuda with FAKECUDA_KERNELS=source.
 *
 * fakecuda's own kernels are CPU twins written apart from the CUDA source
 * the GPU compiles, so tests on the fake check the twin, not the source. In
 * this mode the fake compiles the source NVRTC is given with the host's
 * C++ compiler, this header included first, and every launch runs the
 * kernel's own code: each thread of a block is a fiber (a stack of its
 * own), run until it ends or waits at a barrier, so __syncthreads, shared
 * memory and warp shuffles behave as on a GPU for code that uses them as
 * CUDA defines them, and every other block runs its threads in reverse
 * order, so that a missing barrier shows. What a GPU would hang on or
 * leave undefined is reported instead: threads waiting on each other (at
 * __syncthreads and in a shuffle), a shuffle whose mask names a lane that
 * has ended or leaves out its own, a lane ending while others wait for it
 * in a shuffle, a parameter list that differs from the twin's. Reading a
 * lane outside the shuffle's mask gives NaN (all bits set).
 *
 * The fake writes, after the source, one FAKECUDA_KERNEL(name) line for
 * each extern "C" __global__ function: its launcher unpacks the launch's
 * parameters, laid out as cuLaunchKernel's are (each at its natural
 * alignment), and runs the grid block by block. Launches are serialised
 * (one lock per compiled source), so __shared__ variables are statics.
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <tuple>
#include <type_traits>
/* Fibers switch stacks with a few instructions on x86-64 and with
 * swapcontext (a system call each way) elsewhere, or with
 * -DFCEMU_UCONTEXT. */
#if defined(__x86_64__) && !defined(FCEMU_UCONTEXT)
#define FCEMU_ASM 1
#else
#define FCEMU_ASM 0
#include <ucontext.h>
#endif

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
#define __shared__ static

struct uint3 {
	unsigned x, y, z;
};
typedef uint3 dim3;

static uint3 threadIdx, blockIdx;
static dim3 blockDim, gridDim;
static const int warpSize = 32;

static inline float __int_as_float(int i) {
	float f;
	memcpy(&f, &i, sizeof f);
	return f;
}

static inline int __float_as_int(float f) {
	int i;
	memcpy(&i, &f, sizeof i);
	return i;
}

namespace fcemu {

enum State { READY, WAIT_BLOCK, WAIT_WARP, DONE };

const int max_threads = 1024, max_warps = max_threads / 32;
const size_t stack_size = 64 << 10;

struct Fiber {
	void *sp;
	State state;
	unsigned mask; /* of the shuffle it waits in */
	int src;       /* the lane it reads there, or -1 */
	uint64_t give, take;
#if !FCEMU_ASM
	ucontext_t ctx;
#endif
};

/* The block being run: its fibers, who runs next, who waits where. A
 * shuffle is a barrier of the lanes its mask names (lanes of one warp in
 * different branches may shuffle apart, with masks that do not meet):
 * each lane gives a value and names the lane it takes from, and the last
 * to arrive hands every lane what it takes. */
static Fiber fibers[max_threads];
static int nthreads, live, cur, block_waiting;
static unsigned warp_running[max_warps]; /* lanes not ended, a bit each */
static unsigned warp_waiting[max_warps]; /* lanes waiting in a shuffle */
static int ready[max_threads], nready; /* fibers to run, in order */
static uint3 thread_index[max_threads]; /* threadIdx of each fiber */
static char *stacks;
static void (*body)(void *);
static void *body_arg;
static char failure[256];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

#if FCEMU_ASM
/* fcemu_switch saves the callee-saved registers on the running stack,
 * stores its pointer in *save and resumes the stack at to. */
extern "C" __attribute__((visibility("hidden"))) void fcemu_switch(void **save, void *to);
__asm__(".text\n"
	".p2align 4\n"
	".globl fcemu_switch\n"
	".hidden fcemu_switch\n"
	".type fcemu_switch, @function\n"
	"fcemu_switch:\n"
	"\tpushq %rbp\n\tpushq %rbx\n\tpushq %r12\n\tpushq %r13\n\tpushq %r14\n\tpushq %r15\n"
	"\tmovq %rsp, (%rdi)\n"
	"\tmovq %rsi, %rsp\n"
	"\tpopq %r15\n\tpopq %r14\n\tpopq %r13\n\tpopq %r12\n\tpopq %rbx\n\tpopq %rbp\n"
	"\tret\n"
	".size fcemu_switch, .-fcemu_switch\n");
static void *sched_sp;
#else
static ucontext_t sched_ctx;
#endif

static void fiber_main();

/* start readies fiber i to run the kernel from its first line. */
static void start(int i) {
	char *base = stacks + (size_t)i * stack_size;
	fibers[i].state = READY;
#if FCEMU_ASM
	void **sp = (void **)(((uintptr_t)base + stack_size) & ~(uintptr_t)15);
	*--sp = nullptr;             /* fiber_main's return address: it never returns */
	*--sp = (void *)&fiber_main; /* where fcemu_switch's ret goes */
	for (int r = 0; r < 6; r++) *--sp = nullptr;
	fibers[i].sp = sp;
#else
	getcontext(&fibers[i].ctx);
	fibers[i].ctx.uc_stack.ss_sp = base;
	fibers[i].ctx.uc_stack.ss_size = stack_size;
	fibers[i].ctx.uc_link = nullptr;
	makecontext(&fibers[i].ctx, fiber_main, 0);
#endif
}

/* resume runs fiber i until it ends or waits. */
static void resume(int i) {
	cur = i;
	threadIdx = thread_index[i];
#if FCEMU_ASM
	fcemu_switch(&sched_sp, fibers[i].sp);
#else
	swapcontext(&sched_ctx, &fibers[i].ctx);
#endif
}

/* yield returns from the running fiber to the block's loop. */
static void yield() {
#if FCEMU_ASM
	fcemu_switch(&fibers[cur].sp, sched_sp);
#else
	swapcontext(&fibers[cur].ctx, &sched_ctx);
#endif
}

/* fail stops the block with a message; the running fiber never resumes. */
static void fail(const char *msg, unsigned v) {
	if (failure[0] == 0) {
		snprintf(failure, sizeof failure, "thread (%u,%u,%u) of block (%u,%u,%u) %s%#x", threadIdx.x, threadIdx.y,
			threadIdx.z, blockIdx.x, blockIdx.y, blockIdx.z, msg, v);
	}
	yield();
	__builtin_trap();
}

static void wake(int i) {
	fibers[i].state = READY;
	ready[nready++] = i;
}

/* release_block readies the threads waiting at __syncthreads once every
 * thread that has not ended is there (ended threads count as arrived, as
 * on GPUs since Volta). */
static void release_block() {
	if (block_waiting > 0 && block_waiting == live) {
		for (int i = 0; i < nthreads; i++)
			if (fibers[i].state == WAIT_BLOCK) wake(i);
		block_waiting = 0;
	}
}

static void fiber_main() {
	body(body_arg);
	const int w = cur / 32;
	const unsigned bit = 1u << (cur & 31);
	fibers[cur].state = DONE;
	live--;
	warp_running[w] &= ~bit;
	for (unsigned waiting = warp_waiting[w]; waiting != 0; waiting &= waiting - 1) {
		const Fiber &g = fibers[w * 32 + __builtin_ctz(waiting)];
		if ((g.mask & bit) != 0) fail("ended while lanes wait for it in a shuffle with mask ", g.mask);
	}
	release_block();
	yield();
	__builtin_trap();
}

static void sync_block() {
	fibers[cur].state = WAIT_BLOCK;
	block_waiting++;
	release_block();
	yield();
}

/* shuffle exchanges v among the lanes of mask and returns the value lane
 * src gave: v itself where src is -1 (outside the caller's segment), all
 * bits set where src is a lane outside the mask. */
template <class T>
static T shuffle(unsigned mask, T v, int src) {
	static_assert(sizeof(T) <= sizeof(uint64_t), "shuffled values are at most 8 bytes");
	const int w = cur / 32;
	const unsigned bit = 1u << (cur & 31);
	if ((mask & bit) == 0) fail("shuffles with a mask that leaves out its own lane: ", mask);
	if ((mask & ~warp_running[w]) != 0) fail("shuffles with a mask naming lanes that have ended: ", mask & ~warp_running[w]);
	Fiber &f = fibers[cur];
	f.give = 0;
	memcpy(&f.give, &v, sizeof v);
	f.take = f.give;
	f.src = src;
	f.mask = mask;
	f.state = WAIT_WARP;
	warp_waiting[w] |= bit;
	if ((warp_waiting[w] & mask) == mask) {
		for (int l = 0; l < 32; l++) {
			if ((mask >> l & 1) != 0 && fibers[w * 32 + l].mask != mask) {
				fail("shuffles with a mask other than a lane waiting in one: ", fibers[w * 32 + l].mask);
			}
		}
		for (int l = 0; l < 32; l++) {
			if ((mask >> l & 1) == 0) continue;
			Fiber &g = fibers[w * 32 + l];
			if (g.src >= 0) g.take = (mask >> g.src & 1) != 0 ? fibers[w * 32 + g.src].give : ~(uint64_t)0;
			wake(w * 32 + l);
		}
		warp_waiting[w] &= ~mask;
	}
	yield();
	T out;
	memcpy(&out, &f.take, sizeof out);
	return out;
}

/* run_block runs every thread of one block to its end; false with
 * failure set where one failed or they wait on each other. */
static bool run_block() {
	live = nthreads;
	block_waiting = 0;
	for (int w = 0; w * 32 < nthreads; w++) {
		int lanes = nthreads - w * 32 < 32 ? nthreads - w * 32 : 32;
		warp_running[w] = lanes == 32 ? ~0u : (1u << lanes) - 1;
		warp_waiting[w] = 0;
	}
	for (int i = 0; i < nthreads; i++) {
		start(i);
		ready[i] = i;
	}
	nready = nthreads;
	/* Rounds: each runs the fibers made ready during the one before, in
	 * the order they were, or, in every other block, the reverse order,
	 * so that a thread reading what another writes with no barrier
	 * between reads it too early in one block or the other; a round with
	 * none while some have not ended is a deadlock. */
	static int running[max_threads];
	const bool backwards = ((blockIdx.x + blockIdx.y + blockIdx.z) & 1) != 0;
	while (live > 0) {
		int n = nready;
		if (n == 0) {
			int at_block = 0, at_warp = 0;
			for (int i = 0; i < nthreads; i++) {
				at_block += fibers[i].state == WAIT_BLOCK;
				at_warp += fibers[i].state == WAIT_WARP;
			}
			snprintf(failure, sizeof failure,
				"block (%u,%u,%u) deadlocks: %d threads wait at __syncthreads, %d in a warp shuffle, %d ended",
				blockIdx.x, blockIdx.y, blockIdx.z, at_block, at_warp, nthreads - live);
			return false;
		}
		memcpy(running, ready, (size_t)n * sizeof ready[0]);
		nready = 0;
		for (int k = 0; k < n; k++) {
			resume(running[backwards ? n - 1 - k : k]);
			if (failure[0] != 0) return false;
		}
	}
	return true;
}

/* param reads the next parameter of type T, at its natural alignment. */
template <class T>
static T param(const unsigned char *args, size_t &off) {
	off = (off + alignof(T) - 1) / alignof(T) * alignof(T);
	T v;
	memcpy(&v, args + off, sizeof v);
	off += sizeof v;
	return v;
}

template <class... A>
struct Call {
	void (*kernel)(A...);
	std::tuple<typename std::decay<A>::type...> args;
	static void run(void *p) {
		Call *c = (Call *)p;
		std::apply(c->kernel, c->args);
	}
};

/* launch runs kernel over grid g of blocks b with the parameters packed
 * in args; nonzero with a message in err where it failed. */
template <class... A>
static int launch(const char *name, void (*kernel)(A...), const unsigned char *args, const unsigned *g,
	const unsigned *b, char *err, size_t errn) {
	size_t off = 0;
	/* A braced list evaluates in order, so the parameters unpack in order. */
	Call<A...> call{kernel, {param<typename std::decay<A>::type>(args, off)...}};
	unsigned long long threads = (unsigned long long)b[0] * b[1] * b[2];
	if (threads == 0 || threads > max_threads || g[0] == 0 || g[1] == 0 || g[2] == 0) {
		snprintf(err, errn, "%s: launched with blocks of %u×%u×%u threads in a grid of %u×%u×%u", name, b[0], b[1],
			b[2], g[0], g[1], g[2]);
		return 1;
	}
	pthread_mutex_lock(&mu);
	if (stacks == nullptr) {
		void *p = mmap(nullptr, max_threads * stack_size, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED) {
			pthread_mutex_unlock(&mu);
			snprintf(err, errn, "%s: no memory for the threads' stacks", name);
			return 1;
		}
		stacks = (char *)p;
		/* a page at the bottom of each stack faults rather than letting a
		 * thread's stack grow into the one below it */
		for (int i = 0; i < max_threads; i++) mprotect(stacks + (size_t)i * stack_size, 4096, PROT_NONE);
	}
	gridDim = dim3{g[0], g[1], g[2]};
	blockDim = dim3{b[0], b[1], b[2]};
	nthreads = (int)threads;
	for (int i = 0; i < nthreads; i++) thread_index[i] = uint3{i % b[0], i / b[0] % b[1], i / (b[0] * b[1])};
	body = Call<A...>::run;
	body_arg = &call;
	failure[0] = 0;
	int rc = 0;
	for (unsigned z = 0; z < g[2] && rc == 0; z++)
		for (unsigned y = 0; y < g[1] && rc == 0; y++)
			for (unsigned x = 0; x < g[0] && rc == 0; x++) {
				blockIdx = uint3{x, y, z};
				if (!run_block()) {
					snprintf(err, errn, "%s: %s", name, failure);
					rc = 1;
				}
			}
	pthread_mutex_unlock(&mu);
	return rc;
}

/* describe records one parameter: its size and alignment in bytes. */
template <class T>
static void describe(int *sizes, int *aligns, int &n) {
	sizes[n] = (int)sizeof(T);
	aligns[n] = (int)alignof(T);
	n++;
}

template <class... A>
static int params(void (*)(A...), int *sizes, int *aligns, int max) {
	int n = 0;
	if ((int)sizeof...(A) > max) return -1;
	(describe<typename std::decay<A>::type>(sizes, aligns, n), ...);
	return n;
}

} // namespace fcemu

static inline void __syncthreads() { fcemu::sync_block(); }

template <class T>
static inline T __shfl_sync(unsigned mask, T v, int src, int width = 32) {
	int lane = fcemu::cur & 31;
	return fcemu::shuffle(mask, v, (lane & ~(width - 1)) + (src & (width - 1)));
}

/* As PTX's shfl.bfly: a lane of an earlier segment may be read, one of a
 * later segment gives the caller's own value. */
template <class T>
static inline T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32) {
	int lane = fcemu::cur & 31, src = lane ^ (lane_mask & 31);
	return fcemu::shuffle(mask, v, src <= (lane | (width - 1)) ? src : -1);
}

template <class T>
static inline T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32) {
	int lane = fcemu::cur & 31;
	return fcemu::shuffle(mask, v, (lane & (width - 1)) + (int)delta < width ? lane + (int)delta : -1);
}

template <class T>
static inline T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32) {
	int lane = fcemu::cur & 31;
	return fcemu::shuffle(mask, v, (lane & (width - 1)) >= (int)delta ? lane - (int)delta : -1);
}

/* FAKECUDA_KERNEL(name) exports name's launcher and its parameter list. */
#define FAKECUDA_KERNEL(name)                                                                                  \
	extern "C" __attribute__((visibility("default"))) int fakecuda_launch_##name(const unsigned char *args,   \
		const unsigned *grid, const unsigned *block, char *err, size_t errn) {                             \
		return fcemu::launch(#name, name, args, grid, block, err, errn);                                    \
	}                                                                                                          \
	extern "C" __attribute__((visibility("default"))) int fakecuda_params_##name(int *sizes, int *aligns,      \
		int max) {                                                                                         \
		return fcemu::params(name, sizes, aligns, max);                                                     \
	}
