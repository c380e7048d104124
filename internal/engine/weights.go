package engine

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
)

// weightAlign aligns every weight within its page, as GPU libraries prefer.
const weightAlign = 256

// WeightLayout is the model's weights laid out in pages. No tensor crosses
// a page boundary, so the pages can live anywhere in the worker's page
// cache. Pages holds the host copy: page i's bytes from its start (at most
// PageSize; the last page is usually shorter).
type WeightLayout struct {
	PageSize int64
	Pages    [][]byte
	Tensors  []WeightTensor
	RawBytes int64 // Σ tensor sizes, without alignment padding
}

// WeightTensor is one weight tensor after folding and splitting.
type WeightTensor struct {
	Name   string
	Shape  []int
	Page   int
	Offset int64
}

// NumPages is the number of pages the weights occupy.
func (w *WeightLayout) NumPages() int { return len(w.Pages) }

// PagedBytes is NumPages × PageSize, the cache the model needs.
func (w *WeightLayout) PagedBytes() int64 { return int64(len(w.Pages)) * w.PageSize }

// ref locates weight i.
func (w *WeightLayout) ref(i int) TensorRef {
	t := &w.Tensors[i]
	return TensorRef{Region: Weights, Page: t.Page, Offset: t.Offset, Shape: t.Shape}
}

// gemmPart is the weight holding columns [n0, n0+n) of a split Gemm B.
type gemmPart struct {
	n0, n  int
	weight int
}

// layoutWeights collects the constants read at run time, splits Gemm
// weights larger than a page by columns, and packs everything into pages
// (first fit, largest first).
func (m *Model) layoutWeights(pageSize int64) error {
	w := &WeightLayout{PageSize: pageSize}
	m.Weights = w
	m.weightOf = make(map[int]int)
	m.gemmParts = make(map[int][]gemmPart)
	var data [][]float32
	add := func(name string, shape []int, f []float32) int {
		w.Tensors = append(w.Tensors, WeightTensor{Name: name, Shape: shape})
		data = append(data, f)
		return len(w.Tensors) - 1
	}
	use := func(n *node, v int) error {
		val := m.values[v]
		if val.kind != valConst {
			return nil
		}
		if _, done := m.weightOf[v]; done {
			return nil
		}
		isB := n.kind == nGemm && n.in[1] == v && n.in[0] != v
		if _, done := m.gemmParts[v]; done && isB {
			return nil
		}
		if val.c.f32 == nil {
			return n.errorf("input %q is a %s constant (float32 only)", val.name, dtypeName(val.c.dtype))
		}
		size := int64(len(val.c.f32)) * 4
		if size <= pageSize {
			m.weightOf[v] = add(val.name, val.c.dims, val.c.f32)
			return nil
		}
		if !isB {
			return n.errorf("weight %q (%d bytes) is larger than a page (%d bytes)", val.name, size, pageSize)
		}
		parts, err := splitGemmWeight(n, val, pageSize, add)
		if err != nil {
			return err
		}
		m.gemmParts[v] = parts
		return nil
	}
	for i := range m.nodes {
		n := &m.nodes[i]
		if n.dead {
			continue
		}
		for _, v := range n.in {
			if v < 0 {
				continue
			}
			if err := use(n, v); err != nil {
				return err
			}
		}
	}
	for _, o := range m.outputs {
		if m.values[o].kind != valConst {
			continue
		}
		if _, done := m.weightOf[o]; done {
			continue
		}
		c := m.values[o].c
		if int64(len(c.f32))*4 > pageSize {
			return errorf("output %q is a constant larger than a page", m.values[o].name)
		}
		m.weightOf[o] = add(m.values[o].name, c.dims, c.f32)
	}
	w.pack(data)
	return nil
}

// splitGemmWeight cuts B of a Gemm into column parts that fit a page. With
// transB, B is [N, K] and a part is a run of rows; otherwise B is [K, N]
// and each part's columns are copied into a [K, n] tensor.
func splitGemmWeight(n *node, val value, pageSize int64, add func(string, []int, []float32) int) ([]gemmPart, error) {
	if len(val.c.dims) != 2 {
		return nil, n.errorf("weight %q has shape %v, want 2-D", val.name, val.c.dims)
	}
	k, cols := val.c.dims[0], val.c.dims[1]
	trans := n.gemm.transB && !n.gemm.matmul
	if trans {
		k, cols = cols, k
	}
	per := int(pageSize / (int64(k) * 4))
	if per == 0 {
		return nil, n.errorf("weight %q: one column (%d bytes) is larger than a page (%d bytes)", val.name, k*4, pageSize)
	}
	var parts []gemmPart
	for n0 := 0; n0 < cols; n0 += per {
		cnt := min(per, cols-n0)
		name := fmt.Sprintf("%s[cols %d:%d]", val.name, n0, n0+cnt)
		var part []float32
		var shape []int
		if trans {
			part, shape = val.c.f32[n0*k:(n0+cnt)*k], []int{cnt, k}
		} else {
			part, shape = make([]float32, k*cnt), []int{k, cnt}
			for r := range k {
				copy(part[r*cnt:(r+1)*cnt], val.c.f32[r*cols+n0:])
			}
		}
		parts = append(parts, gemmPart{n0: n0, n: cnt, weight: add(name, shape, part)})
	}
	return parts, nil
}

// pack places the tensors in pages and fills the host copy.
func (w *WeightLayout) pack(data [][]float32) {
	order := make([]int, len(w.Tensors))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(len(data[b]), len(data[a])) })
	var used []int64
	for _, i := range order {
		size := int64(len(data[i])) * 4
		w.RawBytes += size
		page := -1
		for p, u := range used {
			if alignUp(u, weightAlign)+size <= w.PageSize {
				page = p
				break
			}
		}
		if page < 0 {
			used = append(used, 0)
			page = len(used) - 1
		}
		off := alignUp(used[page], weightAlign)
		w.Tensors[i].Page, w.Tensors[i].Offset = page, off
		used[page] = off + size
	}
	w.Pages = make([][]byte, len(used))
	for p, u := range used {
		w.Pages[p] = make([]byte, u)
	}
	for i, t := range w.Tensors {
		dst := w.Pages[t.Page][t.Offset:]
		for j, f := range data[i] {
			binary.LittleEndian.PutUint32(dst[4*j:], math.Float32bits(f))
		}
	}
}

func alignUp(x, a int64) int64 { return (x + a - 1) / a * a }
