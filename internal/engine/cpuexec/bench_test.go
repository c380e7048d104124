package cpuexec_test

import (
	"fmt"
	"sync"
	"testing"

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
		b.Run(fmt.Sprintf("b%d", batch), func(b *testing.B) {
			m := benchModel(b, name)
			p, err := m.Plan(batch)
			if err != nil {
				b.Fatal(err)
			}
			e, err := cpuexec.New(p)
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
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/inference")
		})
	}
}

func BenchmarkResNet18(b *testing.B) { benchmarkModel(b, "resnet18") }
func BenchmarkResNet50(b *testing.B) { benchmarkModel(b, "resnet50") }

// BenchmarkEfficientNetB0: depthwise convolutions, SiLU after most
// convolutions, squeeze-and-excitation.
func BenchmarkEfficientNetB0(b *testing.B) { benchmarkModel(b, "efficientnet_b0") }
