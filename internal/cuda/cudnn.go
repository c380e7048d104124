//go:build linux && cgo

package cuda

/*
#include "cudnn.h"

#cgo noescape cw_cudnnCreate
#cgo nocallback cw_cudnnCreate
#cgo noescape cw_cudnnCreateTensorDescriptor
#cgo nocallback cw_cudnnCreateTensorDescriptor
#cgo noescape cw_cudnnSetTensorNdDescriptor
#cgo nocallback cw_cudnnSetTensorNdDescriptor
#cgo noescape cw_cudnnCreateFilterDescriptor
#cgo nocallback cw_cudnnCreateFilterDescriptor
#cgo noescape cw_cudnnCreateConvolutionDescriptor
#cgo nocallback cw_cudnnCreateConvolutionDescriptor
#cgo noescape cw_cudnnGetConvolution2dForwardOutputDim
#cgo nocallback cw_cudnnGetConvolution2dForwardOutputDim
#cgo noescape cw_cudnnFindConvolutionForwardAlgorithmEx
#cgo nocallback cw_cudnnFindConvolutionForwardAlgorithmEx
#cgo noescape cw_cudnnGetConvolutionForwardWorkspaceSize
#cgo nocallback cw_cudnnGetConvolutionForwardWorkspaceSize
#cgo noescape cw_cudnnConvolutionForward
#cgo nocallback cw_cudnnConvolutionForward
#cgo noescape cw_cudnnConvolutionBiasActivationForward
#cgo nocallback cw_cudnnConvolutionBiasActivationForward
#cgo noescape cw_cudnnCreateActivationDescriptor
#cgo nocallback cw_cudnnCreateActivationDescriptor
#cgo noescape cw_cudnnActivationForward
#cgo nocallback cw_cudnnActivationForward
#cgo noescape cw_cudnnCreatePoolingDescriptor
#cgo nocallback cw_cudnnCreatePoolingDescriptor
#cgo noescape cw_cudnnPoolingForward
#cgo nocallback cw_cudnnPoolingForward
#cgo noescape cw_cudnnAddTensor
#cgo nocallback cw_cudnnAddTensor
#cgo noescape cw_cudnnSoftmaxForward
#cgo nocallback cw_cudnnSoftmaxForward
#cgo noescape cw_cudnnGetLastErrorString
#cgo nocallback cw_cudnnGetLastErrorString
*/
import "C"

import (
	"errors"
	"fmt"
	"slices"
	"unsafe"
)

// cuDNN 9 implements its legacy API in sub-libraries that libcudnn.so.9
// opens by soname; where they are not on the loader's path (PyTorch's
// wheels), they are opened first from libcudnn.so.9's directory, in
// dependency order.
var cudnn = loader{spec: libSpec{
	names: []string{"libcudnn.so.9"},
	siblings: []string{
		"libcudnn_graph.so.9", "libcudnn_engines_precompiled.so.9", "libcudnn_engines_runtime_compiled.so.9",
		"libcudnn_heuristic.so.9", "libcudnn_ops.so.9", "libcudnn_cnn.so.9", "libcudnn_adv.so.9",
	},
	table: func() (*C.cw_sym, C.int) { return C.cw_cudnn_syms(), C.cw_cudnn_nsyms() },
}}

// LoadCUDNN opens cuDNN 9. Load cuBLAS and NVRTC first: some cuDNN engines
// open them by soname, which then finds the copies already loaded.
func LoadCUDNN() (*Library, error) { return cudnn.load() }

// CUDNNVersion is cuDNN's version, e.g. 91400 for 9.14.0; 0 if not loaded.
func CUDNNVersion() int { return int(C.cw_cudnnGetVersion()) }

func dnnCheck(fn string, rc C.int) error {
	if rc == 0 {
		return nil
	}
	return dnnError(fn, rc)
}

func dnnError(fn string, rc C.int) error {
	if rc == C.CW_NOSYM {
		return cudnn.noSymbol(fn)
	}
	msg := fmt.Sprintf("cuDNN status %d", int(rc))
	if s := C.cw_cudnnGetErrorString(rc); s != nil {
		msg = C.GoString(s)
	}
	var buf [1024]C.char
	C.cw_cudnnGetLastErrorString(&buf[0], C.size_t(len(buf)))
	if detail := C.GoString(&buf[0]); detail != "" {
		msg += ": " + detail
	}
	return &Error{Func: fn, Code: int(rc), Msg: msg}
}

// DNN is a cuDNN handle. Its calls run on the stream set with SetStream and
// use the current context, which must be the primary context.
type DNN struct{ p unsafe.Pointer }

// NewDNN creates a cuDNN handle in the current context.
func NewDNN() (DNN, error) {
	var h unsafe.Pointer
	err := dnnCheck("cudnnCreate", C.cw_cudnnCreate(&h))
	return DNN{h}, err
}

// Destroy releases the handle.
func (h DNN) Destroy() error { return dnnCheck("cudnnDestroy", C.cw_cudnnDestroy(h.p)) }

// SetStream makes h queue its work on s.
func (h DNN) SetStream(s Stream) error {
	return dnnCheck("cudnnSetStream", C.cw_cudnnSetStream(h.p, s.p))
}

// DataType is a cudnnDataType_t.
type DataType int32

// Data types.
const (
	DataFloat  DataType = 0
	DataDouble DataType = 1
	DataHalf   DataType = 2
)

// TensorFormat is a cudnnTensorFormat_t.
type TensorFormat int32

// Tensor formats.
const (
	FormatNCHW TensorFormat = 0
	FormatNHWC TensorFormat = 1
)

// TensorDesc is a cudnnTensorDescriptor_t.
type TensorDesc struct{ p unsafe.Pointer }

// NewTensorDesc creates a tensor descriptor.
func NewTensorDesc() (TensorDesc, error) {
	var d unsafe.Pointer
	err := dnnCheck("cudnnCreateTensorDescriptor", C.cw_cudnnCreateTensorDescriptor(&d))
	return TensorDesc{d}, err
}

// Set4d describes a packed 4-d tensor.
func (d TensorDesc) Set4d(f TensorFormat, t DataType, n, c, h, w int) error {
	return dnnCheck("cudnnSetTensor4dDescriptor",
		C.cw_cudnnSetTensor4dDescriptor(d.p, C.int(f), C.int(t), C.int(n), C.int(c), C.int(h), C.int(w)))
}

// SetNd describes a tensor of len(dims) (3 to 8) dimensions with the given
// strides in elements.
func (d TensorDesc) SetNd(t DataType, dims, strides []int32) error {
	if len(dims) == 0 || len(dims) != len(strides) {
		return errors.New("cuda: cudnnSetTensorNdDescriptor: dims and strides differ in length")
	}
	return dnnCheck("cudnnSetTensorNdDescriptor", C.cw_cudnnSetTensorNdDescriptor(d.p, C.int(t), C.int(len(dims)),
		(*C.int)(unsafe.Pointer(&dims[0])), (*C.int)(unsafe.Pointer(&strides[0]))))
}

// Destroy releases the descriptor.
func (d TensorDesc) Destroy() error {
	return dnnCheck("cudnnDestroyTensorDescriptor", C.cw_cudnnDestroyTensorDescriptor(d.p))
}

// FilterDesc is a cudnnFilterDescriptor_t.
type FilterDesc struct{ p unsafe.Pointer }

// NewFilterDesc creates a filter descriptor.
func NewFilterDesc() (FilterDesc, error) {
	var d unsafe.Pointer
	err := dnnCheck("cudnnCreateFilterDescriptor", C.cw_cudnnCreateFilterDescriptor(&d))
	return FilterDesc{d}, err
}

// Set4d describes k output channels of c input channels (per group) of
// h×w.
func (d FilterDesc) Set4d(t DataType, f TensorFormat, k, c, h, w int) error {
	return dnnCheck("cudnnSetFilter4dDescriptor",
		C.cw_cudnnSetFilter4dDescriptor(d.p, C.int(t), C.int(f), C.int(k), C.int(c), C.int(h), C.int(w)))
}

// Destroy releases the descriptor.
func (d FilterDesc) Destroy() error {
	return dnnCheck("cudnnDestroyFilterDescriptor", C.cw_cudnnDestroyFilterDescriptor(d.p))
}

// ConvMode is a cudnnConvolutionMode_t.
type ConvMode int32

// Convolution modes; deep-learning "convolution" (ONNX Conv) is
// CrossCorrelation.
const (
	Convolution      ConvMode = 0
	CrossCorrelation ConvMode = 1
)

// MathType is a cudnnMathType_t.
type MathType int32

// Math types. For fp32 data MathFMA keeps TF32 tensor cores off; the
// default lets cuDNN use them.
const (
	MathDefault                 MathType = 0
	MathTensorOp                MathType = 1
	MathTensorOpAllowConversion MathType = 2
	MathFMA                     MathType = 3
)

var mathTypeNames = [...]string{"default", "tensor-op", "tensor-op-allow-conversion", "fma"}

func (m MathType) String() string {
	if m >= 0 && int(m) < len(mathTypeNames) {
		return mathTypeNames[m]
	}
	return fmt.Sprintf("math type %d", int32(m))
}

// ConvDesc is a cudnnConvolutionDescriptor_t.
type ConvDesc struct{ p unsafe.Pointer }

// NewConvDesc creates a convolution descriptor.
func NewConvDesc() (ConvDesc, error) {
	var d unsafe.Pointer
	err := dnnCheck("cudnnCreateConvolutionDescriptor", C.cw_cudnnCreateConvolutionDescriptor(&d))
	return ConvDesc{d}, err
}

// Set2d sets padding, strides and dilations; compute is the accumulation
// type (DataFloat for fp32).
func (d ConvDesc) Set2d(padH, padW, strideH, strideW, dilationH, dilationW int, mode ConvMode, compute DataType) error {
	return dnnCheck("cudnnSetConvolution2dDescriptor", C.cw_cudnnSetConvolution2dDescriptor(d.p,
		C.int(padH), C.int(padW), C.int(strideH), C.int(strideW), C.int(dilationH), C.int(dilationW),
		C.int(mode), C.int(compute)))
}

// SetGroupCount sets the number of groups (grouped and depthwise
// convolutions).
func (d ConvDesc) SetGroupCount(groups int) error {
	return dnnCheck("cudnnSetConvolutionGroupCount", C.cw_cudnnSetConvolutionGroupCount(d.p, C.int(groups)))
}

// SetMathType restricts the kernels cuDNN may use.
func (d ConvDesc) SetMathType(m MathType) error {
	return dnnCheck("cudnnSetConvolutionMathType", C.cw_cudnnSetConvolutionMathType(d.p, C.int(m)))
}

// OutputDim2d is the shape of the convolution's output for input x and
// filter w.
func (d ConvDesc) OutputDim2d(x TensorDesc, w FilterDesc) (n, c, h, wd int, err error) {
	var cn, cc, ch, cw C.int
	err = dnnCheck("cudnnGetConvolution2dForwardOutputDim",
		C.cw_cudnnGetConvolution2dForwardOutputDim(d.p, x.p, w.p, &cn, &cc, &ch, &cw))
	return int(cn), int(cc), int(ch), int(cw), err
}

// Destroy releases the descriptor.
func (d ConvDesc) Destroy() error {
	return dnnCheck("cudnnDestroyConvolutionDescriptor", C.cw_cudnnDestroyConvolutionDescriptor(d.p))
}

// ConvFwdAlgo is a cudnnConvolutionFwdAlgo_t.
type ConvFwdAlgo int32

// Forward convolution algorithms.
const (
	AlgoImplicitGemm ConvFwdAlgo = iota
	AlgoImplicitPrecompGemm
	AlgoGemm
	AlgoDirect
	AlgoFFT
	AlgoFFTTiling
	AlgoWinograd
	AlgoWinogradNonfused
	convFwdAlgoCount
)

var convFwdAlgoNames = [...]string{
	"IMPLICIT_GEMM", "IMPLICIT_PRECOMP_GEMM", "GEMM", "DIRECT", "FFT", "FFT_TILING", "WINOGRAD", "WINOGRAD_NONFUSED",
}

func (a ConvFwdAlgo) String() string {
	if a.Valid() {
		return convFwdAlgoNames[a]
	}
	return fmt.Sprintf("algo %d", int32(a))
}

// Valid is whether a is one of cuDNN's algorithms.
func (a ConvFwdAlgo) Valid() bool { return a >= 0 && a < convFwdAlgoCount }

// ParseConvFwdAlgo is the algorithm named as String names it.
func ParseConvFwdAlgo(name string) (ConvFwdAlgo, bool) {
	i := slices.Index(convFwdAlgoNames[:], name)
	return ConvFwdAlgo(max(i, 0)), i >= 0
}

// ConvFwdAlgoPerf is one result of FindConvolutionForwardAlgorithmEx.
type ConvFwdAlgoPerf struct {
	Algo     ConvFwdAlgo
	Status   int     // cuDNN status of the trial; 0 if it ran
	Time     float32 // ms
	Memory   uint64  // workspace bytes
	MathType MathType
}

// FindConvolutionForwardAlgorithmEx runs every algorithm on the given
// buffers (y is overwritten) with at most wsSize bytes of workspace at ws
// and returns the results, fastest first.
func (h DNN) FindConvolutionForwardAlgorithmEx(x TensorDesc, xp DevicePtr, w FilterDesc, wp DevicePtr,
	conv ConvDesc, y TensorDesc, yp DevicePtr, ws DevicePtr, wsSize uint64) ([]ConvFwdAlgoPerf, error) {
	var perf [convFwdAlgoCount]C.cw_conv_perf
	var n C.int
	rc := C.cw_cudnnFindConvolutionForwardAlgorithmEx(h.p, x.p, C.cw_dptr(xp), w.p, C.cw_dptr(wp), conv.p,
		y.p, C.cw_dptr(yp), C.int(len(perf)), &n, &perf[0], C.cw_dptr(ws), C.size_t(wsSize))
	if err := dnnCheck("cudnnFindConvolutionForwardAlgorithmEx", rc); err != nil {
		return nil, err
	}
	out := make([]ConvFwdAlgoPerf, n)
	for i := range out {
		p := &perf[i]
		out[i] = ConvFwdAlgoPerf{Algo: ConvFwdAlgo(p.algo), Status: int(p.status), Time: float32(p.time),
			Memory: uint64(p.memory), MathType: MathType(p.mathType)}
	}
	return out, nil
}

// ConvolutionForwardWorkspaceSize is the workspace algo needs.
func (h DNN) ConvolutionForwardWorkspaceSize(x TensorDesc, w FilterDesc, conv ConvDesc, y TensorDesc,
	algo ConvFwdAlgo) (uint64, error) {
	var n C.size_t
	err := dnnCheck("cudnnGetConvolutionForwardWorkspaceSize",
		C.cw_cudnnGetConvolutionForwardWorkspaceSize(h.p, x.p, w.p, conv.p, y.p, C.int(algo), &n))
	return uint64(n), err
}

// ConvolutionForward computes y = alpha·conv(x, w) + beta·y.
func (h DNN) ConvolutionForward(alpha float32, x TensorDesc, xp DevicePtr, w FilterDesc, wp DevicePtr,
	conv ConvDesc, algo ConvFwdAlgo, ws DevicePtr, wsSize uint64, beta float32, y TensorDesc, yp DevicePtr) error {
	a, b := C.float(alpha), C.float(beta)
	return dnnCheck("cudnnConvolutionForward", C.cw_cudnnConvolutionForward(h.p, &a, x.p, C.cw_dptr(xp), w.p,
		C.cw_dptr(wp), conv.p, C.int(algo), C.cw_dptr(ws), C.size_t(wsSize), &b, y.p, C.cw_dptr(yp)))
}

// ConvolutionBiasActivationForward computes
// y = act(alpha1·conv(x, w) + alpha2·z + bias) in one call; z may be y
// (with alpha2 0 for no residual). act must be ActivationRelu, or
// ActivationIdentity with AlgoImplicitPrecompGemm.
func (h DNN) ConvolutionBiasActivationForward(alpha1 float32, x TensorDesc, xp DevicePtr, w FilterDesc,
	wp DevicePtr, conv ConvDesc, algo ConvFwdAlgo, ws DevicePtr, wsSize uint64, alpha2 float32,
	z TensorDesc, zp DevicePtr, bias TensorDesc, bp DevicePtr, act ActivationDesc, y TensorDesc, yp DevicePtr) error {
	a1, a2 := C.float(alpha1), C.float(alpha2)
	return dnnCheck("cudnnConvolutionBiasActivationForward", C.cw_cudnnConvolutionBiasActivationForward(h.p,
		&a1, x.p, C.cw_dptr(xp), w.p, C.cw_dptr(wp), conv.p, C.int(algo), C.cw_dptr(ws), C.size_t(wsSize),
		&a2, z.p, C.cw_dptr(zp), bias.p, C.cw_dptr(bp), act.p, y.p, C.cw_dptr(yp)))
}

// ActivationMode is a cudnnActivationMode_t.
type ActivationMode int32

// Activation modes.
const (
	ActivationSigmoid     ActivationMode = 0
	ActivationRelu        ActivationMode = 1
	ActivationTanh        ActivationMode = 2
	ActivationClippedRelu ActivationMode = 3 // min(max(x, 0), coef): ReLU6 with coef 6
	ActivationElu         ActivationMode = 4
	ActivationIdentity    ActivationMode = 5
	ActivationSwish       ActivationMode = 6
)

// NanPropagation is a cudnnNanPropagation_t.
type NanPropagation int32

// NaN propagation options.
const (
	NotPropagateNaN NanPropagation = 0
	PropagateNaN    NanPropagation = 1
)

// ActivationDesc is a cudnnActivationDescriptor_t.
type ActivationDesc struct{ p unsafe.Pointer }

// NewActivationDesc creates an activation descriptor.
func NewActivationDesc() (ActivationDesc, error) {
	var d unsafe.Pointer
	err := dnnCheck("cudnnCreateActivationDescriptor", C.cw_cudnnCreateActivationDescriptor(&d))
	return ActivationDesc{d}, err
}

// Set sets the mode; coef is the clipping threshold or ELU alpha.
func (d ActivationDesc) Set(mode ActivationMode, nan NanPropagation, coef float64) error {
	return dnnCheck("cudnnSetActivationDescriptor",
		C.cw_cudnnSetActivationDescriptor(d.p, C.int(mode), C.int(nan), C.double(coef)))
}

// Destroy releases the descriptor.
func (d ActivationDesc) Destroy() error {
	return dnnCheck("cudnnDestroyActivationDescriptor", C.cw_cudnnDestroyActivationDescriptor(d.p))
}

// ActivationForward computes y = alpha·act(x) + beta·y.
func (h DNN) ActivationForward(act ActivationDesc, alpha float32, x TensorDesc, xp DevicePtr,
	beta float32, y TensorDesc, yp DevicePtr) error {
	a, b := C.float(alpha), C.float(beta)
	return dnnCheck("cudnnActivationForward",
		C.cw_cudnnActivationForward(h.p, act.p, &a, x.p, C.cw_dptr(xp), &b, y.p, C.cw_dptr(yp)))
}

// PoolingMode is a cudnnPoolingMode_t.
type PoolingMode int32

// Pooling modes.
const (
	PoolMax               PoolingMode = 0
	PoolAvgIncludePadding PoolingMode = 1
	PoolAvgExcludePadding PoolingMode = 2
	PoolMaxDeterministic  PoolingMode = 3
)

// PoolingDesc is a cudnnPoolingDescriptor_t.
type PoolingDesc struct{ p unsafe.Pointer }

// NewPoolingDesc creates a pooling descriptor.
func NewPoolingDesc() (PoolingDesc, error) {
	var d unsafe.Pointer
	err := dnnCheck("cudnnCreatePoolingDescriptor", C.cw_cudnnCreatePoolingDescriptor(&d))
	return PoolingDesc{d}, err
}

// Set2d sets the window, padding and strides.
func (d PoolingDesc) Set2d(mode PoolingMode, nan NanPropagation, windowH, windowW, padH, padW, strideH, strideW int) error {
	return dnnCheck("cudnnSetPooling2dDescriptor", C.cw_cudnnSetPooling2dDescriptor(d.p, C.int(mode), C.int(nan),
		C.int(windowH), C.int(windowW), C.int(padH), C.int(padW), C.int(strideH), C.int(strideW)))
}

// Destroy releases the descriptor.
func (d PoolingDesc) Destroy() error {
	return dnnCheck("cudnnDestroyPoolingDescriptor", C.cw_cudnnDestroyPoolingDescriptor(d.p))
}

// PoolingForward computes y = alpha·pool(x) + beta·y.
func (h DNN) PoolingForward(pool PoolingDesc, alpha float32, x TensorDesc, xp DevicePtr,
	beta float32, y TensorDesc, yp DevicePtr) error {
	a, b := C.float(alpha), C.float(beta)
	return dnnCheck("cudnnPoolingForward",
		C.cw_cudnnPoolingForward(h.p, pool.p, &a, x.p, C.cw_dptr(xp), &b, y.p, C.cw_dptr(yp)))
}

// AddTensor computes c = alpha·a + beta·c, broadcasting a's dimensions of
// size 1 (a bias of shape 1×C×1×1, say).
func (h DNN) AddTensor(alpha float32, a TensorDesc, ap DevicePtr, beta float32, c TensorDesc, cp DevicePtr) error {
	al, b := C.float(alpha), C.float(beta)
	return dnnCheck("cudnnAddTensor", C.cw_cudnnAddTensor(h.p, &al, a.p, C.cw_dptr(ap), &b, c.p, C.cw_dptr(cp)))
}

// SoftmaxAlgo is a cudnnSoftmaxAlgorithm_t.
type SoftmaxAlgo int32

// Softmax algorithms.
const (
	SoftmaxFast     SoftmaxAlgo = 0
	SoftmaxAccurate SoftmaxAlgo = 1 // subtracts the maximum first
	SoftmaxLog      SoftmaxAlgo = 2
)

// SoftmaxMode is a cudnnSoftmaxMode_t.
type SoftmaxMode int32

// Softmax modes.
const (
	SoftmaxInstance SoftmaxMode = 0 // over C, H and W of each image
	SoftmaxChannel  SoftmaxMode = 1 // over C at each (n, h, w)
)

// SoftmaxForward computes y = alpha·softmax(x) + beta·y.
func (h DNN) SoftmaxForward(algo SoftmaxAlgo, mode SoftmaxMode, alpha float32, x TensorDesc, xp DevicePtr,
	beta float32, y TensorDesc, yp DevicePtr) error {
	a, b := C.float(alpha), C.float(beta)
	return dnnCheck("cudnnSoftmaxForward", C.cw_cudnnSoftmaxForward(h.p, C.int(algo), C.int(mode), &a, x.p,
		C.cw_dptr(xp), &b, y.p, C.cw_dptr(yp)))
}
