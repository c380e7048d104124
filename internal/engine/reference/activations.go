package reference

import (
	"fmt"
	"math"
)

// activation evaluates the activations with parameters of their own, as
// ONNX defines them.
func activation(n node) (value, error) {
	softplus := func(x float64) float64 { return math.Log(1 + math.Exp(x)) }
	var f func(float64) float64
	switch n.n.GetOpType() {
	case "Elu":
		a := float64(n.f("alpha", 1))
		f = func(x float64) float64 { return elu(x, a) }
	case "Selu":
		a, g := float64(n.f("alpha", 1.67326319217681884765625)), float64(n.f("gamma", 1.05070102214813232421875))
		f = func(x float64) float64 { return g * elu(x, a) }
	case "Softplus":
		f = softplus
	case "Softsign":
		f = func(x float64) float64 { return x / (1 + math.Abs(x)) }
	case "Mish":
		f = func(x float64) float64 { return x * math.Tanh(softplus(x)) }
	case "Gelu":
		if n.s("approximate", "none") == "tanh" {
			f = func(x float64) float64 {
				return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*math.Pow(x, 3))))
			}
		} else {
			f = func(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) }
		}
	case "ThresholdedRelu":
		a := float64(n.f("alpha", 1))
		f = func(x float64) float64 {
			if x > a {
				return x
			}
			return 0
		}
	case "Celu":
		a := float64(n.f("alpha", 1))
		f = func(x float64) float64 { return math.Max(0, x) + math.Min(0, a*(math.Exp(x/a)-1)) }
	default:
		return value{}, fmt.Errorf("not an activation")
	}
	return unary(n.x(0), f), nil
}

func elu(x, alpha float64) float64 {
	if x > 0 {
		return x
	}
	return alpha * (math.Exp(x) - 1)
}
