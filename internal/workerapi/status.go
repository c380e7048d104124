package workerapi

// Worker status codes (the original's worker_api.h). Codes the original
// declares but never produces are kept for completeness; this worker produces
// some of them where the original crashed instead (see README).
const (
	Success                int32 = 0
	ErrCancelled           int32 = 1
	ErrRuntimeError        int32 = 2
	ErrShuttingDown        int32 = 3
	ErrUnknownModel        int32 = 10
	ErrCouldNotStartInTime int32 = 11
	ErrInvalidAction       int32 = 12
	ErrInvalidGPU          int32 = 13
	// ErrGPUUnusable (not in the original) answers the actions on a GPU
	// that hit one of CUDA's sticky errors (the driver's codes 700-799: an
	// illegal address, a failed launch), from the action that met the
	// error on: the GPU's context is unusable until the process ends. The
	// original aborts the whole worker on any CUDA error; this worker
	// keeps serving its other GPUs, and this repository's controllers take
	// the GPU out of service when they see the code. A C++ controller sees
	// an unknown error code and answers the action's requests with it.
	ErrGPUUnusable                    int32 = 14
	ErrWeightsNotPresent              int32 = 20
	ErrWeightsAlreadyLoaded           int32 = 21
	ErrWeightsInUse                   int32 = 22
	ErrWeightsChanged                 int32 = 23
	ErrInvalidInput                   int32 = 30
	ErrInvalidBatchSize               int32 = 31
	ErrInvalidModelID                 int32 = 40
	ErrInvalidModelPath               int32 = 41
	NetworkSendTooLate                int32 = 45
	LoadWeightsTooEarly               int32 = 50
	LoadWeightsTooLate                int32 = 51
	LoadWeightsUnknownModel           int32 = 52
	LoadWeightsInsufficientCache      int32 = 53
	LoadWeightsConcurrentModification int32 = 54
	EvictWeightsTooEarly              int32 = 60
	EvictWeightsTooLate               int32 = 61
	EvictWeightsUnknownModel          int32 = 62
	EvictWeightsNotInCache            int32 = 63
	CopyInputTooEarly                 int32 = 70
	CopyInputTooLate                  int32 = 71
	CopyInputUnknownModel             int32 = 72
	CopyInputInvalidBatchSize         int32 = 73
	CopyInputHostAlloc                int32 = 74
	CopyInputInvalidInput             int32 = 75
	CopyInputIOPoolExhausted          int32 = 76
	CopyInputBadSizes                 int32 = 77
	CopyInputBadDecompress            int32 = 78
	ExecTooEarly                      int32 = 80
	ExecTooLate                       int32 = 81
	ExecWeightsMissing                int32 = 82
	ExecWorkspacePoolExhausted        int32 = 83
	ExecConcurrentWeightsModification int32 = 84
	CopyOutputTooEarly                int32 = 90
	CopyOutputTooLate                 int32 = 91
	CopyOutputHostAlloc               int32 = 92
)
