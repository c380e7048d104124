/* CUDA driver API (libcuda.so.1): prototypes written from the public
 * documentation; handles are void*, device pointers unsigned long long,
 * enums int. Symbols are the versioned names that cuda.h of CUDA 12/13 maps
 * the API names to. */
#ifndef CW_DRIVER_H
#define CW_DRIVER_H

#include "cw.h"

/* CUgraphExecUpdateResultInfo */
typedef struct {
	int result;
	void *errorNode;
	void *errorFromNode;
} cw_graph_update_info;

/* CUmemLocation, CUmemAllocationProp and CUmemAccessDesc of the virtual
 * memory management API (CUDA 11+ layout: 32 and 12 bytes). */
typedef struct {
	int type; /* CU_MEM_LOCATION_TYPE_DEVICE = 1 */
	int id;
} cw_mem_location;

typedef struct {
	int type;                 /* CU_MEM_ALLOCATION_TYPE_PINNED = 1 */
	int requestedHandleTypes; /* CU_MEM_HANDLE_TYPE_NONE = 0 */
	cw_mem_location location;
	void *win32HandleMetaData;
	unsigned char compressionType, gpuDirectRDMACapable;
	unsigned short usage;
	unsigned char reserved[4];
} cw_mem_prop;

typedef struct {
	cw_mem_location location;
	int flags; /* CU_MEM_ACCESS_FLAGS_PROT_READWRITE = 3 */
} cw_mem_access;

#define CW_DRIVER_API(X) \
	X(int, cuInit, cuInit, (unsigned int flags), (flags)) \
	X(int, cuDriverGetVersion, cuDriverGetVersion, (int *v), (v)) \
	X(int, cuGetErrorName, cuGetErrorName, (int e, const char **s), (e, s)) \
	X(int, cuGetErrorString, cuGetErrorString, (int e, const char **s), (e, s)) \
	X(int, cuDeviceGetCount, cuDeviceGetCount, (int *n), (n)) \
	X(int, cuDeviceGet, cuDeviceGet, (int *d, int ordinal), (d, ordinal)) \
	X(int, cuDeviceGetName, cuDeviceGetName, (char *name, int len, int d), (name, len, d)) \
	X(int, cuDeviceGetAttribute, cuDeviceGetAttribute, (int *v, int attr, int d), (v, attr, d)) \
	X(int, cuDeviceTotalMem, cuDeviceTotalMem_v2, (size_t *n, int d), (n, d)) \
	X(int, cuDevicePrimaryCtxRetain, cuDevicePrimaryCtxRetain, (void **ctx, int d), (ctx, d)) \
	X(int, cuDevicePrimaryCtxRelease, cuDevicePrimaryCtxRelease_v2, (int d), (d)) \
	X(int, cuDevicePrimaryCtxSetFlags, cuDevicePrimaryCtxSetFlags_v2, (int d, unsigned int flags), (d, flags)) \
	X(int, cuCtxSetCurrent, cuCtxSetCurrent, (void *ctx), (ctx)) \
	X(int, cuCtxGetCurrent, cuCtxGetCurrent, (void **ctx), (ctx)) \
	X(int, cuCtxSetFlags, cuCtxSetFlags, (unsigned int flags), (flags)) \
	X(int, cuCtxSynchronize, cuCtxSynchronize, (void), ()) \
	X(int, cuCtxGetStreamPriorityRange, cuCtxGetStreamPriorityRange, (int *least, int *greatest), (least, greatest)) \
	X(int, cuMemGetInfo, cuMemGetInfo_v2, (size_t *free, size_t *total), (free, total)) \
	X(int, cuMemAlloc, cuMemAlloc_v2, (cw_dptr *p, size_t n), (p, n)) \
	X(int, cuMemFree, cuMemFree_v2, (cw_dptr p), (p)) \
	X(int, cuMemGetAllocationGranularity, cuMemGetAllocationGranularity, \
		(size_t *g, const cw_mem_prop *prop, int option), (g, prop, option)) \
	X(int, cuMemCreate, cuMemCreate, (unsigned long long *h, size_t n, const cw_mem_prop *prop, unsigned long long flags), \
		(h, n, prop, flags)) \
	X(int, cuMemRelease, cuMemRelease, (unsigned long long h), (h)) \
	X(int, cuMemAddressReserve, cuMemAddressReserve, \
		(cw_dptr *p, size_t n, size_t align, cw_dptr addr, unsigned long long flags), (p, n, align, addr, flags)) \
	X(int, cuMemAddressFree, cuMemAddressFree, (cw_dptr p, size_t n), (p, n)) \
	X(int, cuMemMap, cuMemMap, (cw_dptr p, size_t n, size_t off, unsigned long long h, unsigned long long flags), \
		(p, n, off, h, flags)) \
	X(int, cuMemUnmap, cuMemUnmap, (cw_dptr p, size_t n), (p, n)) \
	X(int, cuMemSetAccess, cuMemSetAccess, (cw_dptr p, size_t n, const cw_mem_access *desc, size_t count), \
		(p, n, desc, count)) \
	X(int, cuMemHostAlloc, cuMemHostAlloc, (void **p, size_t n, unsigned int flags), (p, n, flags)) \
	X(int, cuMemFreeHost, cuMemFreeHost, (void *p), (p)) \
	X(int, cuMemHostGetDevicePointer, cuMemHostGetDevicePointer_v2, (cw_dptr *d, void *p, unsigned int flags), (d, p, flags)) \
	X(int, cuMemcpyHtoDAsync, cuMemcpyHtoDAsync_v2, (cw_dptr dst, const void *src, size_t n, void *s), (dst, src, n, s)) \
	X(int, cuMemcpyDtoHAsync, cuMemcpyDtoHAsync_v2, (void *dst, cw_dptr src, size_t n, void *s), (dst, src, n, s)) \
	X(int, cuMemcpyDtoDAsync, cuMemcpyDtoDAsync_v2, (cw_dptr dst, cw_dptr src, size_t n, void *s), (dst, src, n, s)) \
	X(int, cuMemsetD8Async, cuMemsetD8Async, (cw_dptr dst, unsigned char v, size_t n, void *s), (dst, v, n, s)) \
	X(int, cuMemsetD32Async, cuMemsetD32Async, (cw_dptr dst, unsigned int v, size_t n, void *s), (dst, v, n, s)) \
	X(int, cuStreamCreateWithPriority, cuStreamCreateWithPriority, (void **s, unsigned int flags, int prio), (s, flags, prio)) \
	X(int, cuStreamDestroy, cuStreamDestroy_v2, (void *s), (s)) \
	X(int, cuStreamSynchronize, cuStreamSynchronize, (void *s), (s)) \
	X(int, cuStreamBeginCapture, cuStreamBeginCapture_v2, (void *s, int mode), (s, mode)) \
	X(int, cuStreamEndCapture, cuStreamEndCapture, (void *s, void **g), (s, g)) \
	X(int, cuStreamWaitValue32, cuStreamWaitValue32_v2, (void *s, cw_dptr addr, unsigned int value, unsigned int flags), \
		(s, addr, value, flags)) \
	X(int, cuEventCreate, cuEventCreate, (void **e, unsigned int flags), (e, flags)) \
	X(int, cuEventRecord, cuEventRecord, (void *e, void *s), (e, s)) \
	X(int, cuEventQuery, cuEventQuery, (void *e), (e)) \
	X(int, cuEventSynchronize, cuEventSynchronize, (void *e), (e)) \
	X(int, cuEventElapsedTime, cuEventElapsedTime, (float *ms, void *start, void *end), (ms, start, end)) \
	X(int, cuEventDestroy, cuEventDestroy_v2, (void *e), (e)) \
	X(int, cuGraphInstantiate, cuGraphInstantiateWithFlags, (void **e, void *g, unsigned long long flags), (e, g, flags)) \
	X(int, cuGraphExecUpdate, cuGraphExecUpdate_v2, (void *e, void *g, cw_graph_update_info *info), (e, g, info)) \
	X(int, cuGraphUpload, cuGraphUpload, (void *e, void *s), (e, s)) \
	X(int, cuGraphLaunch, cuGraphLaunch, (void *e, void *s), (e, s)) \
	X(int, cuGraphExecDestroy, cuGraphExecDestroy, (void *e), (e)) \
	X(int, cuGraphDestroy, cuGraphDestroy, (void *g), (g)) \
	X(int, cuModuleLoadData, cuModuleLoadData, (void **m, const void *image), (m, image)) \
	X(int, cuModuleGetFunction, cuModuleGetFunction, (void **f, void *m, const char *name), (f, m, name)) \
	X(int, cuModuleUnload, cuModuleUnload, (void *m), (m)) \
	X(int, cuLaunchKernel, cuLaunchKernel, \
		(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz, \
		 unsigned shared, void *s, void **params, void **extra), \
		(f, gx, gy, gz, bx, by, bz, shared, s, params, extra))

CW_DRIVER_API(CW_DECLARE)

cw_sym *cw_driver_syms(void);
int cw_driver_nsyms(void);

/* cuLaunchKernel with argument i at args + offsets[i], i < n. */
int cw_launch(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
	unsigned shared, void *s, char *args, const unsigned *offsets, int n);

/* cw_exec queues, in one call so that no Go scheduling falls between
 * them: a record of start, a device copy of nin bytes in_src -> in_dst,
 * the graph, a device copy of nout bytes out_src -> out_dst, a record of
 * end (copies of 0 bytes are left out). It returns the first failure and
 * sets *step to its index (0-4). */
int cw_exec(void *s, void *start, cw_dptr in_dst, cw_dptr in_src, size_t nin, void *graph,
	cw_dptr out_dst, cw_dptr out_src, size_t nout, void *end, int *step);

#endif
