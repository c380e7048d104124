package reference

import (
	"slices"
	"testing"
)

func seq(shape ...int) Tensor {
	t := newTensor(shape...)
	for i := range t.Data {
		t.Data[i] = float32(i%7) - 2.5
	}
	return t
}

// TestEinsum checks Einsum against the operations it spells, computed by
// the reference's own MatMul and by hand, and numpy's rules for implicit
// outputs and ellipses.
func TestEinsum(t *testing.T) {
	a, b := seq(2, 3, 4), seq(2, 4, 5)
	m := seq(3, 4)
	for _, tc := range []struct {
		eq   string
		xs   []Tensor
		want Tensor
	}{
		{"bij,bjk->bik", []Tensor{a, b}, matmul(a, b)},
		{"bij,bjk", []Tensor{a, b}, matmul(a, b)}, // implicit: i and k, b summed (below)
		{"ij,jk->ik", []Tensor{m, seq(4, 2)}, matmul(m, seq(4, 2))},
		{"ij,jk", []Tensor{m, seq(4, 2)}, matmul(m, seq(4, 2))},
		{"...ij,...jk->...ik", []Tensor{a, b}, matmul(a, b)},
		{"...ij,jk->...ik", []Tensor{a, seq(4, 5)}, matmul(a, seq(4, 5))},
		{"ij->ji", []Tensor{m}, Tensor{Shape: []int{4, 3}, Data: transpose2(m)}},
		{"ji", []Tensor{m}, Tensor{Shape: []int{4, 3}, Data: transpose2(m)}}, // implicit: alphabetical, so m's axes swap
		{"ij->i", []Tensor{m}, Tensor{Shape: []int{3}, Data: rowSums(m)}},
		{"ij->", []Tensor{m}, Tensor{Shape: []int{}, Data: []float32{sum(m.Data)}}},
	} {
		got, err := einsum(tc.eq, tc.xs)
		if err != nil {
			t.Errorf("%s: %v", tc.eq, err)
			continue
		}
		if tc.eq == "bij,bjk" { // implicit output: i and k, b summed
			tc.want = sumFirst(tc.want)
		}
		if !slices.Equal(got.Shape, tc.want.Shape) || maxDiff(got.Data, tc.want.Data) > 1e-4 {
			t.Errorf("%s: %v %v, want %v %v", tc.eq, got.Shape, got.Data, tc.want.Shape, tc.want.Data)
		}
	}
	// An ellipsis broadcasts: [2, 1, 3, 4] by [5, 4, 2].
	x, y := seq(2, 1, 3, 4), seq(5, 4, 2)
	got, err := einsum("...ij,...jk->...ik", []Tensor{x, y})
	if err != nil || !slices.Equal(got.Shape, []int{2, 5, 3, 2}) {
		t.Fatalf("broadcast: %v %v", got.Shape, err)
	}
	if want := matmul(x, y); maxDiff(got.Data, want.Data) > 1e-4 {
		t.Errorf("broadcast: %v, want %v", got.Data, want.Data)
	}
}

func transpose2(m Tensor) []float32 {
	r, c := m.Shape[0], m.Shape[1]
	out := make([]float32, r*c)
	for i := range r {
		for j := range c {
			out[j*r+i] = m.Data[i*c+j]
		}
	}
	return out
}

func rowSums(m Tensor) []float32 {
	c := m.Shape[1]
	out := make([]float32, m.Shape[0])
	for i := range out {
		out[i] = sum(m.Data[i*c : (i+1)*c])
	}
	return out
}

func sum(v []float32) float32 {
	var s float32
	for _, x := range v {
		s += x
	}
	return s
}

// sumFirst sums t over its first axis.
func sumFirst(t Tensor) Tensor {
	n := len(t.Data) / t.Shape[0]
	out := Tensor{Shape: t.Shape[1:], Data: make([]float32, n)}
	for i, v := range t.Data {
		out.Data[i%n] += v
	}
	return out
}

func maxDiff(a, b []float32) float32 {
	if len(a) != len(b) {
		return 1e9
	}
	var d float32
	for i := range a {
		d = max(d, a[i]-b[i], b[i]-a[i])
	}
	return d
}
