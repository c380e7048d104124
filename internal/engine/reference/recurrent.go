package reference

import (
	"fmt"
	"math"
)

// recurrent evaluates an LSTM, GRU or RNN as ONNX defines them, step by
// step: outputs Y [seq, dirs, batch, hidden] (layout 1: [batch, seq,
// dirs, hidden]), Y_h and, for an LSTM, Y_c [dirs, batch, hidden]
// (layout 1: [batch, dirs, hidden]). Gates are W's and R's blocks in
// ONNX's order: i, o, f, c (LSTM); z, r, h (GRU).
func recurrent(n node, op string) ([]Tensor, error) {
	gates := map[string]int{"LSTM": 4, "GRU": 3, "RNN": 1}[op]
	hidden := n.i("hidden_size", 0)
	layout := n.i("layout", 0)
	dirs := 1
	dir := n.s("direction", "forward")
	if dir == "bidirectional" {
		dirs = 2
	}
	if _, ok := n.in(4); ok {
		return nil, fmt.Errorf("sequence_lens is not supported")
	}
	if n.attr("clip") != nil || n.i("input_forget", 0) != 0 {
		return nil, fmt.Errorf("clip and input_forget are not supported")
	}
	x, w, r := n.x(0), n.x(1), n.x(2)
	seq, batch, in := x.Shape[0], x.Shape[1], x.Shape[2]
	at := func(t, b, k int) float32 { return x.Data[(t*batch+b)*in+k] }
	if layout == 1 {
		batch, seq = seq, batch
		at = func(t, b, k int) float32 { return x.Data[(b*seq+t)*in+k] }
	}
	bias, hasBias := n.in(3)
	names := n.strs("activations")
	defaults := map[string][]string{"LSTM": {"Sigmoid", "Tanh", "Tanh"}, "GRU": {"Sigmoid", "Tanh"}, "RNN": {"Tanh"}}[op]
	per := len(defaults)
	if names == nil {
		for range dirs {
			names = append(names, defaults...)
		}
	}
	if len(names) != per*dirs {
		return nil, fmt.Errorf("%d activations for %d directions", len(names), dirs)
	}
	lbr := n.i("linear_before_reset", 0) != 0
	initial := func(i, d int) []float32 { // [batch, hidden] of direction d, zeros if absent
		s := make([]float32, batch*hidden)
		v, ok := n.in(i)
		if !ok {
			return s
		}
		for b := range batch {
			for j := range hidden {
				o := (d*batch+b)*hidden + j
				if layout == 1 {
					o = (b*dirs+d)*hidden + j
				}
				s[b*hidden+j] = v.t.Data[o]
			}
		}
		return s
	}
	ys := make([][][]float32, dirs) // [dir][t] → h [batch·hidden]
	hs, cs := make([][]float32, dirs), make([][]float32, dirs)
	for d := range dirs {
		var fs [3]func(float64) float64 // f, g, h; the operator's last for those it lacks
		for i := range fs {
			if fs[i] = act(names[d*per+min(i, per-1)]); fs[i] == nil {
				return nil, fmt.Errorf("activations %v: unsupported", names)
			}
		}
		f, g, h := fs[0], fs[1], fs[2]
		// pre is gate k's input part for item b, unit j at step t:
		// X·Wᵀ + Wb, and hid its part from the hidden state s: s·Rᵀ + Rb.
		wb := func(k, j int) float64 {
			if !hasBias {
				return 0
			}
			return float64(bias.t.Data[d*2*gates*hidden+k*hidden+j])
		}
		rb := func(k, j int) float64 {
			if !hasBias {
				return 0
			}
			return float64(bias.t.Data[d*2*gates*hidden+(gates+k)*hidden+j])
		}
		pre := func(k, t, b, j int) float64 {
			s := wb(k, j)
			for q := range in {
				s += float64(at(t, b, q)) * float64(w.Data[((d*gates+k)*hidden+j)*in+q])
			}
			return s
		}
		hid := func(k int, s []float32, b, j int) float64 {
			v := rb(k, j)
			for q := range hidden {
				v += float64(s[b*hidden+q]) * float64(r.Data[((d*gates+k)*hidden+j)*hidden+q])
			}
			return v
		}
		hPrev, cPrev := initial(5, d), initial(6, d)
		ys[d] = make([][]float32, seq)
		for step := range seq {
			t := step
			if dir == "reverse" || d == 1 {
				t = seq - 1 - step
			}
			hNew, cNew := make([]float32, batch*hidden), make([]float32, batch*hidden)
			// reset is r·h of the item, which a GRU resetting before its
			// linear transformation multiplies by Rₕ.
			reset := make([]float32, batch*hidden)
			for b := range batch {
				if op == "GRU" && !lbr {
					for q := range hidden {
						reset[b*hidden+q] = float32(f(pre(1, t, b, q)+hid(1, hPrev, b, q))) * hPrev[b*hidden+q]
					}
				}
				for j := range hidden {
					o := b*hidden + j
					switch op {
					case "LSTM":
						i := f(pre(0, t, b, j) + hid(0, hPrev, b, j))
						ot := f(pre(1, t, b, j) + hid(1, hPrev, b, j))
						ft := f(pre(2, t, b, j) + hid(2, hPrev, b, j))
						ct := g(pre(3, t, b, j) + hid(3, hPrev, b, j))
						c := ft*float64(cPrev[o]) + i*ct
						cNew[o], hNew[o] = float32(c), float32(ot*h(c))
					case "GRU":
						z := f(pre(0, t, b, j) + hid(0, hPrev, b, j))
						rt := f(pre(1, t, b, j) + hid(1, hPrev, b, j))
						var hh float64
						if lbr {
							hh = g(pre(2, t, b, j) + rt*hid(2, hPrev, b, j))
						} else {
							hh = g(pre(2, t, b, j) + hid(2, reset, b, j))
						}
						hNew[o] = float32((1-z)*hh + z*float64(hPrev[o]))
					default:
						hNew[o] = float32(f(pre(0, t, b, j) + hid(0, hPrev, b, j)))
					}
				}
			}
			ys[d][t], hPrev, cPrev = hNew, hNew, cNew
		}
		hs[d], cs[d] = hPrev, cPrev
	}
	var y, yh, yc Tensor
	if layout == 0 {
		y, yh, yc = newTensor(seq, dirs, batch, hidden), newTensor(dirs, batch, hidden), newTensor(dirs, batch, hidden)
	} else {
		y, yh, yc = newTensor(batch, seq, dirs, hidden), newTensor(batch, dirs, hidden), newTensor(batch, dirs, hidden)
	}
	for d := range dirs {
		for b := range batch {
			for j := range hidden {
				last := (d*batch+b)*hidden + j
				if layout == 1 {
					last = (b*dirs+d)*hidden + j
				}
				yh.Data[last], yc.Data[last] = hs[d][b*hidden+j], cs[d][b*hidden+j]
				for t := range seq {
					o := ((t*dirs+d)*batch+b)*hidden + j
					if layout == 1 {
						o = ((b*seq+t)*dirs+d)*hidden + j
					}
					y.Data[o] = ys[d][t][b*hidden+j]
				}
			}
		}
	}
	return []Tensor{y, yh, yc}, nil
}

// act is a recurrent operator's activation function by its ONNX name,
// with the default parameters of the operator of that name; nil if
// unsupported.
func act(name string) func(float64) float64 {
	switch name {
	case "Sigmoid":
		return func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	case "Tanh":
		return math.Tanh
	case "Relu":
		return func(v float64) float64 { return math.Max(v, 0) }
	case "HardSigmoid":
		return func(v float64) float64 { return math.Max(0, math.Min(1, 0.2*v+0.5)) }
	case "Softsign":
		return func(v float64) float64 { return v / (1 + math.Abs(v)) }
	}
	return nil
}
