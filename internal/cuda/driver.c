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

int cw_exec(void *s, void *start, cw_dptr in_dst, cw_dptr in_src, size_t nin, void *graph,
	cw_dptr out_dst, cw_dptr out_src, size_t nout, void *end, int *step) {
	int rc;
	*step = 0;
	if ((rc = cw_cuEventRecord(start, s)) != 0) return rc;
	*step = 1;
	if (nin > 0 && (rc = cw_cuMemcpyDtoDAsync(in_dst, in_src, nin, s)) != 0) return rc;
	*step = 2;
	if ((rc = cw_cuGraphLaunch(graph, s)) != 0) return rc;
	*step = 3;
	if (nout > 0 && (rc = cw_cuMemcpyDtoDAsync(out_dst, out_src, nout, s)) != 0) return rc;
	*step = 4;
	return cw_cuEventRecord(end, s);
}
