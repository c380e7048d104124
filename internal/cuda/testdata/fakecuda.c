/* A stand-in for libcuda.so.1 with a few functions, for tests on machines
 * without a GPU. cuCtxSetFlags is left out on purpose. */
#include <stddef.h>
#include <string.h>

int cuInit(unsigned flags) { return flags == 0 ? 0 : 1; }

int cuDriverGetVersion(int *v) {
	*v = 13000;
	return 0;
}

int cuGetErrorName(int e, const char **s) {
	*s = e == 2 ? "CUDA_ERROR_OUT_OF_MEMORY" : "CUDA_ERROR_UNKNOWN";
	return 0;
}

int cuGetErrorString(int e, const char **s) {
	*s = e == 2 ? "out of memory" : "unknown error";
	return 0;
}

int cuMemAlloc_v2(unsigned long long *p, size_t n) {
	if (n > (1ull << 30)) {
		return 2;
	}
	*p = 0x1000;
	return 0;
}

static int polls;

/* Not ready twice, then complete. */
int cuEventQuery(void *e) {
	(void)e;
	return ++polls % 3 == 0 ? 0 : 600;
}

int cuGraphLaunch(void *e, void *s) { return e == NULL && s == NULL ? 0 : 1; }

/* Accepts only grid (2,1,1), block (128,1,1) and the arguments
 * (0xdeadbeef, 7, 1.5f, 0x2000). */
int cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
	unsigned shared, void *s, void **params, void **extra) {
	unsigned long long p, q;
	int n;
	float x;
	(void)f, (void)s;
	if (gx != 2 || gy != 1 || gz != 1 || bx != 128 || by != 1 || bz != 1 || shared != 0 || extra != NULL) {
		return 1;
	}
	memcpy(&p, params[0], 8);
	memcpy(&n, params[1], 4);
	memcpy(&x, params[2], 4);
	memcpy(&q, params[3], 8);
	return p == 0xdeadbeef && n == 7 && x == 1.5f && q == 0x2000 ? 0 : 1;
}
