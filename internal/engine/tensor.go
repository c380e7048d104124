package engine

import (
	"fmt"
	"math"
)

// Region says which memory holds a tensor.
type Region uint8

// Regions. The zero Region marks an absent optional operand.
const (
	Absent    Region = iota
	Weights          // page Page of the model's weights, at Offset
	IO               // the batch's IO region: inputs from 0, outputs after them
	Workspace        // the batch's workspace
)

func (r Region) String() string {
	switch r {
	case Absent:
		return "absent"
	case Weights:
		return "weights"
	case IO:
		return "io"
	case Workspace:
		return "workspace"
	}
	return fmt.Sprintf("Region(%d)", uint8(r))
}

// TensorRef locates a dense, row-major float32 tensor.
type TensorRef struct {
	Region Region
	Page   int   // weights page index within the model (Weights only)
	Offset int64 // byte offset in the page or region
	Shape  []int
}

// Present reports whether the operand exists.
func (t TensorRef) Present() bool { return t.Region != Absent }

// Elems is the number of elements.
func (t TensorRef) Elems() int { return numElems(t.Shape) }

// Bytes is the tensor's size in bytes.
func (t TensorRef) Bytes() int64 { return int64(t.Elems()) * 4 }

func (t TensorRef) String() string {
	if t.Region == Weights {
		return fmt.Sprintf("weights[%d]+%d%v", t.Page, t.Offset, t.Shape)
	}
	return fmt.Sprintf("%s+%d%v", t.Region, t.Offset, t.Shape)
}

func numElems(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// ActKind is an elementwise activation. Its values are the act codes of
// the CUDA runtime's kernels (and fakecuda's): new kinds go at the end.
type ActKind uint8

// Activations.
const (
	ActNone            ActKind = iota
	ActRelu                    // max(x, 0)
	ActClip                    // min(max(x, Min), Max); Relu6 is Clip(0, 6)
	ActHardSigmoid             // max(0, min(1, Alpha·x + Beta))
	ActHardSwish               // x · max(0, min(1, Alpha·x + Beta)), Alpha = 1/6, Beta = 0.5
	ActSigmoid                 // 1 / (1 + e^-x)
	ActTanh                    // tanh x
	ActLeakyRelu               // x if x ≥ 0, else Alpha·x
	ActErf                     // erf x
	ActGelu                    // x · (1 + erf(x/√2)) / 2, as PyTorch exports nn.GELU: Div, Erf, Add, Mul, Mul
	ActSqrt                    // √x
	ActPow                     // x^Alpha
	ActExp                     // e^x
	ActLog                     // ln x
	ActAbs                     // |x|
	ActNeg                     // −x
	ActReciprocal              // 1/x
	ActElu                     // x if x > 0, else Alpha·(e^x − 1); Selu is Elu scaled by Beta
	ActSoftplus                // ln(1 + e^x)
	ActSoftsign                // x / (1 + |x|)
	ActMish                    // x · tanh(ln(1 + e^x))
	ActGeluTanh                // x · (1 + tanh(√(2/π)·(x + 0.044715·x³))) / 2: Gelu with approximate "tanh"
	ActThresholdedRelu         // x if x > Alpha, else 0
	ActCelu                    // max(0, x) + min(0, Alpha·(e^(x/Alpha) − 1))
	ActFloor                   // ⌊x⌋
	ActCeil                    // ⌈x⌉
	ActRound                   // x rounded to the nearest integer, halves to even
	ActSign                    // 1, −1 or 0 (NaN for NaN)
	ActSin                     // sin x
	ActCos                     // cos x
	ActSilu                    // x / (1 + e^-x): SiLU (swish), as PyTorch exports nn.SiLU: Sigmoid, Mul
)

func (k ActKind) String() string {
	switch k {
	case ActNone:
		return "none"
	case ActRelu:
		return "relu"
	case ActClip:
		return "clip"
	case ActHardSigmoid:
		return "hardsigmoid"
	case ActHardSwish:
		return "hardswish"
	case ActSigmoid:
		return "sigmoid"
	case ActTanh:
		return "tanh"
	case ActLeakyRelu:
		return "leakyrelu"
	case ActErf:
		return "erf"
	case ActGelu:
		return "gelu"
	case ActSqrt:
		return "sqrt"
	case ActPow:
		return "pow"
	case ActExp:
		return "exp"
	case ActLog:
		return "log"
	case ActAbs:
		return "abs"
	case ActNeg:
		return "neg"
	case ActReciprocal:
		return "reciprocal"
	case ActElu:
		return "elu"
	case ActSoftplus:
		return "softplus"
	case ActSoftsign:
		return "softsign"
	case ActMish:
		return "mish"
	case ActGeluTanh:
		return "gelu_tanh"
	case ActThresholdedRelu:
		return "thresholdedrelu"
	case ActCelu:
		return "celu"
	case ActFloor:
		return "floor"
	case ActCeil:
		return "ceil"
	case ActRound:
		return "round"
	case ActSign:
		return "sign"
	case ActSin:
		return "sin"
	case ActCos:
		return "cos"
	case ActSilu:
		return "silu"
	}
	return fmt.Sprintf("ActKind(%d)", uint8(k))
}

// Activation is an activation applied to an op's result before it is
// stored. The zero Activation is the identity.
type Activation struct {
	Kind        ActKind
	Min, Max    float32 // ActClip
	Alpha, Beta float32 // ActHardSigmoid, ActHardSwish, ActElu (Beta: Selu's gamma, else 1); Alpha also ActLeakyRelu, ActPow, ActThresholdedRelu and ActCelu
}

// Apply computes the activation of x.
func (a Activation) Apply(x float32) float32 {
	switch a.Kind {
	case ActRelu:
		return max(x, 0)
	case ActClip:
		return min(max(x, a.Min), a.Max)
	// float32(a.Alpha*x) rounds the product before the sum: without it Go
	// may fuse the two into one multiply-add (it does on arm64), and the
	// result would depend on the architecture.
	case ActHardSigmoid:
		return max(0, min(1, float32(a.Alpha*x)+a.Beta))
	case ActHardSwish:
		return x * max(0, min(1, float32(a.Alpha*x)+a.Beta))
	case ActSigmoid:
		return float32(1 / (1 + math.Exp(-float64(x))))
	case ActTanh:
		return float32(math.Tanh(float64(x)))
	case ActLeakyRelu:
		if x < 0 {
			return a.Alpha * x
		}
		return x
	case ActErf:
		return float32(math.Erf(float64(x)))
	case ActGelu:
		return float32(0.5 * float64(x) * (1 + math.Erf(float64(x)/math.Sqrt2)))
	case ActSqrt:
		return float32(math.Sqrt(float64(x)))
	case ActPow:
		if a.Alpha == 2 {
			return x * x
		}
		return float32(math.Pow(float64(x), float64(a.Alpha)))
	case ActExp:
		return float32(math.Exp(float64(x)))
	case ActLog:
		return float32(math.Log(float64(x)))
	case ActAbs:
		return float32(math.Abs(float64(x)))
	case ActNeg:
		return -x
	case ActReciprocal:
		return 1 / x
	case ActElu:
		if x > 0 {
			return a.Beta * x
		}
		return float32(float64(a.Beta) * float64(a.Alpha) * math.Expm1(float64(x)))
	case ActSoftplus:
		return float32(softplus(float64(x)))
	case ActSoftsign:
		return x / (1 + float32(math.Abs(float64(x))))
	case ActMish:
		return float32(float64(x) * math.Tanh(softplus(float64(x))))
	case ActGeluTanh:
		v := float64(x)
		return float32(0.5 * v * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(v+0.044715*v*v*v))))
	case ActThresholdedRelu:
		if x > a.Alpha {
			return x
		}
		return 0
	case ActCelu:
		return max(0, x) + float32(min(0, float64(a.Alpha)*math.Expm1(float64(x)/float64(a.Alpha))))
	case ActFloor:
		return float32(math.Floor(float64(x)))
	case ActCeil:
		return float32(math.Ceil(float64(x)))
	case ActRound:
		return float32(math.RoundToEven(float64(x)))
	case ActSign:
		switch {
		case x > 0:
			return 1
		case x < 0:
			return -1
		}
		return x // 0, −0 or NaN
	case ActSin:
		return float32(math.Sin(float64(x)))
	case ActCos:
		return float32(math.Cos(float64(x)))
	case ActSilu:
		return float32(float64(x) / (1 + math.Exp(-float64(x))))
	}
	return x
}

// softplus is ln(1 + e^x), without overflow for large x.
func softplus(x float64) float64 {
	if x > 20 {
		return x
	}
	return math.Log1p(math.Exp(x))
}

func (a Activation) String() string {
	switch a.Kind {
	case ActClip:
		return fmt.Sprintf("clip(%g,%g)", a.Min, a.Max)
	case ActHardSigmoid, ActHardSwish:
		return fmt.Sprintf("%s(%g,%g)", a.Kind, a.Alpha, a.Beta)
	case ActLeakyRelu, ActPow, ActThresholdedRelu, ActCelu:
		return fmt.Sprintf("%s(%g)", a.Kind, a.Alpha)
	case ActElu:
		return fmt.Sprintf("%s(%g,%g)", a.Kind, a.Alpha, a.Beta)
	}
	return a.Kind.String()
}
