/* cuDNN 9 legacy API (libcudnn.so.9): prototypes written from the public
 * documentation; handles and descriptors are void*, device pointers
 * unsigned long long (passed like a pointer on x86-64), enums int, and
 * alpha/beta scale factors pointers to float (fp32 tensors only). */
#ifndef CW_CUDNN_H
#define CW_CUDNN_H

#include "cw.h"

/* cudnnConvolutionFwdAlgoPerf_t */
typedef struct {
	int algo;
	int status;
	float time;
	size_t memory;
	int determinism;
	int mathType;
	int reserved[3];
} cw_conv_perf;

#define CW_CUDNN_API(X) \
	X(size_t, cudnnGetVersion, cudnnGetVersion, (void), ()) \
	X(cw_str, cudnnGetErrorString, cudnnGetErrorString, (int status), (status)) \
	X(int, cudnnCreate, cudnnCreate, (void **h), (h)) \
	X(int, cudnnDestroy, cudnnDestroy, (void *h), (h)) \
	X(int, cudnnSetStream, cudnnSetStream, (void *h, void *s), (h, s)) \
	X(int, cudnnCreateTensorDescriptor, cudnnCreateTensorDescriptor, (void **d), (d)) \
	X(int, cudnnDestroyTensorDescriptor, cudnnDestroyTensorDescriptor, (void *d), (d)) \
	X(int, cudnnSetTensor4dDescriptor, cudnnSetTensor4dDescriptor, \
		(void *d, int format, int dtype, int n, int c, int h, int w), (d, format, dtype, n, c, h, w)) \
	X(int, cudnnSetTensorNdDescriptor, cudnnSetTensorNdDescriptor, \
		(void *d, int dtype, int nd, const int *dims, const int *strides), (d, dtype, nd, dims, strides)) \
	X(int, cudnnCreateFilterDescriptor, cudnnCreateFilterDescriptor, (void **d), (d)) \
	X(int, cudnnDestroyFilterDescriptor, cudnnDestroyFilterDescriptor, (void *d), (d)) \
	X(int, cudnnSetFilter4dDescriptor, cudnnSetFilter4dDescriptor, \
		(void *d, int dtype, int format, int k, int c, int h, int w), (d, dtype, format, k, c, h, w)) \
	X(int, cudnnCreateConvolutionDescriptor, cudnnCreateConvolutionDescriptor, (void **d), (d)) \
	X(int, cudnnDestroyConvolutionDescriptor, cudnnDestroyConvolutionDescriptor, (void *d), (d)) \
	X(int, cudnnSetConvolution2dDescriptor, cudnnSetConvolution2dDescriptor, \
		(void *d, int padh, int padw, int u, int v, int dilh, int dilw, int mode, int compute), \
		(d, padh, padw, u, v, dilh, dilw, mode, compute)) \
	X(int, cudnnSetConvolutionGroupCount, cudnnSetConvolutionGroupCount, (void *d, int groups), (d, groups)) \
	X(int, cudnnSetConvolutionMathType, cudnnSetConvolutionMathType, (void *d, int math), (d, math)) \
	X(int, cudnnGetConvolution2dForwardOutputDim, cudnnGetConvolution2dForwardOutputDim, \
		(void *conv, void *x, void *w, int *n, int *c, int *h, int *wd), (conv, x, w, n, c, h, wd)) \
	X(int, cudnnFindConvolutionForwardAlgorithmEx, cudnnFindConvolutionForwardAlgorithmEx, \
		(void *h, void *xd, cw_dptr x, void *wdesc, cw_dptr w, void *conv, void *yd, cw_dptr y, \
		 int requested, int *returned, cw_conv_perf *perf, cw_dptr ws, size_t wssize), \
		(h, xd, x, wdesc, w, conv, yd, y, requested, returned, perf, ws, wssize)) \
	X(int, cudnnGetConvolutionForwardWorkspaceSize, cudnnGetConvolutionForwardWorkspaceSize, \
		(void *h, void *xd, void *wdesc, void *conv, void *yd, int algo, size_t *size), \
		(h, xd, wdesc, conv, yd, algo, size)) \
	X(int, cudnnConvolutionForward, cudnnConvolutionForward, \
		(void *h, const float *alpha, void *xd, cw_dptr x, void *wdesc, cw_dptr w, void *conv, int algo, \
		 cw_dptr ws, size_t wssize, const float *beta, void *yd, cw_dptr y), \
		(h, alpha, xd, x, wdesc, w, conv, algo, ws, wssize, beta, yd, y)) \
	X(int, cudnnConvolutionBiasActivationForward, cudnnConvolutionBiasActivationForward, \
		(void *h, const float *alpha1, void *xd, cw_dptr x, void *wdesc, cw_dptr w, void *conv, int algo, \
		 cw_dptr ws, size_t wssize, const float *alpha2, void *zd, cw_dptr z, void *bd, cw_dptr b, \
		 void *act, void *yd, cw_dptr y), \
		(h, alpha1, xd, x, wdesc, w, conv, algo, ws, wssize, alpha2, zd, z, bd, b, act, yd, y)) \
	X(int, cudnnCreateActivationDescriptor, cudnnCreateActivationDescriptor, (void **d), (d)) \
	X(int, cudnnDestroyActivationDescriptor, cudnnDestroyActivationDescriptor, (void *d), (d)) \
	X(int, cudnnSetActivationDescriptor, cudnnSetActivationDescriptor, \
		(void *d, int mode, int nan, double coef), (d, mode, nan, coef)) \
	X(int, cudnnActivationForward, cudnnActivationForward, \
		(void *h, void *act, const float *alpha, void *xd, cw_dptr x, const float *beta, void *yd, cw_dptr y), \
		(h, act, alpha, xd, x, beta, yd, y)) \
	X(int, cudnnCreatePoolingDescriptor, cudnnCreatePoolingDescriptor, (void **d), (d)) \
	X(int, cudnnDestroyPoolingDescriptor, cudnnDestroyPoolingDescriptor, (void *d), (d)) \
	X(int, cudnnSetPooling2dDescriptor, cudnnSetPooling2dDescriptor, \
		(void *d, int mode, int nan, int wh, int ww, int padh, int padw, int sh, int sw), \
		(d, mode, nan, wh, ww, padh, padw, sh, sw)) \
	X(int, cudnnPoolingForward, cudnnPoolingForward, \
		(void *h, void *pool, const float *alpha, void *xd, cw_dptr x, const float *beta, void *yd, cw_dptr y), \
		(h, pool, alpha, xd, x, beta, yd, y)) \
	X(int, cudnnAddTensor, cudnnAddTensor, \
		(void *h, const float *alpha, void *ad, cw_dptr a, const float *beta, void *cd, cw_dptr c), \
		(h, alpha, ad, a, beta, cd, c)) \
	X(int, cudnnSoftmaxForward, cudnnSoftmaxForward, \
		(void *h, int algo, int mode, const float *alpha, void *xd, cw_dptr x, const float *beta, void *yd, cw_dptr y), \
		(h, algo, mode, alpha, xd, x, beta, yd, y))

CW_CUDNN_API(CW_DECLARE)

/* cudnnGetLastErrorString (cuDNN 9): the detail of the thread's last error;
 * an empty string if unavailable. */
void cw_cudnnGetLastErrorString(char *msg, size_t n);

cw_sym *cw_cudnn_syms(void);
int cw_cudnn_nsyms(void);

#endif
