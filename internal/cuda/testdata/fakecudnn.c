/* A stand-in for libcudnn.so.9, linked against libcudnn_graph.so.9 without
 * a run path, as happens when the pair is found outside the loader's path. */
#include <stdio.h>
#include <stddef.h>

size_t fake_cudnn_graph_version(void);

size_t cudnnGetVersion(void) { return fake_cudnn_graph_version(); }

const char *cudnnGetErrorString(int status) {
	return status == 1001 ? "CUDNN_STATUS_NOT_INITIALIZED" : "CUDNN_STATUS_UNKNOWN";
}

void cudnnGetLastErrorString(char *msg, size_t n) { snprintf(msg, n, "fake detail"); }

int cudnnCreate(void **h) {
	(void)h;
	return 1001;
}
