package engine_test

import (
	"cmp"
	"slices"
	"strings"
	"testing"

	"github.com/clockwork-go/clockwork/internal/engine"
	"github.com/clockwork-go/clockwork/internal/modelgen"
)

// checkLayout verifies the page layout invariants.
func checkLayout(t *testing.T, w *engine.WeightLayout) {
	t.Helper()
	var raw int64
	type span struct{ start, end int64 }
	perPage := make([][]span, w.NumPages())
	for _, tw := range w.Tensors {
		size := int64(4)
		for _, d := range tw.Shape {
			size *= int64(d)
		}
		raw += size
		if tw.Page < 0 || tw.Page >= w.NumPages() {
			t.Fatalf("%s on page %d of %d", tw.Name, tw.Page, w.NumPages())
		}
		if tw.Offset%256 != 0 {
			t.Errorf("%s at offset %d: not 256-aligned", tw.Name, tw.Offset)
		}
		if end := tw.Offset + size; end > int64(len(w.Pages[tw.Page])) || end > w.PageSize {
			t.Errorf("%s [%d, %d) crosses the end of page %d (%d bytes used, page size %d)", tw.Name, tw.Offset, end, tw.Page, len(w.Pages[tw.Page]), w.PageSize)
		}
		perPage[tw.Page] = append(perPage[tw.Page], span{tw.Offset, tw.Offset + size})
	}
	for p, spans := range perPage {
		slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.start, b.start) })
		for i := 1; i < len(spans); i++ {
			if spans[i].start < spans[i-1].end {
				t.Errorf("page %d: tensors overlap at %d", p, spans[i].start)
			}
		}
		if len(spans) == 0 {
			t.Errorf("page %d is empty", p)
		}
	}
	if raw != w.RawBytes {
		t.Errorf("RawBytes %d, tensors add up to %d", w.RawBytes, raw)
	}
	if w.PagedBytes() != int64(w.NumPages())*w.PageSize {
		t.Errorf("PagedBytes %d", w.PagedBytes())
	}
	if min := (raw + w.PageSize - 1) / w.PageSize; int64(w.NumPages()) < min {
		t.Errorf("%d pages hold %d bytes of %d-byte pages", w.NumPages(), raw, w.PageSize)
	}
}

func TestWeightLayout(t *testing.T) {
	mp := zoo(t, "tinycnn")
	var params int64
	for _, init := range mp.Graph.Initializer {
		params += int64(len(init.RawData))
	}
	for _, ps := range []int64{20000, 1 << 15, 1 << 16, engine.DefaultPageSize} {
		m := mustImport(t, mp, engine.Options{PageSize: ps})
		w := m.Weights
		checkLayout(t, w)
		if w.PageSize != ps {
			t.Errorf("page size %d, want %d", w.PageSize, ps)
		}
		// Folding drops the batch-norm statistics, so fewer bytes remain.
		if w.RawBytes <= 0 || w.RawBytes >= params {
			t.Errorf("page size %d: %d raw bytes from %d bytes of initializers", ps, w.RawBytes, params)
		}
		// First fit, largest first: close to the minimum.
		if min := (w.RawBytes + ps - 1) / ps; int64(w.NumPages()) > min+1 {
			t.Errorf("page size %d: %d pages for %d bytes", ps, w.NumPages(), w.RawBytes)
		}
		// An unfolded weight is stored as it is in the file.
		var fcw []float32
		for _, init := range mp.Graph.Initializer {
			if strings.HasPrefix(init.Name, "fc_") && strings.HasSuffix(init.Name, ".weight") {
				for i := 0; i < len(init.RawData); i += 4 {
					b := init.RawData[i:]
					fcw = append(fcw, float32frombits(uint32(b[0])|uint32(b[1])<<8|uint32(b[2])<<16|uint32(b[3])<<24))
				}
				if got := weightValues(m, init.Name); !slices.Equal(got, fcw) {
					t.Errorf("page size %d: %s differs in the pages", ps, init.Name)
				}
			}
		}
		if fcw == nil {
			t.Fatal("no fc weight in tinycnn")
		}
	}
}

func TestResNet50Pages(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a large model")
	}
	m := mustImport(t, zoo(t, "resnet50"), engine.Options{})
	checkLayout(t, m.Weights)
	// As the original's resnet50_v2: 7 pages of 16 MiB for about 102 MB.
	if n := m.Weights.NumPages(); n != 7 {
		t.Errorf("%d pages, want 7", n)
	}
	if raw := m.Weights.RawBytes; raw < 100e6 || raw > 103e6 {
		t.Errorf("raw weights %d bytes", raw)
	}
}

func TestGemmSplitAcrossPages(t *testing.T) {
	for _, transB := range []int{0, 1} {
		m := single([]int{40}, func(b *modelgen.Builder, x string) string {
			w := b.Normal("w", 0, 1, 40, 50)
			if transB == 1 {
				w = b.Normal("wt", 0, 1, 50, 40)
			}
			return b.Node("Gemm", []string{x, w, b.Normal("c", 0, 1, 50)}, num("transB", transB))
		})
		em := mustImport(t, m, engine.Options{PageSize: 2048})
		checkLayout(t, em.Weights)
		p := mustPlan(t, em, 2)
		// 40 floats = 160 bytes per column: 12 columns per 2 KiB page.
		if len(p.Ops) != 5 {
			t.Fatalf("transB=%d: %d ops, want 5 parts", transB, len(p.Ops))
		}
		next := 0
		for _, op := range p.Ops {
			g := op.(*engine.Gemm)
			if g.N0 != next || g.LDY != 50 || g.M != 2 || g.K != 40 || g.B.Bytes() > 2048 {
				t.Errorf("transB=%d: part %+v", transB, g)
			}
			if transB == 0 && g.LDB != g.N || transB == 1 && g.LDB != 40 {
				t.Errorf("transB=%d: LDB %d for N %d", transB, g.LDB, g.N)
			}
			next += g.N
		}
		if next != 50 {
			t.Errorf("parts cover %d columns", next)
		}
	}
}
