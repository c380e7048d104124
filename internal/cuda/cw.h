/*
 * Shared machinery of the package's C shim: every NVIDIA function is reached
 * through a pointer that dlsym filled in, behind a wrapper that returns a
 * failure value instead of calling a null pointer.
 *
 * A library's functions are listed once, as an X-macro of entries
 * X(ret, name, symbol, (params), (args)); the list expands into the wrapper
 * declarations (here, for cgo), the pointers and wrappers (in the library's
 * .c file) and the table that cw_resolve fills.
 */
#ifndef CW_H
#define CW_H

#include <stddef.h>

/* Returned by an int wrapper whose symbol is missing; no NVIDIA status is negative. */
#define CW_NOSYM (-1)

typedef const char *cw_str;

/* A device address (CUdeviceptr); passed like a pointer on x86-64, so it
 * also stands for the void* and float* device pointers of cuDNN and cuBLAS. */
typedef unsigned long long cw_dptr;

#define CW_FAIL_int CW_NOSYM
#define CW_FAIL_size_t 0
#define CW_FAIL_cw_str NULL

typedef struct {
	const char *name;
	void **slot;
} cw_sym;

#define CW_DECLARE(ret, name, sym, params, args) ret cw_##name params;

#define CW_DEFINE(ret, name, sym, params, args) \
	static ret(*p_##name) params; \
	ret cw_##name params { return p_##name ? p_##name args : CW_FAIL_##ret; }

#define CW_ENTRY(ret, name, sym, params, args) {#sym, (void **)&p_##name},

/* dlopen with RTLD_NOW|RTLD_GLOBAL; on failure copies dlerror into err. */
void *cw_dlopen(const char *path, char *err, size_t errlen);

/* The file the dynamic loader opened for handle h. */
const char *cw_dlpath(void *h);

/* Fills every slot of syms from h; returns how many symbols are missing. */
int cw_resolve(void *h, cw_sym *syms, int n);

#endif
