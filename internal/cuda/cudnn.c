#include "cudnn.h"

CW_CUDNN_API(CW_DEFINE)

static void (*p_cudnnGetLastErrorString)(char *msg, size_t n);

void cw_cudnnGetLastErrorString(char *msg, size_t n) {
	if (n > 0) {
		msg[0] = 0;
	}
	if (p_cudnnGetLastErrorString != NULL) {
		p_cudnnGetLastErrorString(msg, n);
	}
}

static cw_sym syms[] = {
	CW_CUDNN_API(CW_ENTRY)
	{"cudnnGetLastErrorString", (void **)&p_cudnnGetLastErrorString},
};

cw_sym *cw_cudnn_syms(void) { return syms; }
int cw_cudnn_nsyms(void) { return sizeof syms / sizeof syms[0]; }
