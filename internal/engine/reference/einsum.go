package reference

import (
	"fmt"
	"slices"
	"strings"
)

// einsum is ONNX's Einsum (numpy's einsum): each output element is the
// sum, over every value of the labels the output does not have, of the
// product of the operands' elements the labels pick. An ellipsis stands
// for the axes a term's labels leave, aligned on the right and broadcast
// where one is 1; without "->" the output is the ellipsis's axes, then
// the labels that appear once, in alphabetical order.
func einsum(eq string, xs []Tensor) (Tensor, error) {
	eq = strings.ReplaceAll(eq, " ", "")
	lhs, rhs, explicit := strings.Cut(eq, "->")
	terms := strings.Split(lhs, ",")
	if len(terms) != len(xs) {
		return Tensor{}, fmt.Errorf("einsum %q: %d terms for %d inputs", eq, len(terms), len(xs))
	}
	// Labels are runes; an ellipsis's axes are the runes 0 (the widest
	// ellipsis's first), 1, ...
	widest := 0
	for i, t := range terms {
		if strings.Contains(t, "...") {
			widest = max(widest, len(xs[i].Shape)-(len(t)-3))
		}
	}
	expand := func(t string, axes int) []rune {
		var out []rune
		before, after, ok := strings.Cut(t, "...")
		out = append(out, []rune(before)...)
		if ok {
			for j := range axes {
				out = append(out, rune(widest-axes+j))
			}
			out = append(out, []rune(after)...)
		}
		return out
	}
	labels := make([][]rune, len(xs))
	sizes := map[rune]int{}
	count := map[rune]int{}
	for i, t := range terms {
		labels[i] = expand(t, len(xs[i].Shape)-(len(t)-3))
		if len(labels[i]) != len(xs[i].Shape) {
			return Tensor{}, fmt.Errorf("einsum %q: term %q for shape %v", eq, t, xs[i].Shape)
		}
		for d, l := range labels[i] {
			if s := xs[i].Shape[d]; s != 1 || sizes[l] == 0 {
				sizes[l] = max(sizes[l], s)
			}
			count[l]++
		}
	}
	var out []rune
	if explicit {
		out = expand(rhs, widest)
	} else {
		for j := range widest {
			out = append(out, rune(j))
		}
		var once []rune
		for l, c := range count {
			if c == 1 && l >= 'A' {
				once = append(once, l)
			}
		}
		slices.Sort(once)
		out = append(out, once...)
	}
	// Every label, the output's first: the index runs over all of them.
	all := slices.Clone(out)
	for _, ls := range labels {
		for _, l := range ls {
			if !slices.Contains(all, l) {
				all = append(all, l)
			}
		}
	}
	dims := make([]int, len(all))
	for i, l := range all {
		dims[i] = sizes[l]
	}
	y := newTensor(dims[:len(out)]...)
	idx := make([]int, len(all))
	for range size(dims) {
		p := float32(1)
		for i, x := range xs {
			o := 0
			for d, l := range labels[i] {
				v := idx[slices.Index(all, l)]
				if x.Shape[d] == 1 {
					v = 0
				}
				o = o*x.Shape[d] + v
			}
			p *= x.Data[o]
		}
		o := 0
		for d := range out {
			o = o*dims[d] + idx[d]
		}
		y.Data[o] += p
		for d := len(all) - 1; d >= 0; d-- {
			if idx[d]++; idx[d] < dims[d] {
				break
			}
			idx[d] = 0
		}
	}
	return y, nil
}
