package workerapi

import (
	"reflect"
	"strings"
	"testing"

	"github.com/clockwork-go/clockwork/internal/wire"
)

func TestActionRoundTrip(t *testing.T) {
	actions := []Action{
		&LoadModelFromDisk{ID: 1, ModelID: 2, Path: "/zoo/m/model", Earliest: 0, Latest: NoLatest, Copies: 3, MaxBatchSize: 8, MaxExecDuration: 25e7},
		&LoadWeights{ID: 2, ModelID: 3, GPU: 1, Earliest: 10, Latest: 20, ExpectedDuration: 5},
		&EvictWeights{ID: 3, ModelID: 4, GPU: 0, Earliest: 0, Latest: NoLatest},
		&Infer{ID: 4, ModelID: 5, GPU: 1, Earliest: 1, Latest: 2, ExpectedDuration: 3, BatchSize: 2, InputSizes: []uint32{3, 2}, Input: []byte("abcde")},
		&ClearCache{ID: 5},
		&GetWorkerState{ID: 6},
	}
	wantTypes := []uint64{1, 2, 4, 3, 5, 6}
	for i, a := range actions {
		msg, err := EncodeAction(a)
		if err != nil {
			t.Fatal(err)
		}
		if msg.Type != wantTypes[i] {
			t.Errorf("%T: wire type %d, want %d", a, msg.Type, wantTypes[i])
		}
		got, err := DecodeAction(&wire.Message{Type: msg.Type, Header: msg.Header, Body: msg.Body})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, a) {
			t.Errorf("round trip\n got %+v\nwant %+v", got, a)
		}
	}
	// Parts are sent after Input without copying.
	msg, _ := EncodeAction(&Infer{Input: []byte("ab"), InputParts: [][]byte{[]byte("cd")}})
	if msg.BodyLen() != 4 {
		t.Errorf("body length %d", msg.BodyLen())
	}
}

func TestResultRoundTrip(t *testing.T) {
	timing := Timing{Begin: 1, End: 3, Duration: 2}
	results := []Result{
		&ErrorResult{ID: 1, ActionType: InferType, Code: ExecTooLate, Message: "late", ActionReceived: 5, ResultSent: 6},
		&LoadModelFromDiskResult{ID: 2, Timing: timing, InputSize: 10, OutputSize: 4, BatchSizes: []uint32{1, 2}, WeightsSizeInCache: 32,
			NumWeightsPages: 2, WeightsLoadTime: 9, ExecTimes: []uint64{1, 2}, CopiesCreated: 1, ActionReceived: 1, ResultSent: 2},
		&LoadWeightsResult{ID: 3, Timing: timing, ActionReceived: 1, ResultSent: 2},
		&EvictWeightsResult{ID: 4, Timing: timing, ActionReceived: 1, ResultSent: 2},
		&InferResult{ID: 5, CopyInput: timing, Exec: timing, CopyOutput: timing, GPU: 1, GPUClockBefore: 1380, GPUClock: 1395,
			ActionReceived: 1, ResultSent: 2, Output: []byte("out")},
		&ClearCacheResult{ID: 6, ActionReceived: 1, ResultSent: 2},
		&GetWorkerStateResult{ID: 7, Memory: WorkerMemoryInfo{PageSize: 16, HostWeightsCacheSize: ^uint64(0), HostIOPoolSize: 5,
			GPUs:   []GPUInfo{{ID: 0, WeightsCacheSize: 32, WeightsCacheTotalPages: 2, Models: []uint32{0}, IOPoolSize: 1, WorkspacePoolSize: 2}},
			Models: []ModelInfo{{ID: 0, Source: "/m", InputSize: 1, OutputSize: 2, BatchSizes: []uint32{1}, WeightsSize: 3, NumWeightsPages: 1, WeightsLoadTime: 4, ExecTimes: []uint64{5}}}},
			ActionReceived: 1, ResultSent: 2},
	}
	for _, r := range results {
		msg, err := EncodeResult(r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeResult(&wire.Message{Type: msg.Type, Header: msg.Header, Body: msg.Body})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, r) {
			t.Errorf("round trip\n got %+v\nwant %+v", got, r)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, m := range []*wire.Message{
		{Type: 99, Header: nil},
		{Type: MsgInfer, Header: []byte{0xff, 0xff}},
		{Type: MsgLoadWeights, Header: nil}, // required fields missing
	} {
		if _, err := DecodeAction(m); err == nil {
			t.Errorf("DecodeAction(%+v) succeeded", m)
		}
		if _, err := DecodeResult(m); err == nil {
			t.Errorf("DecodeResult(%+v) succeeded", m)
		}
	}
}

func TestRenderings(t *testing.T) {
	now := uint64(1_000_000_000)
	for _, tc := range []struct{ got, want string }{
		{Millis(14912345), "14.9"},
		{Window(0, NoLatest, 1_600_000_000_000_000_000), "[0.0, 16846744073709.5]"},
		{(&LoadModelFromDisk{ID: 0, ModelID: 0, Path: "/z/resnet50_v2/model", Latest: NoLatest}).Describe(now), "A0:LoadModelFromDisk model=0 [0.0, 18446744072709.5] /z/resnet50_v2/model"},
		{(&Infer{ID: 3, ModelID: 1, GPU: 1, BatchSize: 2, Earliest: now + 5e6, Latest: now + 15e6, Input: make([]byte, 10)}).Describe(now), "A3:Infer model=1 gpu=1 batch=2 input=10 [5.0, 15.0]"},
		{(&LoadWeights{ID: 1, ModelID: 2, GPU: 0, Earliest: 0, Latest: now + 1e6}).Describe(now), "A1:LoadWeights model=2 gpu=0 [0.0, 1.0]"},
		{(&LoadModelFromDiskResult{ID: 0, InputSize: 602112, OutputSize: 4000, WeightsSizeInCache: 117440512, NumWeightsPages: 7,
			WeightsLoadTime: 8372000, BatchSizes: []uint32{1, 2, 4, 8}, ExecTimes: []uint64{3322000, 5271000, 7495000, 12439000},
			Timing: Timing{Duration: 14912345}}).String(),
			"R0:LoadModelFromDisk input=602112 output=4000 weights=112.0 MB (7 pages) xfer=8.4 b1=3.3 b2=5.3 b4=7.5 b8=12.4 duration=14.9"},
		{(&ErrorResult{ID: 4, Code: 81, Message: "late"}).String(), "R4:Error 81: late"},
		// A peer's path in a message stays on one line.
		{(&ErrorResult{ID: 5, Code: 41, Message: "no model at /m\nForged line"}).String(), `R5:Error 41: "no model at /m\nForged line"`},
		{(&ModelInfo{ID: 1, Source: "/m\rx"}).String(), `M-1 src="/m\rx" input=0 output=0 weights=0.0 MB (0 pages) xfer=0.0`},
		// A long message (a peer's) printed by its start.
		{(&ErrorResult{ID: 6, Code: 2, Message: strings.Repeat("é", 1000)}).String(), "R6:Error 2: " + strings.Repeat("é", 500) + "… (2000 bytes)"},
		{(&ErrorResult{ID: 6, Code: 2, Message: "x" + strings.Repeat("é", 1000)}).String(), "R6:Error 2: x" + strings.Repeat("é", 499) + "… (2001 bytes)"},
		{(&LoadModelFromDisk{Path: strings.Repeat("a", 5000)}).Describe(0), "A0:LoadModelFromDisk model=0 [0.0, 0.0] " + strings.Repeat("a", 4096) + "… (5000 bytes)"},
		// What nothing awaited is described by its size.
		{Brief(&GetWorkerStateResult{ID: 7, Memory: WorkerMemoryInfo{GPUs: make([]GPUInfo, 3), Models: make([]ModelInfo, 5)}}), "R7:GetWorkerState (3 GPUs, 5 models)"},
		{Brief(&LoadModelFromDiskResult{ID: 8, BatchSizes: make([]uint32, 17)}), "R8:LoadModelFromDisk (17 batch sizes, 0 exec times)"},
		{Brief(&ErrorResult{ID: 4, Code: 81, Message: "late"}), "R4:Error 81: late"},
		{(&InferResult{ID: 2, Exec: Timing{Duration: 3322000}, GPU: 1, GPUClock: 1380}).String(), "R2:Infer exec=3.3 input=0.0 output=0.0 gpu1=1380"},
	} {
		if tc.got != tc.want {
			t.Errorf("got  %q\nwant %q", tc.got, tc.want)
		}
	}
	state := (&GetWorkerStateResult{ID: 0, Memory: WorkerMemoryInfo{PageSize: 16777216, GPUs: []GPUInfo{
		{ID: 0, WeightsCacheSize: 23085449216, WeightsCacheTotalPages: 1376, IOPoolSize: 512 << 20, WorkspacePoolSize: 512 << 20}}}}).String()
	want := "R0:GetWorkerState:\n page_size=16777216\ngpus=\n GPU-0 weights_cache=21.5GB (1376 pages) io_pool=512.0MB workspace_pool=512.0MB 0 models currently on GPU\nmodels=\n"
	if state != want {
		t.Errorf("state text\n got %q\nwant %q", state, want)
	}
	if !strings.HasPrefix(ActionType(9).String(), "Unknown") {
		t.Error("unknown action type name")
	}
}

// FuzzDecode checks that no header bytes make the decoders panic.
func FuzzDecode(f *testing.F) {
	msg, _ := EncodeAction(&Infer{ID: 1, BatchSize: 1, InputSizes: []uint32{3}})
	f.Add(uint64(MsgInfer), msg.Header)
	f.Add(uint64(MsgGetWorkerStateResult), []byte{0x12, 0x02, 0x08, 0x01})
	f.Fuzz(func(t *testing.T, typ uint64, header []byte) {
		m := &wire.Message{Type: typ % 110, Header: header}
		DecodeAction(m)
		DecodeResult(m)
	})
}
