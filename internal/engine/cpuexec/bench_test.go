package cpuexec_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/clockwork-go/clockwork/internal/engine"
	"github.com/clockwork-go/clockwork/internal/engine/cpuexec"
	"github.com/clockwork-go/clockwork/internal/modelgen"
)

var (
	benchMu     sync.Mutex
	benchModels = map[string]*engine.Model{}
)

// benchModel generates and imports a zoo model once per test binary.
func benchModel(b *testing.B, name string) *engine.Model {
	benchMu.Lock()
	defer benchMu.Unlock()
	if m, ok := benchModels[name]; ok {
		return m
	}
	mp, err := modelgen.Generate(name)
	if err != nil {
		b.Fatal(err)
	}
	m, err := engine.ImportProto(mp, engine.Options{})
	if err != nil {
		b.Fatal(err)
	}
	benchModels[name] = m
	return m
}

func benchmarkModel(b *testing.B, name string) {
	for _, batch := range []int{1, 16} {
		b.Run(fmt.Sprintf("b%d", batch), func(b *testing.B) { runPlan(b, benchModel(b, name), batch) })
	}
}

// runPlan times m's plan for a batch size on the machine's CPUs.
func runPlan(b *testing.B, m *engine.Model, batch int) {
	p, err := m.Plan(batch)
	if err != nil {
		b.Fatal(err)
	}
	e, err := cpuexec.New(p, m.Weights.Pages)
	if err != nil {
		b.Fatal(err)
	}
	w := cpuexec.NewWorkers(0)
	defer w.Close()
	mem := cpuexec.Memory{IO: make([]byte, p.IOBytes), Workspace: make([]byte, p.WorkspaceBytes), Pages: m.Weights.Pages}
	if err := e.Run(w, mem); err != nil { // warm up
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := e.Run(w, mem); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/inference")
}

func BenchmarkResNet18(b *testing.B) { benchmarkModel(b, "resnet18") }
func BenchmarkResNet50(b *testing.B) { benchmarkModel(b, "resnet50") }

// BenchmarkEfficientNetB0: depthwise convolutions, SiLU after most
// convolutions, squeeze-and-excitation.
func BenchmarkEfficientNetB0(b *testing.B) { benchmarkModel(b, "efficientnet_b0") }

// BenchmarkDepthwise runs one depthwise convolution of MobileNetV2's and
// EfficientNet's shapes (batch size 1, bias, no activation).
func BenchmarkDepthwise(b *testing.B) {
	for _, c := range []struct {
		name                    string
		channels, size, k, step int
	}{
		{"3x3-s1-96x56", 96, 56, 3, 1},
		{"3x3-s2-144x56", 144, 56, 3, 2},
		{"5x5-s1-240x28", 240, 28, 5, 1},
		{"5x5-s2-144x56", 144, 56, 5, 2},
	} {
		b.Run(c.name, func(b *testing.B) {
			mb := modelgen.NewBuilder("depthwise", 1)
			x := mb.Input("x", c.channels, c.size, c.size)
			w := mb.Normal("w", 0, 0.3, c.channels, 1, c.k, c.k)
			bias := mb.Normal("bias", 0, 0.1, c.channels)
			p := c.k / 2
			mb.NodeOut("Conv", "y", []string{x, w, bias}, modelgen.Ints("kernel_shape", c.k, c.k),
				modelgen.Ints("pads", p, p, p, p), modelgen.Ints("strides", c.step, c.step), modelgen.Int("group", c.channels))
			out := (c.size+2*p-c.k)/c.step + 1
			mb.Output("y", c.channels, out, out)
			m, err := engine.ImportProto(mb.Model(), engine.Options{})
			if err != nil {
				b.Fatal(err)
			}
			runPlan(b, m, 1)
		})
	}
}

// BenchmarkShares estimates how the workers' shares of each op would run on
// as many cores as shares, on one (cpuexec.RunShares). It reports the
// critical path and the speed-up, the shares' total time over it (of at
// most the number of shares).
func BenchmarkShares(b *testing.B) {
	for _, name := range []string{"resnet50", "densenet121"} {
		m := benchModel(b, name)
		p, err := m.Plan(1)
		if err != nil {
			b.Fatal(err)
		}
		e, err := cpuexec.New(p, m.Weights.Pages)
		if err != nil {
			b.Fatal(err)
		}
		mem := cpuexec.Memory{IO: make([]byte, p.IOBytes), Workspace: make([]byte, p.WorkspaceBytes), Pages: m.Weights.Pages}
		for _, parts := range []int{2, 16} {
			b.Run(fmt.Sprintf("%s/b1/shares=%d", name, parts), func(b *testing.B) {
				var critical, total time.Duration
				for b.Loop() {
					c, t := cpuexec.RunShares(e, mem, parts)
					critical += c
					total += t
				}
				b.ReportMetric(critical.Seconds()*1e3/float64(b.N), "ms-critical")
				b.ReportMetric(total.Seconds()/critical.Seconds(), "speed-up")
			})
		}
	}
}
