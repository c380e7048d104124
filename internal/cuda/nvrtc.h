/* NVRTC (libnvrtc.so.13): prototypes written from the public documentation;
 * the program handle is void*. */
#ifndef CW_NVRTC_H
#define CW_NVRTC_H

#include "cw.h"

#define CW_NVRTC_API(X) \
	X(int, nvrtcVersion, nvrtcVersion, (int *major, int *minor), (major, minor)) \
	X(cw_str, nvrtcGetErrorString, nvrtcGetErrorString, (int rc), (rc)) \
	X(int, nvrtcCreateProgram, nvrtcCreateProgram, \
		(void **p, const char *src, const char *name, int nh, const char *const *headers, \
		 const char *const *includes), \
		(p, src, name, nh, headers, includes)) \
	X(int, nvrtcCompileProgram, nvrtcCompileProgram, (void *p, int n, const char *const *opts), (p, n, opts)) \
	X(int, nvrtcGetProgramLogSize, nvrtcGetProgramLogSize, (void *p, size_t *n), (p, n)) \
	X(int, nvrtcGetProgramLog, nvrtcGetProgramLog, (void *p, char *log), (p, log)) \
	X(int, nvrtcGetCUBINSize, nvrtcGetCUBINSize, (void *p, size_t *n), (p, n)) \
	X(int, nvrtcGetCUBIN, nvrtcGetCUBIN, (void *p, char *cubin), (p, cubin)) \
	X(int, nvrtcGetPTXSize, nvrtcGetPTXSize, (void *p, size_t *n), (p, n)) \
	X(int, nvrtcGetPTX, nvrtcGetPTX, (void *p, char *ptx), (p, ptx)) \
	X(int, nvrtcDestroyProgram, nvrtcDestroyProgram, (void **p), (p))

CW_NVRTC_API(CW_DECLARE)

cw_sym *cw_nvrtc_syms(void);
int cw_nvrtc_nsyms(void);

#endif
