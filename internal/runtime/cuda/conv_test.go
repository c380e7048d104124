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
