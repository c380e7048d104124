/* NVML (libnvidia-ml.so.1): prototypes written from the public
 * documentation; the device handle is void*, enums int. */
#ifndef CW_NVML_H
#define CW_NVML_H

#include "cw.h"

/* nvmlMemory_t */
typedef struct {
	unsigned long long total;
	unsigned long long free;
	unsigned long long used;
} cw_nvml_memory;

#define CW_NVML_API(X) \
	X(int, nvmlInit, nvmlInit_v2, (void), ()) \
	X(int, nvmlShutdown, nvmlShutdown, (void), ()) \
	X(cw_str, nvmlErrorString, nvmlErrorString, (int rc), (rc)) \
	X(int, nvmlSystemGetDriverVersion, nvmlSystemGetDriverVersion, (char *v, unsigned n), (v, n)) \
	X(int, nvmlDeviceGetCount, nvmlDeviceGetCount_v2, (unsigned *n), (n)) \
	X(int, nvmlDeviceGetHandleByIndex, nvmlDeviceGetHandleByIndex_v2, (unsigned i, void **d), (i, d)) \
	X(int, nvmlDeviceGetHandleByPciBusId, nvmlDeviceGetHandleByPciBusId_v2, (const char *id, void **d), (id, d)) \
	X(int, nvmlDeviceGetName, nvmlDeviceGetName, (void *d, char *name, unsigned n), (d, name, n)) \
	X(int, nvmlDeviceGetClockInfo, nvmlDeviceGetClockInfo, (void *d, int type, unsigned *mhz), (d, type, mhz)) \
	X(int, nvmlDeviceGetMaxClockInfo, nvmlDeviceGetMaxClockInfo, (void *d, int type, unsigned *mhz), (d, type, mhz)) \
	X(int, nvmlDeviceGetApplicationsClock, nvmlDeviceGetApplicationsClock, \
		(void *d, int type, unsigned *mhz), (d, type, mhz)) \
	X(int, nvmlDeviceGetPersistenceMode, nvmlDeviceGetPersistenceMode, (void *d, int *mode), (d, mode)) \
	X(int, nvmlDeviceGetComputeMode, nvmlDeviceGetComputeMode, (void *d, int *mode), (d, mode)) \
	X(int, nvmlDeviceGetCurrPcieLinkWidth, nvmlDeviceGetCurrPcieLinkWidth, (void *d, unsigned *w), (d, w)) \
	X(int, nvmlDeviceGetCudaComputeCapability, nvmlDeviceGetCudaComputeCapability, \
		(void *d, int *major, int *minor), (d, major, minor)) \
	X(int, nvmlDeviceGetMemoryInfo, nvmlDeviceGetMemoryInfo, (void *d, cw_nvml_memory *m), (d, m)) \
	X(int, nvmlDeviceGetCpuAffinity, nvmlDeviceGetCpuAffinity, \
		(void *d, unsigned n, unsigned long *set), (d, n, set))

CW_NVML_API(CW_DECLARE)

cw_sym *cw_nvml_syms(void);
int cw_nvml_nsyms(void);

#endif
