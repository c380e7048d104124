#include "nvml.h"

CW_NVML_API(CW_DEFINE)

static cw_sym syms[] = {CW_NVML_API(CW_ENTRY)};

cw_sym *cw_nvml_syms(void) { return syms; }
int cw_nvml_nsyms(void) { return sizeof syms / sizeof syms[0]; }
