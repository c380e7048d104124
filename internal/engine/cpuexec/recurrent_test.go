package cpuexec_test

import (
	"fmt"
	"testing"

	"github.com/clockwork-go/clockwork/internal/engine"
	"github.com/clockwork-go/clockwork/internal/modelgen"
	"github.com/clockwork-go/clockwork/internal/onnx"
)

// recurrentCase is an LSTM, GRU or RNN of 3 steps of 4 inputs and 5
// hidden units, its attributes, which optional inputs it has and which
// outputs it gives.
type recurrentCase struct {
	op      string
	attrs   []*onnx.AttributeProto
	dirs    int
	layout  int
	bias    bool
	initial bool // initial_h (and initial_c) from graph inputs
	outs    [3]bool
}

// recurrentModel builds c's model: X a graph input [N, 3, 4], moved to
// [3, N, 4] for layout 0 as PyTorch exports batch_first; the outputs
// moved batch first.
func recurrentModel(c recurrentCase) *onnx.ModelProto {
	const seq, in, hidden = 3, 4, 5
	gates := map[string]int{"LSTM": 4, "GRU": 3, "RNN": 1}[c.op]
	b := modelgen.NewBuilder("recurrent", 31)
	b.SetOpset(14)
	x := b.Input("x", seq, in)
	if c.layout == 0 {
		x = b.Node("Transpose", []string{x}, ints("perm", 1, 0, 2))
	}
	inputs := []string{x, b.Normal("W", 0, 0.5, c.dirs, gates*hidden, in), b.Normal("R", 0, 0.5, c.dirs, gates*hidden, hidden), "", "", "", ""}
	if c.bias {
		inputs[3] = b.Normal("B", 0, 0.5, c.dirs, 2*gates*hidden)
	}
	if c.initial {
		states := 1
		if c.op == "LSTM" {
			states = 2
		}
		for i := range states {
			s := b.Input(fmt.Sprintf("state%d", i), c.dirs, hidden)
			if c.layout == 0 {
				s = b.Node("Transpose", []string{s}, ints("perm", 1, 0, 2))
			}
			inputs[5+i] = s
		}
	}
	for len(inputs) > 3 && inputs[len(inputs)-1] == "" {
		inputs = inputs[:len(inputs)-1]
	}
	outs := []string{"", "", ""}
	if c.op != "LSTM" {
		outs = outs[:2]
	}
	for i := range outs {
		if c.outs[i] {
			outs[i] = fmt.Sprintf("out%d", i)
		}
	}
	attrs := append([]*onnx.AttributeProto{num("hidden_size", hidden), num("layout", c.layout)}, c.attrs...)
	if c.dirs == 2 {
		attrs = append(attrs, modelgen.String("direction", "bidirectional"))
	}
	b.NodeOuts(c.op, outs, inputs, attrs...)
	for i, o := range outs {
		if o == "" {
			continue
		}
		if c.layout == 0 {
			perm := []int{1, 0, 2} // Y_h, Y_c [dirs, N, H]
			if i == 0 {
				perm = []int{2, 0, 1, 3} // Y [seq, dirs, N, H]
			}
			o = b.Node("Transpose", []string{o}, ints("perm", perm...))
		}
		b.OutputAny(o)
	}
	return b.Model()
}

// recurrentCases are TestRecurrent's: LSTMs, GRUs and RNNs of either
// layout and direction, with and without biases and initial states.
func recurrentCases() map[string]recurrentCase {
	all := [3]bool{true, true, true}
	return map[string]recurrentCase{
		"lstm":                    {op: "LSTM", dirs: 1, outs: all},
		"lstm-bidirectional":      {op: "LSTM", dirs: 2, bias: true, initial: true, outs: all},
		"lstm-reverse-layout1":    {op: "LSTM", dirs: 1, layout: 1, bias: true, initial: true, outs: all, attrs: []*onnx.AttributeProto{modelgen.String("direction", "reverse")}},
		"lstm-last-state-only":    {op: "LSTM", dirs: 2, bias: true, outs: [3]bool{false, true, false}},
		"lstm-activations":        {op: "LSTM", dirs: 1, bias: true, initial: true, outs: all, attrs: []*onnx.AttributeProto{modelgen.Strings("activations", "HardSigmoid", "Softsign", "Relu")}},
		"gru-linear-before-reset": {op: "GRU", dirs: 2, bias: true, initial: true, outs: all, attrs: []*onnx.AttributeProto{num("linear_before_reset", 1)}},
		"gru-lbr-zero-state":      {op: "GRU", dirs: 1, bias: true, outs: all, attrs: []*onnx.AttributeProto{num("linear_before_reset", 1)}},
		"gru":                     {op: "GRU", dirs: 1, bias: true, outs: all},
		"gru-initial":             {op: "GRU", dirs: 2, bias: true, initial: true, outs: all},
		"gru-initial-layout1":     {op: "GRU", dirs: 2, layout: 1, bias: true, initial: true, outs: all},
		"rnn-relu-bidirectional":  {op: "RNN", dirs: 2, bias: true, initial: true, outs: all, attrs: []*onnx.AttributeProto{modelgen.Strings("activations", "Relu", "Tanh")}},
		"rnn-no-bias-no-state":    {op: "RNN", dirs: 1, outs: all},
	}
}

// TestRecurrent runs recurrentCases, unrolled, against the reference at
// batch sizes 1 and 3.
func TestRecurrent(t *testing.T) {
	for name, c := range recurrentCases() {
		t.Run(name, func(t *testing.T) {
			checkModel(t, recurrentModel(c), engine.Options{}, 1, 3)
		})
	}
}
