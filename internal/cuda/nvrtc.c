#include "nvrtc.h"

CW_NVRTC_API(CW_DEFINE)

static cw_sym syms[] = {CW_NVRTC_API(CW_ENTRY)};

cw_sym *cw_nvrtc_syms(void) { return syms; }
int cw_nvrtc_nsyms(void) { return sizeof syms / sizeof syms[0]; }
