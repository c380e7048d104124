package engine

// Flops is the floating-point operations of the multiply-adds op computes,
// two for each: what a profile divides by an op's time for its rate. It
// counts the ops whose time is mostly multiply-adds (Conv, ConvTranspose,
// Gemm, BatchMatMul), every multiply-add of their definition (a
// convolution's taps over its padding included), and is 0 for the others,
// whose time goes to moving memory.
func Flops(op Op) float64 {
	switch o := op.(type) {
	case *Conv:
		// Each output element sums C/Groups·KernelH·KernelW products.
		if m := dim(o.W.Shape, 0); m > 0 {
			return 2 * float64(o.Y.Elems()) * float64(o.W.Elems()/m)
		}
	case *ConvTranspose:
		// Each input element adds M/Groups·KernelH·KernelW products.
		if c := dim(o.W.Shape, 0); c > 0 {
			return 2 * float64(o.X.Elems()) * float64(o.W.Elems()/c)
		}
	case *Gemm:
		return 2 * float64(o.M) * float64(o.N) * float64(o.K)
	case *BatchMatMul:
		return 2 * float64(o.Batch) * float64(o.M) * float64(o.N) * float64(o.K)
	}
	return 0
}

// dim is shape[i], or 0 where shape has no axis i.
func dim(shape []int, i int) int {
	if i < len(shape) {
		return shape[i]
	}
	return 0
}
