//go:build linux && cgo

package cuda

/*
#include "driver.h"

#cgo noescape cw_cuStreamEndCapture
#cgo nocallback cw_cuStreamEndCapture
#cgo noescape cw_cuGraphInstantiate
#cgo nocallback cw_cuGraphInstantiate
#cgo noescape cw_cuGraphExecUpdate
#cgo nocallback cw_cuGraphExecUpdate
#cgo noescape cw_exec
#cgo nocallback cw_exec
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// CaptureMode says which other calls may run while a stream is captured.
type CaptureMode int32

// Capture modes.
const (
	// CaptureGlobal forbids unsafe calls (such as cuMemAlloc or a
	// synchronisation of the legacy stream) on every thread.
	CaptureGlobal CaptureMode = 0
	// CaptureThreadLocal forbids them only on the capturing thread: other
	// goroutines may go on copying weights and polling events.
	CaptureThreadLocal CaptureMode = 1
	// CaptureRelaxed forbids nothing.
	CaptureRelaxed CaptureMode = 2
)

// BeginCapture starts recording the work queued on s into a graph instead
// of running it.
func (s Stream) BeginCapture(mode CaptureMode) error {
	return drvCheck("cuStreamBeginCapture", C.cw_cuStreamBeginCapture(s.p, C.int(mode)))
}

// EndCapture stops recording and returns the graph.
func (s Stream) EndCapture() (Graph, error) {
	var g unsafe.Pointer
	err := drvCheck("cuStreamEndCapture", C.cw_cuStreamEndCapture(s.p, &g))
	return Graph{g}, err
}

// Graph is a CUDA graph (CUgraph), a recording of work.
type Graph struct{ p unsafe.Pointer }

// InstantiateFlags are cuGraphInstantiateWithFlags flags.
type InstantiateFlags uint64

// Instantiation flags.
const (
	InstantiateAutoFreeOnLaunch InstantiateFlags = 1
	InstantiateUpload           InstantiateFlags = 2
	InstantiateDeviceLaunch     InstantiateFlags = 4
	InstantiateUseNodePriority  InstantiateFlags = 8
)

// Instantiate builds an executable graph from g.
func (g Graph) Instantiate(flags InstantiateFlags) (GraphExec, error) {
	var e unsafe.Pointer
	err := drvCheck("cuGraphInstantiate", C.cw_cuGraphInstantiate(&e, g.p, C.ulonglong(flags)))
	return GraphExec{e}, err
}

// Destroy releases the graph; executable graphs built from it stay valid.
func (g Graph) Destroy() error { return drvCheck("cuGraphDestroy", C.cw_cuGraphDestroy(g.p)) }

// GraphExec is an executable graph (CUgraphExec).
type GraphExec struct{ p unsafe.Pointer }

// UpdateResult is a CUgraphExecUpdateResult: why an update failed.
type UpdateResult int32

// Update results.
const (
	UpdateSuccess UpdateResult = iota
	UpdateError
	UpdateTopologyChanged
	UpdateNodeTypeChanged
	UpdateFunctionChanged
	UpdateParametersChanged
	UpdateNotSupported
	UpdateUnsupportedFunctionChange
	UpdateAttributesChanged
)

var updateResultNames = [...]string{
	"success", "error", "topology changed", "node type changed", "function changed",
	"parameters changed", "not supported", "unsupported function change", "attributes changed",
}

func (r UpdateResult) String() string {
	if r >= 0 && int(r) < len(updateResultNames) {
		return updateResultNames[r]
	}
	return fmt.Sprintf("update result %d", int32(r))
}

// Update rewrites e's parameters (kernel arguments, copy addresses) with
// those of g, which must have the same topology, kernels included. On
// failure e is unchanged and the result says why; build a new GraphExec
// then.
func (e GraphExec) Update(g Graph) (UpdateResult, error) {
	var info C.cw_graph_update_info
	rc := C.cw_cuGraphExecUpdate(e.p, g.p, &info)
	if rc != 0 {
		err := drvError("cuGraphExecUpdate", rc)
		if rc != C.CW_NOSYM {
			err.(*Error).Msg += " (" + UpdateResult(info.result).String() + ")"
		}
		return UpdateResult(info.result), err
	}
	return UpdateSuccess, nil
}

// Upload makes e resident on the device ahead of its first launch, so that
// launch pays no set-up cost.
func (e GraphExec) Upload(s Stream) error {
	return drvCheck("cuGraphUpload", C.cw_cuGraphUpload(e.p, s.p))
}

// Launch runs e on stream s.
func (e GraphExec) Launch(s Stream) error {
	return drvCheck("cuGraphLaunch", C.cw_cuGraphLaunch(e.p, s.p))
}

// Destroy releases e.
func (e GraphExec) Destroy() error {
	return drvCheck("cuGraphExecDestroy", C.cw_cuGraphExecDestroy(e.p))
}

// Exec describes a graph launch bracketed by device copies and timing
// events: In.N bytes copied from In.Src to In.Dst, the graph, Out.N bytes
// from Out.Src to Out.Dst (copies of 0 bytes are left out). With a Gate,
// the GPU starts it only once all of it is queued.
type Exec struct {
	Start, End Event
	In, Out    DeviceCopy
	Graph      GraphExec
	Gate       *Gate
}

// DeviceCopy is a device-to-device copy of N bytes.
type DeviceCopy struct {
	Dst, Src DevicePtr
	N        uint64
}

var execSteps = [...]string{"cuEventRecord", "cuMemcpyDtoDAsync", "cuGraphLaunch", "cuMemcpyDtoDAsync", "cuEventRecord"}

// Launch queues e on stream s in a single call into C. Without a gate,
// that keeps the Go scheduler (a preemption, a garbage collector's pause)
// from holding the GPU idle between the start event and the work; the
// host's own submission still falls between them, which the gate keeps
// out.
func (e *Exec) Launch(s Stream) error {
	if e.Gate != nil {
		if err := e.Gate.Hold(s); err != nil {
			return err
		}
		defer e.Gate.Open()
	}
	var step C.int
	rc := C.cw_exec(s.p, e.Start.p, C.cw_dptr(e.In.Dst), C.cw_dptr(e.In.Src), C.size_t(e.In.N), e.Graph.p,
		C.cw_dptr(e.Out.Dst), C.cw_dptr(e.Out.Src), C.size_t(e.Out.N), e.End.p, &step)
	return drvCheck(execSteps[step], rc)
}
