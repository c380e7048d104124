#include "cublas.h"

CW_CUBLAS_API(CW_DEFINE)

static cw_sym syms[] = {CW_CUBLAS_API(CW_ENTRY)};

cw_sym *cw_cublas_syms(void) { return syms; }
int cw_cublas_nsyms(void) { return sizeof syms / sizeof syms[0]; }
