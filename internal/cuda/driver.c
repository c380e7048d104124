#include "driver.h"

CW_DRIVER_API(CW_DEFINE)

static cw_sym syms[] = {CW_DRIVER_API(CW_ENTRY)};

cw_sym *cw_driver_syms(void) { return syms; }
int cw_driver_nsyms(void) { return sizeof syms / sizeof syms[0]; }

int cw_launch(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
	unsigned shared, void *s, char *args, const unsigned *offsets, int n) {
	if (n < 0 || n > 1024) {
		return 1; /* CUDA_ERROR_INVALID_VALUE: more than fits a kernel's parameter space */
	}
	void *params[n > 0 ? n : 1];
	for (int i = 0; i < n; i++) {
		params[i] = args + offsets[i];
	}
	return cw_cuLaunchKernel(f, gx, gy, gz, bx, by, bz, shared, s, n > 0 ? params : NULL, NULL);
}
