/* Stands for libcudnn_graph.so.9, a sub-library libcudnn.so.9 needs. */
#include <stddef.h>

size_t fake_cudnn_graph_version(void) { return 91400; }
