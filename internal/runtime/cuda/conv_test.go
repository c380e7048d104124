//go:build linux && cgo

package cuda

import (
	"slices"
	"testing"

	cu "github.com/clockwork-go/clockwork/internal/cuda"
	"github.com/clockwork-go/clockwork/internal/engine"
)

func TestConvCandidates(t *testing.T) {
	usable := []cu.ConvFwdAlgoPerf{
		{Algo: cu.AlgoImplicitGemm}, {Algo: cu.AlgoWinogradNonfused}, {Algo: cu.AlgoImplicitPrecompGemm}, {Algo: cu.AlgoFFT},
	}
	conv := func(k, stride, groups, c int, act engine.ActKind) *engine.Conv {
		return &engine.Conv{KernelH: k, KernelW: k, StrideH: stride, StrideW: stride, Groups: groups,
			X: engine.TensorRef{Shape: []int{1, c, 8, 8}}, Act: engine.Activation{Kind: act}}
	}
	for _, tc := range []struct {
		name string
		op   *engine.Conv
		want []string
	}{
		{"3x3 relu: fused and plain with the top 3", conv(3, 1, 1, 16, engine.ActRelu), []string{
			"IMPLICIT_GEMM/fused", "WINOGRAD_NONFUSED/fused", "IMPLICIT_PRECOMP_GEMM/fused",
			"IMPLICIT_GEMM/conv+epilogue", "WINOGRAD_NONFUSED/conv+epilogue", "IMPLICIT_PRECOMP_GEMM/conv+epilogue"}},
		{"3x3 clip: the fused call only with IMPLICIT_PRECOMP_GEMM", conv(3, 1, 1, 16, engine.ActClip), []string{
			"IMPLICIT_PRECOMP_GEMM/fused+act",
			"IMPLICIT_GEMM/conv+epilogue", "WINOGRAD_NONFUSED/conv+epilogue", "IMPLICIT_PRECOMP_GEMM/conv+epilogue"}},
		{"pointwise: cuBLAS too", conv(1, 1, 1, 16, engine.ActNone), []string{
			"IMPLICIT_PRECOMP_GEMM/fused",
			"IMPLICIT_GEMM/conv+epilogue", "WINOGRAD_NONFUSED/conv+epilogue", "IMPLICIT_PRECOMP_GEMM/conv+epilogue",
			"cublas/gemm+epilogue"}},
		{"strided 1x1: no cuBLAS", conv(1, 2, 1, 16, engine.ActNone), []string{
			"IMPLICIT_PRECOMP_GEMM/fused",
			"IMPLICIT_GEMM/conv+epilogue", "WINOGRAD_NONFUSED/conv+epilogue", "IMPLICIT_PRECOMP_GEMM/conv+epilogue"}},
		{"depthwise: the runtime's kernel too", conv(3, 1, 16, 16, engine.ActRelu), []string{
			"IMPLICIT_GEMM/fused", "WINOGRAD_NONFUSED/fused", "IMPLICIT_PRECOMP_GEMM/fused",
			"IMPLICIT_GEMM/conv+epilogue", "WINOGRAD_NONFUSED/conv+epilogue", "IMPLICIT_PRECOMP_GEMM/conv+epilogue",
			"depthwise_conv"}},
	} {
		var got []string
		for _, c := range convCandidates(tc.op, usable) {
			got = append(got, c.String())
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

// TestConvApplies checks the rules by which a cached choice, possibly
// read from a file, is reused: every way convCandidates lists applies,
// and ways it could never list do not.
func TestConvApplies(t *testing.T) {
	all := make([]cu.ConvFwdAlgoPerf, 0, 8)
	for a := cu.AlgoImplicitGemm; a.Valid(); a++ {
		all = append(all, cu.ConvFwdAlgoPerf{Algo: a})
	}
	conv := func(k, stride, groups, c int, act engine.ActKind) *engine.Conv {
		return &engine.Conv{KernelH: k, KernelW: k, StrideH: stride, StrideW: stride, Groups: groups,
			X: engine.TensorRef{Shape: []int{1, c, 8, 8}}, Act: engine.Activation{Kind: act}}
	}
	ops := map[string]*engine.Conv{
		"3x3 relu": conv(3, 1, 1, 16, engine.ActRelu), "3x3 clip": conv(3, 1, 1, 16, engine.ActClip),
		"pointwise": conv(1, 1, 1, 16, engine.ActNone), "depthwise": conv(3, 1, 16, 16, engine.ActHardSwish),
	}
	for name, op := range ops {
		for _, c := range convCandidates(op, all) {
			if !convApplies(op, c) {
				t.Errorf("%s: candidate %v does not apply", name, c)
			}
		}
	}
	for _, tc := range []struct {
		op string
		c  convChoice
	}{
		{"3x3 clip", convChoice{algo: cu.AlgoImplicitGemm, mode: convFused}},               // the fused call takes only IMPLICIT_PRECOMP_GEMM
		{"3x3 clip", convChoice{algo: cu.AlgoImplicitPrecompGemm, mode: convFused}},        // and would leave out the clip
		{"3x3 relu", convChoice{algo: cu.AlgoImplicitPrecompGemm, mode: convFusedThenAct}}, // ReLU fuses
		{"pointwise", convChoice{algo: cu.AlgoImplicitGemm, mode: convFusedThenAct}},
		{"3x3 relu", convChoice{mode: convGemm}},
		{"3x3 relu", convChoice{mode: convDepthwise}},
		{"3x3 relu", convChoice{algo: 42, mode: convPlain}},
		{"3x3 relu", convChoice{algo: 42, mode: convFused}},
		{"3x3 relu", convChoice{mode: 9}},
	} {
		if convApplies(ops[tc.op], tc.c) {
			t.Errorf("%s: %v (mode %d) applies", tc.op, tc.c, tc.c.mode)
		}
	}
}
